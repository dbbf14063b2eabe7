import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { processes } from '../../src/db/schema.ts';
import { sqlstateOf } from '../../src/db/tx-errors.ts';
import { createUnitOfWork, type UnitOfWork } from '../../src/db/unit-of-work.ts';
import { AppError } from '../../src/errors.ts';
import { createTestDb, dbBackends, type TestDb } from '../support/db.ts';
import { testLogger } from '../support/tx.ts';

/** A repository as the app writes them: it only knows `uow.db`, never a `tx`. */
function createProcessRepo(db: Database) {
  return {
    async add(code: string) {
      await db.insert(processes).values({
        code,
        title: code,
        requirements: { skills: [] },
        thresholds: { shortlist: 70, reject: 30 },
      });
    },
    async codes(): Promise<string[]> {
      const rows = await db.select({ code: processes.code }).from(processes).orderBy(processes.code);
      return rows.map((r) => r.code);
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(dbBackends)('UnitOfWork on %s', (backend) => {
  let t: TestDb;
  let uow: UnitOfWork;
  let repo: ReturnType<typeof createProcessRepo>;
  beforeAll(async () => {
    t = await createTestDb(backend);
    uow = createUnitOfWork(t.client, testLogger);
    repo = createProcessRepo(uow.db);
  });
  afterAll(() => t.destroy());
  beforeEach(async () => {
    await t.client.db.delete(processes);
  });

  test('commits when the callback resolves; repositories join the ambient transaction', async () => {
    const result = await uow.run(async () => {
      expect(uow.inTransaction()).toBe(true);
      await repo.add('A');
      expect(await repo.codes()).toEqual(['A']); // the repository reads through the transaction
      return 42;
    });
    expect(result).toBe(42);
    expect(uow.inTransaction()).toBe(false);
    expect(await repo.codes()).toEqual(['A']);
  });

  test('rolls back when the callback throws, and the error propagates unchanged', async () => {
    const boom = new Error('boom');
    const caught = await uow
      .run(async () => {
        await repo.add('A');
        throw boom;
      })
      .catch((e: unknown) => e);
    expect(caught).toBe(boom);
    expect(await repo.codes()).toEqual([]);
  });

  test('a nested run is a savepoint: its rollback keeps the outer work', async () => {
    await uow.run(async () => {
      await repo.add('OUTER');
      await expect(
        uow.run(async () => {
          await repo.add('INNER');
          throw new Error('inner fails');
        }),
      ).rejects.toThrow('inner fails');
      await uow.db.transaction(async () => repo.add('VIA_DB_TRANSACTION'));
    });
    expect(await repo.codes()).toEqual(['OUTER', 'VIA_DB_TRANSACTION']);
  });

  test('the root database used inside a transaction throws instead of deadlocking', async () => {
    const err = await uow
      .run(async () => {
        await repo.add('A');
        await t.client.db.select().from(processes);
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).message).toMatch(/root database was used inside a transaction/);
    expect(await repo.codes()).toEqual([]);
    if (t.client.driver.kind === 'pglite') {
      const { pglite } = t.client.driver;
      await expect(uow.run(() => pglite.query('select 1'))).rejects.toThrow(/root database/);
    }
  });

  test('after-commit hooks run after commit and are dropped with a rolled-back scope', async () => {
    const ran: string[] = [];
    await uow.run(async () => {
      uow.current()?.afterCommit(() => ran.push('outer'));
      await uow
        .run(async () => {
          uow.current()?.afterCommit(() => ran.push('rolled-back savepoint'));
          throw new Error('no');
        })
        .catch(() => {});
      await uow.run(async () => {
        uow.current()?.afterCommit(() => ran.push('released savepoint'));
      });
      expect(ran).toEqual([]);
    });
    expect(ran).toEqual(['outer', 'released savepoint']);
    await uow
      .run(async () => {
        uow.current()?.afterCommit(() => ran.push('rolled back'));
        throw new Error('no');
      })
      .catch(() => {});
    expect(ran).toEqual(['outer', 'released savepoint']);
  });

  test('a read-only transaction rejects writes', async () => {
    const err = await uow.run(() => repo.add('A'), { readOnly: true }).catch((e: unknown) => e);
    expect(sqlstateOf(err)).toBe('25006');
    await uow.run(async () => expect(await repo.codes()).toEqual([]), { isolationLevel: 'serializable' });
  });

  test('past its deadline a transaction rolls back with a timeout error, and its stray work cannot write', async () => {
    let strayError: unknown;
    const err = await uow
      .run(
        async () => {
          await repo.add('SLOW');
          await sleep(150);
          await repo.add('LATE').catch((e: unknown) => {
            strayError = e;
          });
        },
        { timeoutMs: 50 },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('timeout');
    await sleep(200);
    expect(strayError).toBeInstanceOf(AppError);
    expect(await repo.codes()).toEqual([]);
  });

  test.runIf(backend === 'postgres')('a statement past statement_timeout rolls the transaction back', async () => {
    const err = await uow
      .run(
        async () => {
          await repo.add('A');
          await uow.db.execute(sql`select pg_sleep(2)`);
        },
        { statementTimeoutMs: 100 },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('timeout');
    expect(sqlstateOf((err as AppError).cause)).toBe('57014');
    expect(await repo.codes()).toEqual([]);
    // The setting was local to that transaction.
    await uow.run(async () => {
      await uow.db.execute(sql`select pg_sleep(0.2)`);
      await repo.add('B');
    });
    expect(await uow.db.select().from(processes).where(eq(processes.code, 'B'))).toHaveLength(1);
  });

  test.runIf(backend === 'postgres')('SET LOCAL is skipped when the connections already have the timeout', async () => {
    const preset = createUnitOfWork(t.client, testLogger, { connectionStatementTimeoutMs: 100 });
    const show = () =>
      preset.run(async (tx) => {
        const rows = await tx.execute<{ statement_timeout: string }>(sql`show statement_timeout`);
        return (rows as unknown as { statement_timeout: string }[])[0]?.statement_timeout;
      });
    const serverDefault = await show();
    expect(await preset.run(async () => show(), { statementTimeoutMs: 100 })).toBe(serverDefault);
    expect(await preset.run(async () => show(), { statementTimeoutMs: 250 })).toBe('250ms');
  });
});
