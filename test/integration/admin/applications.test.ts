import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CacheService } from '../../../src/cache/cache-service.ts';
import { phoneHash } from '../../../src/conversation/sessions.ts';
import { createCvAnalysisService } from '../../../src/cv/analysis-service.ts';
import { createOfflineAnalyzer } from '../../../src/cv/analyzer-offline.ts';
import { rowsOf } from '../../../src/db/rows.ts';
import { createLogger } from '../../../src/logger.ts';
import { buildTextPdf } from '../../fakes/cv-files.ts';
import type { FakeGraphApi } from '../../fakes/graph-api.ts';
import { startWebhookReceiver } from '../../fakes/webhook-receiver.ts';
import { type AppFixture, backendPairs, settled, startAppFixture, type TestApp, until } from '../../support/app.ts';
import type { TestDb } from '../../support/db.ts';
import { bodyOf, type JsonBody } from '../../support/http.ts';
import type { TestKv } from '../../support/kv.ts';
import { apply, createProcess, processBody } from './harness.ts';

const WEAK_CV = [
  'Luis Pérez',
  'Line cook',
  'Experience',
  'Line cook at Casa Pepe, 2018 - present: prepared meals for two hundred guests a day.',
  'Kitchen assistant at Bar Sol, 2015 - 2018: cleaning, stock and deliveries.',
  'Languages',
  'Spanish (native)',
];

/** Every text column and JSON value of every table, as one string per row. */
async function everyRow(db: TestDb): Promise<string[]> {
  const tables = [
    'candidates',
    'applications',
    'application_status_history',
    'transcript_entries',
    'inbound_messages',
    'conversations',
    'outbox',
  ];
  const rows: string[] = [];
  for (const table of tables) {
    const result = await db.client.db.execute(sql.raw(`select t::text as row from ${table} t`));
    rows.push(...rowsOf<{ row: string }>(result).map((r) => `${table}: ${r.row}`));
  }
  return rows;
}

