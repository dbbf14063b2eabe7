import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { createDbClient, type DbClient } from '../../src/db/client.ts';
import { migrateDatabase } from '../../src/db/migrate.ts';
import { outbox, outboxHandled } from '../../src/db/schema.ts';
import { createTestDb, dbBackends, type TestDb } from '../support/db.ts';
import { createTxStack } from '../support/tx.ts';

const ROOT = new URL('../../', import.meta.url);

/** Counts handler runs per `${handler}:${eventId}`. */
function createTally() {
  const runs = new Map<string, number>();
  return {
    runs,
    record: (handler: string, id: string) => runs.set(`${handler}:${id}`, (runs.get(`${handler}:${id}`) ?? 0) + 1),
    count: (handler: string, id: string) => runs.get(`${handler}:${id}`) ?? 0,
  };
}

describe.each(dbBackends)('outbox relay on %s', (backend) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb(backend);
  });
  afterAll(() => t.destroy());

  test('a handler that always throws ends dead after N attempts with its error, and can be retried', async () => {
    const { tm, bus, relay } = createTxStack(t.client, { relay: { maxAttempts: 3 } });
    const tally = createTally();
    let failing = true;
    bus.subscribe('cv.received', 'steady', (e) => {
      tally.record('steady', e.id);
    });
    bus.subscribe('cv.received', 'flaky', (e) => {
      tally.record('flaky', e.id);
      if (failing) throw new Error('webhook down for bob@example.com');
    });
    await relay.start();
    try {
      const id = await tm.transactional(async () =>
        tm.addEvent('cv.received', { applicationId: 'a', candidateId: 'c' }),
      );
      await vi.waitFor(async () => expect((await relay.listDead()).map((d) => d.id)).toContain(id));
      const [dead] = await relay.listDead({ limit: 1 });
      expect(dead).toMatchObject({ id, type: 'cv.received', attempts: 3 });
      expect(dead?.lastError).toContain('flaky: webhook down');
      expect(dead?.lastError).not.toContain('bob@example.com');
      expect(tally.count('flaky', id)).toBe(3);
      expect(tally.count('steady', id)).toBe(1); // its success was recorded on the first attempt

      expect(await relay.retry('not-an-id')).toBe(false);
      failing = false;
      expect(await relay.retry(id)).toBe(true);
      await vi.waitFor(async () => {
        const [row] = await t.client.db.select().from(outbox).where(eq(outbox.id, id));
        expect(row?.state).toBe('delivered');
      });
      expect(await relay.retry(id)).toBe(false); // no longer dead
      expect(tally.count('flaky', id)).toBe(4);
      expect(tally.count('steady', id)).toBe(1);
      expect(await relay.listDead()).toEqual([]);
    } finally {
      await relay.stop();
    }
  });

  test('a handler running past its lease keeps it: another relay does not deliver the event again', async () => {
    // Relay A delivers at once and its handler blocks (a send waiting on a rate limit, say) for several
    // lease lengths; relay B keeps draining meanwhile. Without renewal B would take the event over.
    const leaseMs = 150;
    const a = createTxStack(t.client, { relay: { leaseMs }, tm: { dispatchLeaseMs: leaseMs } });
    const b = createTxStack(t.client, { relay: { leaseMs }, dispatch: false });
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = 0;
    a.bus.subscribe('cv.received', 'slow', async () => {
      started++;
      await blocked;
    });
    let takenOver = 0;
    b.bus.subscribe('cv.received', 'slow', () => {
      takenOver++;
    });
    await a.tm.transactional(async () => {
      a.tm.addEvent('cv.received', { applicationId: 'lease-app', candidateId: 'c' });
    });
    await vi.waitFor(() => expect(started).toBe(1));
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, leaseMs));
      await b.relay.drain();
    }
    release();
    await a.relay.stop();
    await b.relay.drain();
    expect(takenOver).toBe(0);
    const rows = await t.client.db.select().from(outbox).where(eq(outbox.type, 'cv.received'));
    const ours = rows.filter((r) => (r.payload as { applicationId: string }).applicationId === 'lease-app');
    expect(ours.map((r) => r.state)).toEqual(['delivered']);
  });

  test('stop() waits for the deliveries in flight', async () => {
    const { tm, bus, relay } = createTxStack(t.client);
    const finished: string[] = [];
    bus.subscribe('cv.analyzed', 'slow', async (e) => {
      await new Promise((r) => setTimeout(r, 50));
      finished.push(e.id);
    });
    const id = await tm.transactional(async () =>
      tm.addEvent('cv.analyzed', { applicationId: 'a', cvHash: 'h', ok: true }),
    );
    await relay.stop();
    expect(finished).toEqual([id]);
    const [row] = await t.client.db.select().from(outbox).where(eq(outbox.id, id));
    expect(row?.state).toBe('delivered');
  });

  test('backlog and readiness report the oldest undelivered event', async () => {
    const { relay } = createTxStack(t.client);
    await t.client.db.insert(outbox).values({
      type: 'cv.received',
      payload: { applicationId: 'old', candidateId: 'c' },
      createdAt: new Date(Date.now() - 3_600_000),
    });
    const check = relay.readinessCheck(300);
    const backlog = await relay.backlog();
    expect(backlog.count).toBe(1);
    expect(backlog.oldestAgeSeconds).toBeGreaterThanOrEqual(3_600);
    expect(await check()).toMatchObject({ ok: false, kind: 'outbox', details: { pending: 1 } });
    expect(await relay.drain()).toBe(1);
    expect(await relay.backlog()).toEqual({ count: 0, oldestAgeSeconds: 0 });
    expect((await check()).ok).toBe(true);
  });

  test('after a crash between commit and dispatch, a fresh relay delivers every event to each handler once', async () => {
    const events = 5;
    let pgliteDir: string | undefined;
    let reopened: DbClient | undefined;
    if (backend === 'pglite') {
      // The child needs a database on disk: PGlite in memory dies with it.
      pgliteDir = mkdtempSync(join(tmpdir(), 'war-crash-'));
      const setup = createDbClient({ kind: 'pglite', dir: pgliteDir });
      await migrateDatabase(setup);
      await setup.close();
    }
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/tx-crash-child.ts'], {
        cwd: ROOT.pathname,
        env: {
          ...process.env,
          CRASH_EVENTS: String(events),
          ...(t.url ? { CRASH_DATABASE_URL: t.url } : { CRASH_PGLITE_DIR: pgliteDir }),
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let output = '';
      child.stdout.on('data', (chunk) => {
        output += chunk;
      });
      const signal = await new Promise((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
      expect(signal).toBe('SIGKILL');
      expect(output).toBe('');

      if (pgliteDir) reopened = createDbClient({ kind: 'pglite', dir: pgliteDir });
      const client = reopened ?? t.client;
      const pending = await client.db.select().from(outbox).where(eq(outbox.state, 'pending'));
      expect(pending).toHaveLength(events);
      // Written leased to the child (attempt 1), which died before delivering them.
      expect(pending.every((e) => e.attempts === 1 && e.lockedUntil !== null)).toBe(true);

      const { bus, relay } = createTxStack(client);
      const tally = createTally();
      bus.subscribe('process.created', 'notifier', (e) => {
        tally.record('notifier', e.id);
      });
      bus.subscribe('process.created', 'indexer', (e) => {
        tally.record('indexer', e.id);
      });
      await relay.start();
      await vi.waitFor(async () => expect((await relay.backlog()).count).toBe(0));
      await relay.stop();
      for (const e of pending) {
        expect(tally.count('notifier', e.id)).toBe(1);
        expect(tally.count('indexer', e.id)).toBe(1);
      }
      expect(tally.runs.size).toBe(events * 2);
    } finally {
      if (pgliteDir) {
        await reopened?.close();
        rmSync(pgliteDir, { recursive: true, force: true });
      }
    }
  });
});

