import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createConversationLog } from '../../../src/conversation/log.ts';
import { inboundMessages } from '../../../src/db/schema.ts';
import { createApplicationRepository } from '../../../src/recruiting/applications.ts';
import { createCandidateRepository } from '../../../src/recruiting/candidates.ts';
import { createProcessRepository } from '../../../src/recruiting/processes.ts';
import { createTestDb, dbBackends, type TestDb } from '../../support/db.ts';

describe.each(dbBackends)('recruiting repositories on %s', (backend) => {
  let t: TestDb;
  let repos: {
    processes: ReturnType<typeof createProcessRepository>;
    candidates: ReturnType<typeof createCandidateRepository>;
    applications: ReturnType<typeof createApplicationRepository>;
    log: ReturnType<typeof createConversationLog>;
  };

  beforeAll(async () => {
    t = await createTestDb(backend);
    const access = { db: t.client.db };
    repos = {
      processes: createProcessRepository(access),
      candidates: createCandidateRepository(access),
      applications: createApplicationRepository(access),
      log: createConversationLog(access),
    };
  });
  afterAll(() => t.destroy());

  const newProcess = (code: string, status: 'open' | 'draft' = 'open') =>
    repos.processes.insert({
      code,
      title: `Title ${code}`,
      requirements: { skills: ['typescript'] },
      thresholds: { shortlist: 70, reject: 30 },
      status,
    });

  test('open processes are listed by code; lists paginate with a total', async () => {
    await newProcess('B1');
    await newProcess('A1');
    await newProcess('Z9', 'draft');
    expect((await repos.processes.listOpen()).map((p) => p.code)).toEqual(['A1', 'B1']);
    const page = await repos.processes.list({ limit: 2, offset: 0 });
    expect(page.total).toBe(3);
    expect(page.items).toHaveLength(2);
    expect((await repos.processes.list({ status: 'draft', limit: 10, offset: 0 })).items.map((p) => p.code)).toEqual([
      'Z9',
    ]);
  });

  test('findOrCreate is idempotent per phone', async () => {
    const a = await repos.candidates.findOrCreate('+34600000001', 'es');
    const b = await repos.candidates.findOrCreate('+34600000001', 'en');
    expect(b.id).toBe(a.id);
    expect(b.locale).toBe('es');
  });

  test('status changes write history; lists sort by score with nulls last', async () => {
    const p = await newProcess('S1');
    const ids: string[] = [];
    for (const [i, score] of [40, null, 90].entries()) {
      const c = await repos.candidates.findOrCreate(`+3460000010${i}`, 'es');
      const app = await repos.applications.insert({ candidateId: c.id, processId: p.id });
      await repos.applications.update(app.id, { score });
      ids.push(app.id);
    }
    const at = new Date();
    await repos.applications.changeStatus(ids[0] as string, {
      from: 'in_progress',
      to: 'submitted',
      reason: 'completed',
      actor: 'system',
      at,
    });
    const history = await repos.applications.history(ids[0] as string);
    expect(history.map((h) => [h.fromStatus, h.toStatus])).toEqual([['in_progress', 'submitted']]);
    expect((await repos.applications.findById(ids[0] as string))?.submittedAt).toBeInstanceOf(Date);
    const list = await repos.applications.list({ processId: p.id, sort: 'score', limit: 10, offset: 0 });
    expect(list.items.map((i) => i.score)).toEqual([90, 40, null]);
    expect(list.total).toBe(3);
    const submitted = await repos.applications.list({
      processId: p.id,
      status: 'submitted',
      sort: 'created',
      limit: 10,
      offset: 0,
    });
    expect(submitted.items.map((i) => i.id)).toEqual([ids[0]]);
  });

  test('an inbound message is recorded once', async () => {
    const c = await repos.candidates.findOrCreate('+34600000200', 'es');
    const msg = { id: 'wamid.X1', type: 'text', sentAt: new Date(), phone: c.phone };
    expect(await repos.log.recordAndAdvance(msg, 'hash-200')).toBe(1);
    expect(await repos.log.recordAndAdvance(msg, 'hash-200')).toBeUndefined();
    expect(await repos.log.recordAndAdvance({ ...msg, id: 'wamid.X2' }, 'hash-200')).toBe(2);
    const [row] = await t.client.db.select().from(inboundMessages).where(eq(inboundMessages.id, 'wamid.X1'));
    expect(row?.candidateId).toBe(c.id);
  });

  test('erasure removes personal data and frees the phone', async () => {
    const p = await newProcess('E1');
    const c = await repos.candidates.findOrCreate('+34600000300', 'es');
    await repos.candidates.update(c.id, { name: 'Ana Pérez', email: 'ana@example.com', consentAt: new Date() });
    const app = await repos.applications.insert({ candidateId: c.id, processId: p.id });
    await repos.applications.update(app.id, {
      cvText: 'CV of Ana',
      cvHash: 'h1',
      answers: { q1: 'yes' },
      analysis: { a: 1 },
    });
    await repos.log.appendTranscript({
      candidateId: c.id,
      applicationId: app.id,
      direction: 'in',
      body: 'hola',
      at: new Date(),
    });

    expect(await repos.candidates.erase(c.id)).toEqual({ cvHashes: ['h1'] });
    const erased = await repos.candidates.findById(c.id);
    expect(erased).toMatchObject({ name: null, email: null });
    expect(erased?.phone).not.toContain('600000300');
    expect(erased?.erasedAt).toBeInstanceOf(Date);
    const after = await repos.applications.findById(app.id);
    expect(after).toMatchObject({ cvText: null, cvHash: null, analysis: null, answers: {} });
    expect(await repos.applications.transcript(c.id, app.id)).toEqual([]);
    expect(await repos.candidates.findByPhone('+34600000300')).toBeUndefined();
    expect(await repos.candidates.erase(c.id)).toBeUndefined();
    const again = await repos.candidates.findOrCreate('+34600000300', 'es');
    expect(again.id).not.toBe(c.id);
  });
});
