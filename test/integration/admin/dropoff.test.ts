import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { applications, candidates, processes } from '../../../src/db/schema.ts';
import { createLogger } from '../../../src/logger.ts';
import { createDropOffSweep } from '../../../src/recruiting/metrics.ts';
import { backendPairs } from '../../support/app.ts';
import { createTestDb, type TestDb } from '../../support/db.ts';
import { createTestKv, type TestKv } from '../../support/kv.ts';

const HOUR = 3_600_000;

describe.each(backendPairs)('the drop-off sweep on %s + %s', (dbBackend, kvBackend) => {
  let db: TestDb;
  let kv: TestKv;
  beforeAll(async () => {
    db = await createTestDb(dbBackend);
    kv = await createTestKv(kvBackend);
  });
  afterAll(async () => {
    await kv?.destroy();
    await db?.destroy();
  });

  test('counts each conversation that expired, once, by step, on one instance', async () => {
    const t0 = Math.floor(Date.now() / 60_000) * 60_000;
    let now = t0;
    const sweepOf = (registry: Registry) =>
      createDropOffSweep({
        registry,
        uow: db.client,
        kv: kv.store,
        sessionTtlSeconds: 3600,
        logger: createLogger({ level: 'silent' }),
        now: () => now,
      });
    const registry = new Registry();
    const sweep = sweepOf(registry);
    expect(await sweep.sweep()).toBe(0); // sets the watermark only

    const [p] = await db.client.db
      .insert(processes)
      .values({ code: 'DROP1', title: 'Drop', requirements: { skills: [] }, thresholds: { shortlist: 60, reject: 20 } })
      .returning();
    const at = (ms: number) => new Date(t0 + ms);
    const app = async (
      phone: string,
      step: string,
      status: 'in_progress' | 'submitted',
      active: number,
      inbound?: number,
    ) => {
      const [c] = await db.client.db
        .insert(candidates)
        .values({ phone, lastInboundAt: inbound === undefined ? null : at(inbound) })
        .returning();
      await db.client.db
        .insert(applications)
        .values({ candidateId: c!.id, processId: p!.id, step, status, updatedAt: at(active) });
    };
    await app('+34000000001', 'email', 'in_progress', 1_000, 1_000);
    await app('+34000000002', 'cv', 'in_progress', 2_000);
    await app('+34000000003', 'email', 'submitted', 1_000, 1_000);
    // Changed long ago but wrote again later: still active.
    await app('+34000000004', 'email', 'in_progress', 1_000, 5 * HOUR);

    now = t0 + HOUR + 60_000;
    expect(await sweep.sweep()).toBe(2);
    expect(await sweep.sweep()).toBe(0); // this interval was swept already
    const other = sweepOf(new Registry());
    expect(await other.sweep()).toBe(0); // another instance, same interval

    now += 60_000;
    expect(await other.sweep()).toBe(0); // nothing new expired
    now = t0 + 6 * HOUR;
    expect(await other.sweep()).toBe(1); // the late writer stalled too, counted by whoever sweeps

    const text = await registry.metrics();
    expect(text).toMatch(/^recruiting_conversations_expired_total\{step="email"\} 1$/m);
    expect(text).toMatch(/^recruiting_conversations_expired_total\{step="cv"\} 1$/m);
  });
});
