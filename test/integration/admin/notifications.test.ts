import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTransactionManager } from '../../../src/db/transaction-manager.ts';
import { createUnitOfWork } from '../../../src/db/unit-of-work.ts';
import { createLogger } from '../../../src/logger.ts';
import { createApplicationRepository } from '../../../src/recruiting/applications.ts';
import { createStatusChanges } from '../../../src/recruiting/status-changes.ts';
import type { FakeGraphApi } from '../../fakes/graph-api.ts';
import { type Delivery, startWebhookReceiver } from '../../fakes/webhook-receiver.ts';
import { type AppFixture, backendPairs, settled, startAppFixture, type TestApp, until } from '../../support/app.ts';
import type { TestDb } from '../../support/db.ts';
import { bodyOf, type JsonBody } from '../../support/http.ts';
import { view } from '../conversation/candidate.ts';
import { apply, createProcess, processBody } from './harness.ts';

const SECRET = 'notify-secret-for-tests';

type Receiver = Awaited<ReturnType<typeof startWebhookReceiver>>;

/** Asserts the delivery is signed with SECRET and carries its body's event id; returns the body. */
function verified(d: Delivery): JsonBody {
  const expected = `sha256=${createHmac('sha256', SECRET).update(d.body).digest('hex')}`;
  expect(d.headers['x-signature-256']).toBe(expected);
  const body = JSON.parse(d.body) as JsonBody;
  expect(d.headers['x-event-id']).toBe(body.eventId);
  return body;
}

const forProcess = (r: Receiver, code: string) =>
  r.deliveries.filter((d) => (JSON.parse(d.body) as JsonBody).process?.code === code);