describe.runIf(dbBackends.includes('postgres'))('two relays on one Postgres database', () => {
  let t: TestDb;
  let second: DbClient;
  beforeAll(async () => {
    t = await createTestDb('postgres');
    second = createDbClient({ kind: 'postgres', url: t.url as string });
  });
  afterAll(async () => {
    await second.close();
    await t.destroy();
  });

  test('a relay is woken by NOTIFY when a transaction commits events without a dispatcher', async () => {
    const writer = createTxStack(t.client, { dispatch: false });
    const reader = createTxStack(second, { relay: { pollIntervalMs: 600_000 } });
    const seen: string[] = [];
    reader.bus.subscribe('cv.received', 'recorder', (e) => {
      seen.push(e.id);
    });
    await reader.relay.start(); // drains once, then sleeps for the poll interval unless notified
    try {
      await reader.relay.drain();
      const id = await writer.tm.transactional(async () =>
        writer.tm.addEvent('cv.received', { applicationId: 'a', candidateId: 'c' }),
      );
      await vi.waitFor(() => expect(seen).toEqual([id]), { timeout: 10_000 });
    } finally {
      await reader.relay.stop();
    }
  });

  test('2,000 events: every handler runs exactly once per event, none is lost', async () => {
    const total = 2_000;
    const writer = createTxStack(t.client, { dispatch: false });
    const ids = await writer.tm.transactional(async () =>
      Array.from({ length: total }, (_, i) =>
        writer.tm.addEvent('application.started', { applicationId: `a${i}`, candidateId: 'c', processId: 'p' }),
      ),
    );
    const tally = createTally();
    const relays = [
      createTxStack(t.client, { relay: { batchSize: 25 } }),
      createTxStack(second, { relay: { batchSize: 25 } }),
    ];
    for (const [i, { bus }] of relays.entries()) {
      for (const handler of ['notifier', 'scorer']) {
        bus.subscribe('application.started', handler, async (e) => {
          tally.record(handler, e.id);
          if (Number(e.payload.applicationId.slice(1)) % 7 === i) await new Promise((r) => setImmediate(r));
        });
      }
    }
    await Promise.all(relays.map((r) => r.relay.start()));
    try {
      await vi.waitFor(async () => expect((await relays[0]?.relay.backlog())?.count).toBe(0), { timeout: 60_000 });
    } finally {
      await Promise.all(relays.map((r) => r.relay.stop()));
    }
    for (const id of ids) {
      expect(tally.count('notifier', id)).toBe(1);
      expect(tally.count('scorer', id)).toBe(1);
    }
    expect(tally.runs.size).toBe(total * 2);
    const handled = await t.client.db.$count(outboxHandled, inArray(outboxHandled.handler, ['notifier', 'scorer']));
    expect(handled).toBe(total * 2);
  });
});