describe.each(backendPairs)('applications, decisions and erasure on %s + %s', (dbBackend, kvBackend) => {
  let db: TestDb;
  let kv: TestKv;
  let graph: FakeGraphApi;
  let t: TestApp;
  let process: JsonBody;

  let f: AppFixture;

  beforeAll(async () => {
    f = await startAppFixture(dbBackend, kvBackend, { OUTBOX_MAX_ATTEMPTS: '2' });
    ({ db, kv, graph, t } = f);
    process = await createProcess(t, processBody('APPS1'));
  });
  afterAll(() => f?.close());

  let strong: Awaited<ReturnType<typeof apply>>;
  let weak: Awaited<ReturnType<typeof apply>>;

  test('applications are listed with filters and pagination, sorted by score', async () => {
    strong = await apply(t, graph, db, 'APPS1', { name: 'Ana Strong', email: 'ana.strong@example.com' });
    weak = await apply(t, graph, db, 'APPS1', {
      name: 'Luis Weak',
      email: 'luis.weak@example.com',
      cv: await buildTextPdf([WEAK_CV]),
    });
    expect(strong.application.score).not.toBeNull();
    expect(weak.application.score).not.toBeNull();
    expect(strong.application.score as number).toBeGreaterThan(weak.application.score as number);

    const byScore = await bodyOf(await t.api('GET', `/api/applications?processId=${process.id}`));
    expect(byScore).toMatchObject({ total: 2, limit: 50, offset: 0 });
    expect(byScore.items.map((a: JsonBody) => a.id)).toEqual([strong.application.id, weak.application.id]);
    expect(byScore.items[0]).toMatchObject({ candidateName: 'Ana Strong', score: strong.application.score });

    const byDate = await bodyOf(await t.api('GET', `/api/applications?processId=${process.id}&sort=created`));
    expect(byDate.items.map((a: JsonBody) => a.id)).toEqual([weak.application.id, strong.application.id]);

    const second = await bodyOf(await t.api('GET', `/api/applications?processId=${process.id}&limit=1&offset=1`));
    expect(second).toMatchObject({ total: 2, limit: 1, offset: 1 });
    expect(second.items.map((a: JsonBody) => a.id)).toEqual([weak.application.id]);

    const byStatus = await bodyOf(await t.api('GET', `/api/applications?status=${strong.application.status}`));
    expect(byStatus.items.every((a: JsonBody) => a.status === strong.application.status)).toBe(true);
    expect(byStatus.items.map((a: JsonBody) => a.id)).toContain(strong.application.id);
    const none = await bodyOf(await t.api('GET', '/api/applications?status=hired'));
    expect(none).toMatchObject({ total: 0, items: [] });
  });

  test('an application shows candidate, answers, analysis with evidence, breakdown, history and transcript', async () => {
    const app = await bodyOf(await t.api('GET', `/api/applications/${strong.application.id}`));
    expect(app.candidate).toMatchObject({ name: 'Ana Strong', email: 'ana.strong@example.com', erased: false });
    expect(app.process).toMatchObject({ id: process.id, code: 'APPS1' });
    expect(app.answers).toEqual([
      { questionId: 'permit', question: 'Do you have a work permit?', type: 'yes_no', answer: true },
    ]);
    expect(app.analysisState).toBe('done');
    expect(JSON.stringify(app.analysis)).toMatch(/evidence/);
    expect(app.scoreBreakdown).toBeTruthy();
    expect(app.statusHistory.map((h: JsonBody) => h.to)).toEqual(['submitted', app.status]);
    expect(app.transcript.some((l: JsonBody) => l.direction === 'in' && l.body === 'Ana Strong')).toBe(true);
  });

  test('recruiter decisions: allowed ones are recorded, refused ones are 409 with the allowed ones', async () => {
    const id = strong.application.id;
    const path = `/api/applications/${id}/status`;
    const from = strong.application.status;
    expect(['shortlisted', 'review']).toContain(from);

    const early = await bodyOf(await t.api('POST', path, { status: 'hired' }));
    expect(early.error).toMatchObject({ code: 'invalid_transition' });
    expect(early.error.details.from).toBe(from);
    expect(early.error.details.allowed.sort()).toEqual(
      (from === 'shortlisted' ? ['review', 'interview', 'rejected'] : ['shortlisted', 'interview', 'rejected']).sort(),
    );

    const interview = await t.api('POST', path, { status: 'interview', note: 'Strong backend profile' });
    expect(interview.status).toBe(200);
    const after = await bodyOf(interview);
    expect(after.status).toBe('interview');
    expect(after.statusHistory.at(-1)).toMatchObject({
      from,
      to: 'interview',
      actor: 'recruiter',
      reason: 'Strong backend profile',
    });

    const skip = await t.api('POST', path, { status: 'hired' });
    expect(skip.status).toBe(409);
    expect((await bodyOf(skip)).error.details).toEqual({ from: 'interview', allowed: ['offer', 'rejected'] });

    expect((await t.api('POST', path, { status: 'offer' })).status).toBe(200);
    expect((await t.api('POST', path, { status: 'hired' })).status).toBe(200);
    const done = await t.api('POST', path, { status: 'rejected' });
    expect(done.status).toBe(409);
    expect((await bodyOf(done)).error.details).toEqual({ from: 'hired', allowed: [] });

    const final = await bodyOf(await t.api('GET', `/api/applications/${id}`));
    expect(final.statusHistory.map((h: JsonBody) => h.to)).toEqual(['submitted', from, 'interview', 'offer', 'hired']);

    // A rejection can be reconsidered (rejected -> review), nothing else.
    const w = `/api/applications/${weak.application.id}/status`;
    if (weak.application.status !== 'rejected')
      expect((await t.api('POST', w, { status: 'rejected' })).status).toBe(200);
    const reconsider = await bodyOf(await t.api('POST', w, { status: 'interview' }));
    expect(reconsider.error.details).toEqual({ from: 'rejected', allowed: ['review'] });
    expect((await t.api('POST', w, { status: 'review' })).status).toBe(200);
  });

  test('erasure removes personal data from Postgres and the cache; the phone can apply again', async () => {
    const who = await apply(t, graph, db, 'APPS1', { name: 'Zoe Erasable', email: 'zoe.erasable@example.com' });
    const phone = who.phone.phone;
    const needles = [phone, who.phone.waId, 'Zoe Erasable', 'zoe.erasable@example.com'];
    const leaks = async () => (await everyRow(db)).filter((row) => needles.some((n) => row.includes(n)));
    expect((await leaks()).length).toBeGreaterThan(0);

    // The session and the cached analysis of the CV are in the cache.
    const sessionKey = `sessions:${phoneHash(phone)}`;
    const analysis = createCvAnalysisService({
      analyzer: createOfflineAnalyzer(),
      cache: new CacheService(kv.store, { prefix: 'analysis', ttlSeconds: 60 }),
      logger: createLogger({ level: 'silent' }),
    });
    const analysisKey = `analysis:${analysis.cacheKey(who.application.cvText as string, process.requirements)}`;
    expect(await kv.store.exists(sessionKey)).toBe(true);
    expect(await kv.store.exists(analysisKey)).toBe(true);

    await settled(db);
    const res = await t.api('DELETE', `/api/candidates/${who.candidate.id}`);
    expect(res.status).toBe(200);
    expect(await bodyOf(res)).toEqual({ erased: true });
    await settled(db);

    expect(await leaks()).toEqual([]);
    expect(await kv.store.exists(sessionKey)).toBe(false);
    expect(await kv.store.exists(analysisKey)).toBe(false);

    const app = await bodyOf(await t.api('GET', `/api/applications/${who.application.id}`));
    expect(app.candidate).toMatchObject({ name: null, email: null, phone: null, erased: true });
    expect(app.answers.map((a: JsonBody) => a.answer)).toEqual([null]);
    expect(app.analysis).toBeNull();
    expect(app.transcript).toEqual([]);
    expect((await t.api('DELETE', `/api/candidates/${who.candidate.id}`)).status).toBe(404);

    const again = await apply(t, graph, db, 'APPS1', {
      waId: who.phone.waId,
      name: 'Zoe Again',
      email: 'zoe.again@example.com',
    });
    expect(again.candidate.id).not.toBe(who.candidate.id);
    expect(again.candidate.phone).toBe(phone);
    expect(again.application.id).not.toBe(who.application.id);
  });

  test('dead events are listed and retried once the receiver is fixed', async () => {
    const receiver = await startWebhookReceiver();
    try {
      receiver.failNext(1_000);
      const p = await createProcess(
        t,
        processBody('DEAD1', { status: 'draft', recruiters: [{ name: 'Hook', webhookUrl: receiver.url }] }),
      );
      expect((await t.api('PATCH', `/api/processes/${p.id}`, { status: 'open' })).status).toBe(200);
      const dead = await until('a dead webhook event', async () => {
        const list = await bodyOf(await t.api('GET', '/api/events?state=dead'));
        return (list.items as JsonBody[]).find((e) => e.type === 'notify.webhook' && e.payload.url === receiver.url);
      });
      expect(dead.attempts).toBe(2);
      expect(dead.lastError).toMatch(/503/);
      expect(receiver.deliveries).toHaveLength(2);
      const listed = await bodyOf(await t.api('GET', '/api/events'));
      expect(listed).toMatchObject({ limit: 50, offset: 0 });
      expect(listed.items.map((e: JsonBody) => e.id)).toContain(dead.id);

      receiver.failNext(0);
      const retried = await t.api('POST', `/api/events/${dead.id}/retry`);
      expect(retried.status).toBe(200);
      await receiver.waitFor(() => receiver.accepted().length === 1);
      await settled(db);
      expect(receiver.accepted()).toHaveLength(1);
      expect(receiver.accepted()[0]?.headers['x-event-id']).toBe(dead.payload.eventId);
      const stillDead = await bodyOf(await t.api('GET', '/api/events?state=dead'));
      expect(stillDead.items.map((e: JsonBody) => e.id)).not.toContain(dead.id);
      expect((await t.api('POST', `/api/events/${dead.id}/retry`)).status).toBe(404);
    } finally {
      await receiver.close();
    }
  });

  test('/metrics shows the funnel: applications by process and status, time to submit, drop-off', async () => {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(text).toMatch(/^recruiting_applications\{process="APPS1",status="hired"\} 1$/m);
    const count = /^conversation_time_to_submit_seconds_count (\d+)$/m.exec(text);
    expect(Number(count?.[1])).toBeGreaterThanOrEqual(4);
    expect(text).toMatch(/^# TYPE recruiting_in_progress_by_step gauge$/m);
  });
});