describe.each(backendPairs)('notifications on %s + %s', (dbBackend, kvBackend) => {
  let db: TestDb;
  let graph: FakeGraphApi;
  let t: TestApp;
  let global: Receiver;
  let hook: Receiver;

  let f: AppFixture;

  beforeAll(async () => {
    global = await startWebhookReceiver();
    hook = await startWebhookReceiver();
    f = await startAppFixture(dbBackend, kvBackend, { NOTIFY_WEBHOOK_URL: global.url, NOTIFY_WEBHOOK_SECRET: SECRET });
    ({ db, graph, t } = f);
  });
  afterAll(async () => {
    await f?.close();
    await global?.close();
    await hook?.close();
  });

  test('a completed application notifies each recruiter once, on WhatsApp and signed webhooks', async () => {
    await createProcess(
      t,
      processBody('NOTE1', {
        recruiters: [
          { name: 'Rita', phone: '+34600000901', webhookUrl: hook.url },
          { name: 'Raúl', phone: '+34600000902' },
        ],
      }),
    );
    const { application } = await apply(t, graph, db, 'NOTE1', { name: 'Ana Notified' });
    await settled(db);

    for (const phone of ['34600000901', '34600000902']) {
      const sent = graph.sentTo(phone);
      expect(sent, phone).toHaveLength(1);
      // Recruiters never opened a 24-hour window: the notice goes as a template.
      expect(sent[0]?.type).toBe('template');
      expect(view(sent[0]!).text).toMatch(/NOTE1.*Ana Notified/);
    }

    const toRecruiter = forProcess(hook, 'NOTE1');
    const toDefault = forProcess(global, 'NOTE1');
    expect(toRecruiter).toHaveLength(1);
    expect(toDefault).toHaveLength(1);
    const body = verified(toRecruiter[0]!);
    expect(verified(toDefault[0]!).eventId).toBe(body.eventId);
    expect(body).toMatchObject({
      type: 'application.status_changed',
      process: { code: 'NOTE1' },
      application: { id: application.id, from: 'submitted', to: application.status, score: application.score },
      candidate: { name: 'Ana Notified' },
    });
  });

  test('a receiver that fails three times then succeeds gets exactly one successful delivery, same event id', async () => {
    const flaky = await startWebhookReceiver();
    try {
      flaky.failNext(3);
      const p = await createProcess(
        t,
        processBody('FLAKY1', { status: 'draft', recruiters: [{ name: 'Flo', webhookUrl: flaky.url }] }),
      );
      expect((await t.api('PATCH', `/api/processes/${p.id}`, { status: 'open' })).status).toBe(200);
      await flaky.waitFor(() => flaky.accepted().length > 0, 25_000);
      await settled(db);
      expect(flaky.deliveries.map((d) => d.status)).toEqual([503, 503, 503, 200]);
      const ids = new Set(flaky.deliveries.map((d) => verified(d).eventId));
      expect(ids.size).toBe(1);
      expect(JSON.parse(flaky.accepted()[0]!.body)).toMatchObject({
        type: 'process.status_changed',
        process: { id: p.id, from: 'draft', to: 'open' },
      });
      // The default receiver, which never failed, heard it once.
      expect(forProcess(global, 'FLAKY1')).toHaveLength(1);
    } finally {
      await flaky.close();
    }
  }, 40_000);

  test.each([
    ['es', /¡Buenas noticias! Queremos entrevistarte/],
    ['en', /Good news! We would like to interview you/],
  ] as const)('a recruiter decision reaches the candidate in their language (%s)', async (locale, expected) => {
    const code = `DEC${locale.toUpperCase()}`;
    await createProcess(t, processBody(code));
    const who = await apply(t, graph, db, code, { locale });
    await settled(db);
    const before = who.phone.replies().length;
    const res = await t.api('POST', `/api/applications/${who.application.id}/status`, { status: 'interview' });
    expect(res.status).toBe(200);
    const notice = await until('the decision notice', () =>
      who.phone
        .replies()
        .slice(before)
        .find((m) => m.text),
    );
    expect(notice.text).toMatch(expected);
    expect(notice.text).toContain(`Backend developer ${code}`);
    await settled(db);
    expect(who.phone.replies().slice(before)).toHaveLength(1);
  });

  test('a rolled-back decision notifies nobody', async () => {
    await createProcess(
      t,
      processBody('ROLL1', { recruiters: [{ name: 'Rob', phone: '+34600000903', webhookUrl: hook.url }] }),
    );
    const who = await apply(t, graph, db, 'ROLL1');
    await settled(db);
    const seen = {
      candidate: who.phone.replies().length,
      recruiter: graph.sentTo('34600000903').length,
      hook: forProcess(hook, 'ROLL1').length,
      global: forProcess(global, 'ROLL1').length,
    };

    // The decision the API makes, in a transaction that fails after it.
    const logger = createLogger({ level: 'silent' });
    const uow = createUnitOfWork(db.client, logger);
    const tm = createTransactionManager({ uow, logger });
    const statusChanges = createStatusChanges({ tm, applications: createApplicationRepository(uow) });
    await expect(
      tm.transactional(async () => {
        await statusChanges.change(who.application.id, 'interview', {
          actor: 'recruiter',
          reason: null,
          at: new Date(),
        });
        throw new Error('the decision fails after the change');
      }),
    ).rejects.toThrow(/fails after/);
    // And one the API refuses.
    expect((await t.api('POST', `/api/applications/${who.application.id}/status`, { status: 'hired' })).status).toBe(
      409,
    );

    // A decision that commits afterwards proves the pipeline was alive all along.
    expect((await t.api('POST', `/api/applications/${who.application.id}/status`, { status: 'rejected' })).status).toBe(
      200,
    );
    await until('the rejection notice', () => who.phone.replies().length > seen.candidate);
    await settled(db);
    const app = await bodyOf(await t.api('GET', `/api/applications/${who.application.id}`));
    expect(app.statusHistory.map((h: JsonBody) => h.to)).not.toContain('interview');
    expect(
      who.phone
        .replies()
        .slice(seen.candidate)
        .map((m) => m.text),
    ).toEqual([expect.stringMatching(/Gracias por postularte/)]);
    expect(graph.sentTo('34600000903')).toHaveLength(seen.recruiter + 1);
    const toHook = forProcess(hook, 'ROLL1').slice(seen.hook);
    expect(toHook.map((d) => (JSON.parse(d.body) as JsonBody).application.to)).toEqual(['rejected']);
    expect(forProcess(global, 'ROLL1')).toHaveLength(seen.global + 1);
  });

  test('notifyOn per process limits what recruiters hear', async () => {
    const p = await createProcess(
      t,
      processBody('QUIET1', {
        notifyOn: ['interview'],
        recruiters: [{ name: 'Quinn', phone: '+34600000904', webhookUrl: hook.url }],
      }),
    );
    expect(p.notifyOn).toEqual(['interview']);
    const who = await apply(t, graph, db, 'QUIET1');
    await settled(db);
    expect(graph.sentTo('34600000904')).toEqual([]);
    expect(forProcess(hook, 'QUIET1')).toEqual([]);
    expect(forProcess(global, 'QUIET1')).toEqual([]);

    await t.api('POST', `/api/applications/${who.application.id}/status`, { status: 'interview' });
    await until('the interview notice to the recruiter', () => graph.sentTo('34600000904').length > 0);
    await settled(db);
    expect(graph.sentTo('34600000904')).toHaveLength(1);
    expect(forProcess(hook, 'QUIET1').map((d) => verified(d).application.to)).toEqual(['interview']);
    expect(forProcess(global, 'QUIET1')).toHaveLength(1);

    // Changing notifyOn takes effect at once (the cached process is invalidated).
    await t.api('PATCH', `/api/processes/${p.id}`, { notifyOn: ['offer'] });
    await t.api('POST', `/api/applications/${who.application.id}/status`, { status: 'rejected' });
    await settled(db);
    expect(graph.sentTo('34600000904')).toHaveLength(1);
  });
});
