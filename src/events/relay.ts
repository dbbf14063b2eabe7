import { performance } from 'node:perf_hooks';
import type { DbClient } from '../db/client.ts';
import type { OutboxDispatcher } from '../db/transaction-manager.ts';
import { describeError, retryDelayMs } from '../db/tx-errors.ts';
import type { ReadinessCheck } from '../http/health.ts';
import { type Logger, scrub } from '../logger.ts';
import type { EventBus } from './bus.ts';
import type { OutboxMetrics } from './metrics.ts';
import {
  type Backlog,
  type ClaimedEvent,
  claimDue,
  type DeadEvent,
  type DeliveryOutcome,
  type FinishedEvent,
  finishEvents,
  listDead,
  loadHandled,
  measureBacklog,
  OUTBOX_CHANNEL,
  reviveDead,
} from './outbox.ts';
import type { DeliveredEvent, EventType } from './types.ts';

export interface OutboxRelayOptions {
  client: DbClient;
  bus: EventBus;
  logger: Logger;
  metrics?: OutboxMetrics;
  /** Deliveries before an event is marked dead (default 8). */
  maxAttempts?: number;
  /** Events claimed per query (default 100). */
  batchSize?: number;
  /** How long a claim holds an event; past it another relay may deliver it again (default 60 s). Handlers must finish well within it. */
  leaseMs?: number;
  /** Poll period; on Postgres LISTEN/NOTIFY wakes the relay sooner (default 5 s on Postgres, 1 s on PGlite). */
  pollIntervalMs?: number;
  /** Redelivery backoff: exponential from `backoffBaseMs` (1 s) to `backoffMaxMs` (5 min), jittered. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** How often the loop refreshes the backlog gauges (default 5 s). */
  backlogIntervalMs?: number;
}

export interface OutboxRelay extends OutboxDispatcher {
  /** Starts the background loop (and LISTEN on Postgres). Delivery of dispatched events works without it. */
  start(): Promise<void>;
  /** Stops the loop and waits for in-flight deliveries; later dispatches are left to other relays. */
  stop(): Promise<void>;
  /** Claims and delivers due events until none is left; returns how many were claimed. */
  drain(): Promise<number>;
  listDead(page?: { limit?: number; offset?: number }): Promise<DeadEvent[]>;
  /** Puts a dead event back in the queue (attempts reset; handlers that succeeded stay done). */
  retry(eventId: string): Promise<boolean>;
  backlog(): Promise<Backlog>;
  /** Not ready while the oldest undelivered event is older than `maxAgeSeconds`. */
  readinessCheck(maxAgeSeconds: number): ReadinessCheck;
}

/** While handlers are fast, results are recorded once per batch; past this, after each event. */
const RECORD_EVERY_MS = 50;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_ERROR_CHARS = 2_000;

