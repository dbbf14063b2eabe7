import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type FakeGraphApi, startFakeGraphApi } from '../../fakes/graph-api.ts';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { createTestDb, dbBackends, type TestDb } from '../../support/db.ts';
import { createTestKv, kvBackends, type TestKv } from '../../support/kv.ts';
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

describe.each(dbBackends.map((db, i) => [db, kvBackends[i] ?? 'memory'] as const))(
  'restart mid-application on %s + %s',
  (dbBackend, kvBackend) => {
    let db: TestDb;
    let kv: TestKv;
    let graph: FakeGraphApi;
    let t: TestApp;

    beforeAll(async () => {
      db = await createTestDb(dbBackend);
      kv = await createTestKv(kvBackend);
      graph = await startFakeGraphApi();
      t = await startTestApp({ overrides: { db: db.client, kv: kv.store }, graph });
      expect((await t.api('POST', '/api/processes', PROCESS)).status).toBe(201);
    });
    afterAll(async () => {
      await t.close();
      await graph.close();
      await kv.destroy();
      await db.destroy();
    });

    // The replies after the discard must not point their transcript lines at the discarded application.
    test('confirming a restart offers the processes again', async () => {
      const c = candidatePhone(t, graph, `447${String(Date.now()).slice(-8)}`);
      await c.say({ type: 'text', body: 'hello' }, hasIds('consent.accept'));
      await c.say({ type: 'button_reply', id: 'consent.accept', title: 'OK' }, hasIds('RST1'));
      await c.say({ type: 'list_reply', id: 'RST1', title: 'Restartable' }, (r) => r.length > 0, 'name question');
      await c.say({ type: 'text', body: 'restart' }, (r) => r.length > 0, 'restart confirmation');
      await c.say({ type: 'text', body: 'yes' }, hasIds('RST1'), 'the process list again');
    });
  },
);
