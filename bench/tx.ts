/**
 * `npm run bench -- tx`: the transaction manager and the outbox, on Postgres when
 * BENCH_DATABASE_URL or TEST_DATABASE_URL is set (a throwaway database is created), else PGlite.
 *
 * - overhead: `tm.transactional()` (insert + addEvent) vs raw drizzle `db.transaction` running the same
 *   two inserts, interleaved in rounds: with SET LOCAL timeouts (the default), with the timeouts set
 *   once per connection instead, and with immediate dispatch of the event after commit.
 * - drain: events per second two relays (two connection pools) deliver from a backlog of 20,000.
 * - latency: commit -> handler start when idle, through immediate dispatch and through LISTEN/NOTIFY.
 * - head of line: commit -> handler start of fast events (20 phones) dispatched while slow ones (a phone
 *   each) keep handlers busy, with relay concurrency 1 (one event after another, as before keyed
 *   concurrency) vs the default 8.
 */
import { performance } from 'node:perf_hooks';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { uuidv7 } from 'uuidv7';
import { createDbClient, type Database, type DbClient } from '../src/db/client.ts';
import * as schema from '../src/db/schema.ts';
import { inboundMessages, outbox } from '../src/db/schema.ts';
import type { DeliveredEvent } from '../src/events/types.ts';
import { createTestDb, type DbBackend } from '../test/support/db.ts';
import { createTxStack } from '../test/support/tx.ts';

const url = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
if (url) process.env.TEST_DATABASE_URL = url;
const backend: DbBackend = url ? 'postgres' : 'pglite';
const ROUNDS = 20;
const PER_ROUND = 100;
const BACKLOG = 20_000;
const LATENCY_SAMPLES = 300;
const TIMEOUT_MS = 10_000;
const HOL_FAST = 400;
const HOL_SLOW_EVERY = 50;
const HOL_SLOW_MS = 100;

const t = await createTestDb(backend, { max: 10 });
const second = t.url ? createDbClient({ kind: 'postgres', url: t.url, max: 10 }) : undefined;

try {
  const overhead = await measureOverhead(t.client);
  const drain = await measureDrain(t.client, second);
  const latency = await measureLatency(t.client, 'dispatch');
  const notifyLatency = second ? await measureLatency(t.client, 'notify', second) : undefined;
  const sequential = await measureHeadOfLine(t.client, 1);
  const concurrent = await measureHeadOfLine(t.client, 8);
  console.log(
    JSON.stringify({
      bench: 'tx',
      backend,
      transactionsPerVariant: ROUNDS * PER_ROUND,
      rawTxMeanMs: round(overhead.raw),
      transactionalMeanMs: round(overhead.tm),
      transactionalWithDispatchMeanMs: round(overhead.tmDispatch),
      transactionalConnectionTimeoutsMeanMs: round(overhead.tmPreset),
      overheadRatio: round(overhead.tm / overhead.raw),
      overheadRatioWithDispatch: round(overhead.tmDispatch / overhead.raw),
      overheadRatioConnectionTimeouts: round(overhead.tmPreset / overhead.raw),
      overheadTarget: 1.15,
      drainEvents: BACKLOG,
      drainRelays: second ? 2 : 1,
      drainEventsPerSecond: Math.round(drain),
      commitToHandlerP50Ms: round(latency.p50),
      commitToHandlerP99Ms: round(latency.p99),
      commitToHandlerTargetP99Ms: 50,
      notifyCommitToHandlerP50Ms: notifyLatency && round(notifyLatency.p50),
      notifyCommitToHandlerP99Ms: notifyLatency && round(notifyLatency.p99),
      headOfLineFastEvents: HOL_FAST,
      headOfLineSlowEvents: HOL_FAST / HOL_SLOW_EVERY,
      headOfLineSlowHandlerMs: HOL_SLOW_MS,
      headOfLineSequentialP50Ms: round(sequential.p50),
      headOfLineSequentialP99Ms: round(sequential.p99),
      headOfLineConcurrentP50Ms: round(concurrent.p50),
      headOfLineConcurrentP99Ms: round(concurrent.p99),
    }),
  );
} finally {
  await second?.close();
  await t.destroy();
}

async function measureOverhead(client: DbClient) {
  const tm = { statementTimeoutMs: TIMEOUT_MS };
  const plain = createTxStack(client, { dispatch: false, tm: { ...tm, notifyRelays: false } });
  const dispatching = createTxStack(client, { tm });
  dispatching.bus.subscribe('cv.received', 'noop', () => {});
  // The timeouts set once per connection (postgres.js `connection` parameters) instead of SET LOCAL per transaction.
  const presetClient = t.url ? createClientWithTimeouts(t.url, TIMEOUT_MS) : client;
  const preset = createTxStack(presetClient, {
    dispatch: false,
    tm: { ...tm, notifyRelays: false },
    uow: { connectionStatementTimeoutMs: TIMEOUT_MS },
  });
  const payload = { applicationId: 'a', candidateId: 'c' };
  const message = () => ({ id: uuidv7(), type: 'text' });

  const raw = () =>
    client.db.transaction(async (tx) => {
      await tx.insert(inboundMessages).values(message());
      await tx.insert(outbox).values({ id: uuidv7(), type: 'cv.received', payload });
    });
  const viaTm = (stack: typeof plain) => () =>
    stack.tm.transactional(async () => {
      await stack.uow.db.insert(inboundMessages).values(message());
      stack.tm.addEvent('cv.received', payload);
    });
  const variants = { raw, tm: viaTm(plain), tmDispatch: viaTm(dispatching), tmPreset: viaTm(preset) };
  const totals = { raw: 0, tm: 0, tmDispatch: 0, tmPreset: 0 };
  for (const run of Object.values(variants)) for (let i = 0; i < PER_ROUND; i++) await run(); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of Object.entries(variants)) {
      const started = performance.now();
      for (let i = 0; i < PER_ROUND; i++) await run();
      totals[name as keyof typeof totals] += performance.now() - started;
    }
  }
  await dispatching.relay.stop();
  if (presetClient !== client) await presetClient.close();
  await client.db.delete(outbox);
  const n = ROUNDS * PER_ROUND;
  return {
    raw: totals.raw / n,
    tm: totals.tm / n,
    tmDispatch: totals.tmDispatch / n,
    tmPreset: totals.tmPreset / n,
  };
}