/**
 * Delivers outbox events to the bus: at once for the events this process commits (`dispatch`:
 * they were written already leased to it, so no claim query), and in a loop for everything else
 * due (crash leftovers once their lease ran out, retries, events of writers without a dispatcher).
 * The loop claims with a lease (`FOR UPDATE SKIP LOCKED`), so two relays never deliver an event at
 * once; each handler's success is recorded in `outbox_handled` and never re-run on redelivery.
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { client, bus, logger, metrics } = options;
  const db = client.db;
  const maxAttempts = options.maxAttempts ?? 8;
  const batchSize = options.batchSize ?? 100;
  const leaseMs = options.leaseMs ?? 60_000;
  const pollIntervalMs = options.pollIntervalMs ?? (client.kind === 'postgres' ? 5_000 : 1_000);
  const backoffBaseMs = options.backoffBaseMs ?? 1_000;
  const backoffMaxMs = options.backoffMaxMs ?? 300_000;
  const backlogIntervalMs = options.backlogIntervalMs ?? 5_000;

  let running = false;
  let stopping = false;
  let loop: Promise<void> | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  let wakeRequested = false;
  let wakeSleeper: (() => void) | undefined;
  let nextRetryAt = Number.POSITIVE_INFINITY;
  /** Events this process committed, leased to it: delivered at once, without a claim query. */
  const queued: ClaimedEvent[] = [];
  let delivering: Promise<void> | undefined;

  function wake(): void {
    wakeRequested = true;
    wakeSleeper?.();
  }

  function sleepUntilWoken(ms: number): Promise<void> {
    if (wakeRequested) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, ms));
      function done() {
        clearTimeout(timer);
        wakeSleeper = undefined;
        resolve();
      }
      wakeSleeper = done;
    });
  }

  /**
   * Runs the handlers of each event in order and records the results in batches: one statement
   * per batch, or sooner when handlers are slow (a crash re-runs at most what was not recorded).
   */
  async function deliver(events: readonly ClaimedEvent[]): Promise<void> {
    const handled = await loadHandled(
      db,
      events.filter((e) => e.triedBefore).map((e) => e.id),
    );
    let finished: FinishedEvent[] = [];
    let since = performance.now();
    for (const event of events) {
      finished.push(await runHandlers(event, handled.get(event.id)));
      if (performance.now() - since >= RECORD_EVERY_MS) {
        await record(finished);
        finished = [];
        since = performance.now();
      }
    }
    await record(finished);
  }

  async function runHandlers(event: ClaimedEvent, done: Set<string> | undefined): Promise<FinishedEvent> {
    metrics?.deliveryLag.observe(Math.max(0, Date.now() - event.createdAt.getTime()) / 1000);
    const delivered: DeliveredEvent = {
      id: event.id,
      type: event.type as EventType,
      payload: event.payload as DeliveredEvent['payload'],
      createdAt: event.createdAt,
      attempts: event.attempts,
    };
    const succeeded: string[] = [];
    const failures: string[] = [];
    for (const { name, handler } of bus.handlersFor(event.type)) {
      if (done?.has(name)) continue;
      try {
        await handler(delivered);
        succeeded.push(name);
      } catch (err) {
        failures.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
        logger.warn(
          { eventId: event.id, type: event.type, handler: name, attempts: event.attempts, err },
          'event handler failed',
        );
      }
    }
    return { event, succeeded, outcome: decide(event, failures) };
  }

  function decide(event: ClaimedEvent, failures: string[]): DeliveryOutcome {
    if (failures.length === 0) return { kind: 'delivered' };
    const error = scrub(failures.join('; ')).slice(0, MAX_ERROR_CHARS);
    if (event.attempts >= maxAttempts) return { kind: 'dead', error };
    return { kind: 'retry', error, delayMs: retryDelayMs(event.attempts, backoffBaseMs, backoffMaxMs) };
  }

  async function record(finished: readonly FinishedEvent[]): Promise<void> {
    if (finished.length === 0) return;
    const lost = await finishEvents(db, finished);
    if (lost.length > 0) logger.warn({ eventIds: lost }, 'outbox lease lost before the events were finished');
    for (const { event, outcome } of finished) count(event, outcome);
  }

  function count(event: ClaimedEvent, outcome: DeliveryOutcome): void {
    const type = event.type;
    if (outcome.kind === 'delivered') {
      metrics?.delivered.inc({ type });
      return;
    }
    metrics?.failed.inc({ type });
    if (outcome.kind === 'dead') {
      metrics?.dead.inc({ type });
      logger.error({ eventId: event.id, type, attempts: event.attempts }, 'event is dead: no attempts left');
      return;
    }
    nextRetryAt = Math.min(nextRetryAt, Date.now() + outcome.delayMs);
    wakeSleeper?.(); // the loop sleeps again with a timer that covers this retry
  }

  async function drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const claimed = await claimDue(db, batchSize, leaseMs);
      total += claimed.length;
      if (claimed.length > 0) await deliver(claimed);
      if (claimed.length < batchSize) return total;
    }
  }

  async function deliverQueued(): Promise<void> {
    try {
      while (queued.length > 0) {
        const now = Date.now();
        const batch = queued.splice(0, batchSize);
        // An event whose lease ran out while queued belongs to the relays now.
        const leased = batch.filter((e) => e.lease.getTime() > now);
        if (leased.length < batch.length) {
          logger.warn(
            { events: batch.length - leased.length },
            'dispatch lease ran out while queued; relays deliver them',
          );
        }
        await deliver(leased);
      }
    } catch (err) {
      queued.length = 0; // still pending in the outbox: relays deliver them once the lease runs out
      logger.warn({ cause: describeError(err) }, 'immediate event dispatch failed; relays will retry');
    } finally {
      delivering = undefined;
    }
  }

  async function backlog(): Promise<Backlog> {
    const b = await measureBacklog(db);
    metrics?.backlog.set(b.count);
    metrics?.oldestAge.set(b.oldestAgeSeconds);
    return b;
  }

  async function runLoop(): Promise<void> {
    let backlogMeasuredAt = 0;
    while (running) {
      wakeRequested = false;
      if (nextRetryAt <= Date.now()) nextRetryAt = Number.POSITIVE_INFINITY;
      try {
        const n = await drain();
        if (n > 0) logger.debug({ events: n }, 'outbox relay delivered a backlog');
        if (Date.now() - backlogMeasuredAt >= backlogIntervalMs) {
          backlogMeasuredAt = Date.now();
          await backlog();
        }
      } catch (err) {
        logger.warn({ cause: describeError(err) }, 'outbox relay pass failed');
      }
      if (!running) break;
      await sleepUntilWoken(Math.min(pollIntervalMs, nextRetryAt - Date.now()));
    }
  }

  async function listenForNotifications(): Promise<void> {
    if (client.driver.kind !== 'postgres') return; // one process on PGlite: dispatch and retry wake us directly
    try {
      const subscription = await client.driver.sql.listen(OUTBOX_CHANNEL, () => wake());
      unlisten = () => subscription.unlisten();
    } catch (err) {
      logger.warn({ cause: describeError(err) }, 'outbox LISTEN failed; the relay polls only');
    }
  }

  return {
    dispatch(events) {
      if (stopping || events.length === 0) return;
      queued.push(...events);
      delivering ??= deliverQueued();
    },
    async start() {
      if (running) return;
      running = true;
      stopping = false;
      await listenForNotifications();
      loop = runLoop();
    },
    async stop() {
      stopping = true;
      running = false;
      wake();
      await unlisten?.().catch(() => {});
      unlisten = undefined;
      await loop;
      await delivering;
    },
    drain,
    listDead: ({ limit = 50, offset = 0 } = {}) => listDead(db, limit, offset),
    async retry(eventId) {
      if (!UUID.test(eventId)) return false;
      const revived = await reviveDead(db, eventId);
      if (revived) wake();
      return revived;
    },
    backlog,
    readinessCheck(maxAgeSeconds) {
      return async () => {
        const b = await backlog();
        return {
          ok: b.oldestAgeSeconds <= maxAgeSeconds,
          kind: 'outbox',
          details: { pending: b.count, oldestAgeSeconds: Math.round(b.oldestAgeSeconds), maxAgeSeconds },
        };
      };
    },
  };
}
