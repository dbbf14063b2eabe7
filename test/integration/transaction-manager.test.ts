import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import { outbox, outboxHandled, processes } from '../../src/db/schema.ts';
import {
  type HasTransactionManager,
  Transactional,
  type TransactionManager,
} from '../../src/db/transaction-manager.ts';
import { sqlstateOf } from '../../src/db/tx-errors.ts';
import { AppError } from '../../src/errors.ts';
import type { DeliveredEvent } from '../../src/events/types.ts';
import { createTestDb, dbBackends, type TestDb } from '../support/db.ts';
import { createTxStack, metricValue } from '../support/tx.ts';

const injectSerializationFailure = sql`do $$ begin raise exception 'injected' using errcode = 'serialization_failure'; end $$`;

describe.each(dbBackends)('TransactionManager and outbox dispatch on %s', (backend) => {
  let t: TestDb;
  let stack: ReturnType<typeof createTxStack>;
  let tm: TransactionManager;
  const received: DeliveredEvent<'process.created'>[] = [];

  const addProcess = (code: string) =>
    stack.uow.db.insert(processes).values({
      code,
      title: code,
      requirements: { skills: [] },
      thresholds: { shortlist: 70, reject: 30 },
    });
  const codes = async () =>
    (await t.client.db.select({ code: processes.code }).from(processes).orderBy(processes.code)).map((r) => r.code);
  /** Commits a marker event and waits for it: every event dispatched before it has been handled too. */
  async function settle() {
    const id = await tm.transactional(async () => tm.addEvent('process.created', { processId: 'marker', code: 'M' }));
    await vi.waitFor(() => expect(received.some((e) => e.id === id)).toBe(true));
    received.splice(0);
  }

  beforeAll(async () => {
    t = await createTestDb(backend);
    stack = createTxStack(t.client);
    tm = stack.tm;
    stack.bus.subscribe('process.created', 'recorder', (e) => {
      received.push(e);
    });
  });
  afterAll(async () => {
    await stack.relay.stop();
    await t.destroy();
  });
  beforeEach(async () => {
    await settle();
    await t.client.db.delete(processes);
  });

  test('a commit publishes its events once, after commit', async () => {
    let seenInside = -1;
    const id = await tm.transactional(async () => {
      await addProcess('P1');
      const eventId = tm.addEvent('process.created', { processId: 'p1', code: 'P1' });
      seenInside = received.length;
      return eventId;
    });
    expect(seenInside).toBe(0);
    await vi.waitFor(() => expect(received.map((e) => e.id)).toEqual([id]));
    expect(received[0]).toMatchObject({
      type: 'process.created',
      payload: { processId: 'p1', code: 'P1' },
      attempts: 1,
    });
    await vi.waitFor(async () => {
      const [row] = await t.client.db.select().from(outbox).where(eq(outbox.id, id));
      expect(row?.state).toBe('delivered');
    });
    const handled = await t.client.db.select().from(outboxHandled).where(eq(outboxHandled.eventId, id));
    expect(handled.map((h) => h.handler)).toEqual(['recorder']);
    expect(
      await metricValue(stack.registry, 'outbox_events_published_total', { type: 'process.created' }),
    ).toBeGreaterThan(0);
  });

  test('a rollback publishes nothing and writes nothing', async () => {
    const err = await tm
      .transactional(async () => {
        await addProcess('P1');
        tm.addEvent('process.created', { processId: 'p1', code: 'ROLLED_BACK' });
        throw new AppError('conflict', 'nope');
      })
      .catch((e: unknown) => e);
    expect((err as AppError).code).toBe('conflict');
    await settle(); // had the event been dispatched, it would be in `received` before the marker
    expect(await stack.relay.drain()).toBe(0);
    const rows = await t.client.db.select().from(outbox).where(sql`${outbox.payload}->>'code' = 'ROLLED_BACK'`);
    expect(rows).toEqual([]);
    expect(await codes()).toEqual([]);
  });

  test('a nested transactional() rolled back keeps the outer work and drops its own events', async () => {
    const outerId = await tm.transactional(async () => {
      await addProcess('OUTER');
      const id = tm.addEvent('process.created', { processId: 'o', code: 'OUTER' });
      await tm
        .transactional(async () => {
          await addProcess('INNER');
          tm.addEvent('process.created', { processId: 'i', code: 'INNER' });
          throw new Error('inner fails');
        })
        .catch(() => {});
      return id;
    });
    await vi.waitFor(() => expect(received.map((e) => e.id)).toContain(outerId));
    await settle();
    expect(await codes()).toEqual(['OUTER']);
    const inner = await t.client.db.select().from(outbox).where(sql`${outbox.payload}->>'code' = 'INNER'`);
    expect(inner).toEqual([]);
  });

  test('addEvent and afterCommit outside a transaction fail with a clear message', () => {
    expect(() => tm.addEvent('process.created', { processId: 'x', code: 'X' })).toThrow(
      /addEvent\('process.created'\) must be called inside a transaction/,
    );
    expect(() => tm.afterCommit(() => {})).toThrow(/inside a transaction/);
    expect(tm.currentAfterCommit()).toBeUndefined();
  });

  test('after-commit hooks run once the transaction committed, and not after a rollback', async () => {
    const ran: string[] = [];
    await tm.transactional(async () => {
      tm.afterCommit(() => ran.push('hook'));
      const defer = tm.currentAfterCommit();
      expect(defer).toBeDefined();
      defer?.(() => ran.push('deferred'));
      expect(ran).toEqual([]);
    });
    expect(ran).toEqual(['hook', 'deferred']);
    await tm
      .transactional(async () => {
        tm.afterCommit(() => ran.push('rolled back'));
        throw new Error('no');
      })
      .catch(() => {});
    expect(ran).toEqual(['hook', 'deferred']);
  });

  test('a serialization failure re-runs the callback, and each event is published once', async () => {
    let attempts = 0;
    const ran: number[] = [];
    const retriesBefore = await metricValue(stack.registry, 'db_transaction_retries_total', { sqlstate: '40001' });
    const eventId = await tm.transactional(async () => {
      attempts++;
      await addProcess('P1');
      const id = tm.addEvent('process.created', { processId: 'p1', code: `ATTEMPT_${attempts}` });
      tm.afterCommit(() => ran.push(attempts));
      if (attempts === 1) await stack.uow.db.execute(injectSerializationFailure);
      return id;
    });
    expect(attempts).toBe(2);
    expect(ran).toEqual([2]);
    await vi.waitFor(() => expect(received.map((e) => e.id)).toContain(eventId));
    await settle();
    const rows = await t.client.db.select().from(outbox).where(sql`${outbox.payload}->>'code' like 'ATTEMPT_%'`);
    expect(rows.map((r) => (r.payload as { code: string }).code)).toEqual(['ATTEMPT_2']);
    expect(await codes()).toEqual(['P1']);
    expect(await metricValue(stack.registry, 'db_transaction_retries_total', { sqlstate: '40001' })).toBe(
      retriesBefore + 1,
    );
  });

  test('retries stop at maxRetries and the last error propagates', async () => {
    let attempts = 0;
    const err = await tm
      .transactional(
        async () => {
          attempts++;
          await stack.uow.db.execute(injectSerializationFailure);
        },
        { maxRetries: 2 },
      )
      .catch((e: unknown) => e);
    expect(attempts).toBe(3);
    expect(sqlstateOf(err)).toBe('40001');
    expect(await metricValue(stack.registry, 'db_transaction_errors_total', { type: 'serialization_failure' })).toBe(1);
  });

  test('the @Transactional() decorator runs a method in a transaction', async () => {
    class ProcessService implements HasTransactionManager {
      constructor(readonly transactionManager: TransactionManager) {}

      @Transactional()
      async create(code: string, fail: boolean): Promise<string> {
        await addProcess(code);
        const id = this.transactionManager.addEvent('process.created', { processId: code, code });
        if (fail) throw new Error('fail');
        return id;
      }
    }
    const service = new ProcessService(tm);
    const id = await service.create('DECORATED', false);
    await expect(service.create('FAILED', true)).rejects.toThrow('fail');
    await vi.waitFor(() => expect(received.map((e) => e.id)).toContain(id));
    expect(await codes()).toEqual(['DECORATED']);
  });
});