async function measureDrain(client: DbClient, other: DbClient | undefined): Promise<number> {
  const payload = { applicationId: 'a', candidateId: 'c' };
  for (let i = 0; i < BACKLOG; i += 5_000) {
    const rows = Array.from({ length: Math.min(5_000, BACKLOG - i) }, () => ({
      id: uuidv7(),
      type: 'cv.received',
      payload,
    }));
    await client.db.insert(outbox).values(rows);
  }
  let handled = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const stacks = [client, ...(other ? [other] : [])].map((c) => createTxStack(c, { relay: { pollIntervalMs: 1_000 } }));
  for (const { bus } of stacks) {
    bus.subscribe('cv.received', 'count', () => {
      if (++handled === BACKLOG) done();
    });
  }
  const started = performance.now();
  await Promise.all(stacks.map((s) => s.relay.start()));
  await finished;
  const elapsed = performance.now() - started;
  await Promise.all(stacks.map((s) => s.relay.stop()));
  const left = await stacks[0]?.relay.backlog();
  if (left?.count !== 0) throw new Error(`drain left ${left?.count} events pending`);
  return BACKLOG / (elapsed / 1000);
}

/** Idle commit -> handler start, through immediate dispatch or through a relay woken by NOTIFY. */
async function measureLatency(client: DbClient, path: 'dispatch' | 'notify', relayClient?: DbClient) {
  const writer = createTxStack(client, { dispatch: path === 'dispatch' });
  const reader =
    path === 'dispatch' ? writer : createTxStack(relayClient as DbClient, { relay: { pollIntervalMs: 60_000 } });
  let onHandled: (e: DeliveredEvent) => void = () => {};
  reader.bus.subscribe('cv.analyzed', 'probe', (e) => onHandled(e));
  if (path === 'notify') await reader.relay.start();
  const samples: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES + 20; i++) {
    let committedAt = 0;
    const handled = new Promise<number>((resolve) => {
      onHandled = () => resolve(performance.now());
    });
    await writer.tm.transactional(async () => {
      writer.tm.afterCommit(() => {
        committedAt = performance.now(); // the first after-commit hook: right after COMMIT returned
      });
      writer.tm.addEvent('cv.analyzed', { applicationId: 'a', cvHash: 'h', ok: true });
    });
    const startedAt = await handled;
    if (i >= 20) samples.push(startedAt - committedAt);
    await new Promise((r) => setTimeout(r, 2));
  }
  await reader.relay.stop();
  await writer.relay.stop();
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99) };
}

/** Commit -> handler start of fast events dispatched between slow ones, with the given relay concurrency. */
async function measureHeadOfLine(client: DbClient, concurrency: number) {
  const stack = createTxStack(client, { relay: { concurrency } });
  const committedAt = new Map<string, number>();
  const samples: number[] = [];
  stack.bus.subscribe('whatsapp.send', 'probe', async (e) => {
    const message = e.payload.message;
    if (message.kind === 'text' && message.text === 'slow') {
      await new Promise((r) => setTimeout(r, HOL_SLOW_MS));
      return;
    }
    samples.push(performance.now() - (committedAt.get(e.id) ?? Number.NaN));
  });
  const send = (to: string, text: string) =>
    stack.tm.transactional(async () => {
      const id = stack.tm.addEvent('whatsapp.send', { message: { kind: 'text', to, text } });
      stack.tm.afterCommit(() => committedAt.set(id, performance.now()));
    });
  for (let i = 0; i < HOL_FAST; i++) {
    if (i % HOL_SLOW_EVERY === 0) await send(`+3460000${String(i).padStart(4, '0')}`, 'slow');
    await send(`+3461000000${i % 20}`, 'fast');
    await new Promise((r) => setTimeout(r, 1));
  }
  await stack.relay.stop();
  await client.db.delete(outbox);
  if (samples.length !== HOL_FAST) throw new Error(`head of line: ${samples.length} of ${HOL_FAST} fast events seen`);
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99) };
}

/** Like createDbClient for Postgres, with the transaction timeouts as connection parameters. */
function createClientWithTimeouts(databaseUrl: string, timeoutMs: number): DbClient {
  const sql = postgres(databaseUrl, {
    max: 10,
    onnotice: () => {},
    connection: { statement_timeout: timeoutMs, idle_in_transaction_session_timeout: timeoutMs },
  });
  return {
    kind: 'postgres',
    db: drizzle(sql, { schema }) as unknown as Database,
    driver: { kind: 'postgres', sql },
    ping: async () => {
      await sql`select 1`;
    },
    close: () => sql.end({ timeout: 5 }),
  };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
