import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { FakeGraphApi } from '../../fakes/graph-api.ts';
import { type AppFixture, backendPairs, startAppFixture, type TestApp } from '../../support/app.ts';
import { candidatePhone, hasIds } from './candidate.ts';

const PROCESS = {
  code: 'RST1',
  title: 'Restartable',
  description: 'A process to restart',
  requirements: { skills: ['TypeScript'] },
  questions: [{ id: 'why', text: 'Why us?', type: 'text' }],
  thresholds: { shortlist: 60, reject: 20 },
  recruiters: [],
  status: 'open',
};

describe.each(backendPairs)('restart mid-application on %s + %s', (dbBackend, kvBackend) => {
  let f: AppFixture;
  let graph: FakeGraphApi;
  let t: TestApp;

  beforeAll(async () => {
    f = await startAppFixture(dbBackend, kvBackend);
    ({ graph, t } = f);
    expect((await t.api('POST', '/api/processes', PROCESS)).status).toBe(201);
  });
  afterAll(() => f?.close());

  // The replies after the discard must not point their transcript lines at the discarded application.
  test('confirming a restart offers the processes again', async () => {
    const c = candidatePhone(t, graph, `447${String(Date.now()).slice(-8)}`);
    await c.say({ type: 'text', body: 'hello' }, hasIds('consent.accept'));
    await c.say({ type: 'button_reply', id: 'consent.accept', title: 'OK' }, hasIds('RST1'));
    await c.say({ type: 'list_reply', id: 'RST1', title: 'Restartable' }, (r) => r.length > 0, 'name question');
    await c.say({ type: 'text', body: 'restart' }, (r) => r.length > 0, 'restart confirmation');
    await c.say({ type: 'text', body: 'yes' }, hasIds('RST1'), 'the process list again');
  });
});
