import type { DbClient } from '../db/client.ts';
import type { OutboxDispatcher } from '../db/transaction-manager.ts';
import { describeError, retryDelayMs } from '../db/tx-errors.ts';
import { AppError } from '../errors.ts';
import type { ReadinessCheck } from '../http/health.ts';
import { type Logger, scrub } from '../logger.ts';
import type { EventBus } from './bus.ts';
import type { OutboxMetrics } from './metrics.ts';
import { defaultOrderingKey, type OrderingKey } from './ordering.ts';
import {
  type Backlog,
  type ClaimedEvent,
  claimDue,
  type DeadEvent,
  type DeliveryOutcome,
  extendLease,
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
  /** Events claimed per query, and at most held by the loop at once (default 100). */
  batchSize?: number;
  /**
   * How long a claim holds an event; past it another relay may deliver it again (default 60 s).
   * It runs from the claim, so it must cover the wait behind earlier events of the same key too.
   */
  leaseMs?: number;
  /** Poll period; on Postgres LISTEN/NOTIFY wakes the relay sooner (default 5 s on Postgres, 1 s on PGlite). */
  pollIntervalMs?: number;
  /** Redelivery backoff: exponential from `backoffBaseMs` (1 s) to `backoffMaxMs` (5 min), jittered. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** How often the loop refreshes the backlog gauges (default 5 s). */
  backlogIntervalMs?: number;
  /** Events whose handlers may run at once (default 8). */
  concurrency?: number;
  /**
   * Events with the same key are delivered one at a time, in the order they were committed or
   * claimed; events with different keys, or none, run concurrently (default `defaultOrderingKey`).
   * Only first deliveries keep that order: a retried event runs again after its backoff, whatever
   * came after it.
   */
  orderingKey?: OrderingKey;
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

/** While other handlers still run, a finished event waits at most this long for its result to be recorded. */
const RECORD_WITHIN_MS = 50;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_ERROR_CHARS = 2_000;

/** Events handed over together (one dispatch, one claim); `settled` once each is recorded or given up. */
interface Batch {
  left: number;
  fromLoop: boolean;
  resolve: () => void;
}

/** One event waiting for, or running, its handlers. */
interface Job {
  event: ClaimedEvent;
  /** Handlers that already succeeded on an earlier attempt. */
  done: Set<string> | undefined;
  key: string | undefined;
  batch: Batch;
}

/**
 * Delivers outbox events to the bus: at once for the events this process commits (`dispatch`:
 * they were written already leased to it, so no claim query), and in a loop for everything else
 * due (crash leftovers once their lease ran out, retries, events of writers without a dispatcher).
 * The loop claims with a lease (`FOR UPDATE SKIP LOCKED`), so two relays never deliver an event at
 * once; each handler's success is recorded in `outbox_handled` and never re-run on redelivery.
 *
 * Both sources feed one scheduler: handlers of up to `concurrency` events run at once, events of
 * one ordering key one after another. Results are recorded in batches as events finish, so a slow
 * event holds back neither other keys nor the recording of fast ones.
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
  const concurrency = options.concurrency ?? 8;
  const orderingKey = options.orderingKey ?? defaultOrderingKey;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new AppError('internal', `Outbox relay concurrency must be a positive integer, got ${concurrency}`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new AppError('internal', `Outbox relay batchSize must be a positive integer, got ${batchSize}`);
  }
  /** The loop claims again once it holds at most this many events (so claims stay large). */
  const refillAt = Math.floor(batchSize / 2);

  let running = false;
  let stopping = false;
  let loop: Promise<void> | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  let wakeRequested = false;
  let wakeSleeper: (() => void) | undefined;
  let nextRetryAt = Number.POSITIVE_INFINITY;

  /** Jobs free to start, in submission order (their key, if any, is held by them). */
  const ready = new Fifo<Job>();
  /** Keys held by a queued or running job -> the jobs of that key waiting behind it. */
  const waiting = new Map<string, Job[]>();
  let active = 0;
  /** Finished attempts not recorded yet. */
  const unrecorded: { job: Job; finished: FinishedEvent }[] = [];
  let recording: Promise<void> | undefined;
  let recordTimer: NodeJS.Timeout | undefined;
  /** Events claimed by the loop (or drain) and not settled: bounds what waits under a lease. */
  let loopHeld = 0;
  let roomWaiters: (() => void)[] = [];
  /** Unsettled batches: stop() waits for them. */
  const unsettled = new Set<Promise<void>>();

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

  /** Queues events for delivery; resolves once each has been recorded (or left to the relays). */
  function submit(events: readonly ClaimedEvent[], handled: Map<string, Set<string>>, fromLoop: boolean) {
    if (events.length === 0) return Promise.resolve();
    let resolve = () => {};
    const settled = new Promise<void>((r) => {
      resolve = r;
    });
    unsettled.add(settled);
    void settled.then(() => unsettled.delete(settled));
    const batch: Batch = { left: events.length, fromLoop, resolve };
    for (const event of events) enqueue({ event, done: handled.get(event.id), key: keyOf(event), batch });
    pump();
    return settled;
  }

  function keyOf(event: ClaimedEvent): string | undefined {
    try {
      return orderingKey(event);
    } catch (err) {
      logger.warn({ eventId: event.id, type: event.type, err }, 'ordering key failed; the event is not ordered');
      return undefined;
    }
  }

  function enqueue(job: Job): void {
    const behind = job.key === undefined ? undefined : waiting.get(job.key);
    if (behind) {
      behind.push(job);
      return;
    }
    if (job.key !== undefined) waiting.set(job.key, []);
    ready.push(job);
  }

  /** Passes the job's key to the next job of that key. */
  function release(job: Job): void {
    if (job.key === undefined) return;
    const next = waiting.get(job.key)?.shift();
    if (next) ready.push(next);
    else waiting.delete(job.key);
  }

  function pump(): void {
    while (active < concurrency) {
      const job = ready.shift();
      if (!job) return;
      if (job.event.lease.getTime() <= Date.now()) {
        // Waited past its lease: it belongs to the relays now (another may hold it already).
        logger.warn(
          { eventId: job.event.id, type: job.event.type },
          'outbox lease ran out while queued; left to relays',
        );
        release(job);
        settle(job);
        continue;
      }
      active++;
      void run(job);
    }
  }

  async function run(job: Job): Promise<void> {
    let finished: FinishedEvent | undefined;
    try {
      await undefined; // dispatch() must not run handlers in the committing caller's stack
      finished = await runHandlers(job.event, job.done);
    } catch (err) {
      logger.error({ eventId: job.event.id, type: job.event.type, cause: describeError(err) }, 'event delivery failed');
    }
    active--;
    release(job);
    pump();
    if (finished) unrecorded.push({ job, finished });
    else settle(job); // its lease runs out and the relays deliver it again
    scheduleRecord();
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
    const keeper = keepLease(event);
    try {
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
    } finally {
      await keeper.stop();
    }
    return { event, succeeded, outcome: decide(event, failures) };
  }

  /** While an event's handlers run, renews its lease halfway to each expiry (the new lease is the finish token). */
  function keepLease(event: ClaimedEvent): { stop(): Promise<void> } {
    let timer: NodeJS.Timeout | undefined;
    let renewing: Promise<void> | undefined;
    let stopped = false;
    const schedule = () => {
      timer = setTimeout(renew, Math.max(0, (event.lease.getTime() - Date.now()) / 2));
      timer.unref();
    };
    const renew = () => {
      renewing = extendLease(db, event.id, event.lease, leaseMs)
        .then((lease) => {
          if (!lease) return;
          event.lease = lease;
          if (!stopped) schedule();
        })
        .catch((err) => logger.warn({ eventId: event.id, cause: describeError(err) }, 'outbox lease renewal failed'));
    };
    schedule();
    return {
      async stop() {
        stopped = true;
        clearTimeout(timer);
        await renewing;
      },
    };
  }

  function decide(event: ClaimedEvent, failures: string[]): DeliveryOutcome {
    if (failures.length === 0) return { kind: 'delivered' };
    const error = scrub(failures.join('; ')).slice(0, MAX_ERROR_CHARS);
    if (event.attempts >= maxAttempts) return { kind: 'dead', error };
    return { kind: 'retry', error, delayMs: retryDelayMs(event.attempts, backoffBaseMs, backoffMaxMs) };
  }

  /**
   * One statement per batch of results: at once when no handler is running any more or a full
   * batch is waiting, else within RECORD_WITHIN_MS. A crash re-runs at most what was not recorded.
   */
  function scheduleRecord(): void {
    if (unrecorded.length === 0 || recording) return;
    if (active === 0 || unrecorded.length >= batchSize) {
      recordNow();
      return;
    }
    recordTimer ??= setTimeout(recordNow, RECORD_WITHIN_MS);
  }

  function recordNow(): void {
    clearTimeout(recordTimer);
    recordTimer = undefined;
    if (recording || unrecorded.length === 0) return;
    const chunk = unrecorded.splice(0, batchSize);
    recording = record(chunk.map((u) => u.finished))
      .catch((err) => {
        logger.warn(
          { events: chunk.length, cause: describeError(err) },
          'recording delivery results failed; relays redeliver the events once their lease runs out',
        );
      })
      .finally(() => {
        recording = undefined;
        for (const { job } of chunk) settle(job);
        scheduleRecord();
      });
  }

  /**
   * Writes the results. While the database is unreachable (a restart), keeps trying until the
   * earliest lease is about to run out: recorded in time, a delivered event is not delivered again
   * (a WhatsApp message sent twice); past the lease, relays redeliver it anyway.
   */
  async function record(finished: readonly FinishedEvent[]): Promise<void> {
    const leaseEndsAt = Math.min(...finished.map((f) => f.event.lease.getTime()));
    let lost: string[];
    for (let attempt = 1; ; attempt++) {
      try {
        lost = await finishEvents(db, finished);
        break;
      } catch (err) {
        const wait = Math.min(100 * 2 ** attempt, 2_000);
        if (stopping || Date.now() + wait >= leaseEndsAt - 1_000) throw err;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
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

  function settle(job: Job): void {
    const { batch } = job;
    if (--batch.left === 0) batch.resolve();
    if (batch.fromLoop) releaseRoom(1);
  }

  function releaseRoom(events: number): void {
    loopHeld -= events;
    if (loopHeld > refillAt || roomWaiters.length === 0) return;
    const waiters = roomWaiters;
    roomWaiters = [];
    for (const resolve of waiters) resolve();
  }

  function roomFreed(): Promise<void> {
    if (loopHeld <= refillAt) return Promise.resolve();
    return new Promise((resolve) => roomWaiters.push(resolve));
  }

  /**
   * Claims due events while the loop holds few enough (without waiting for their delivery);
   * `full` when it stopped for lack of room rather than of due events.
   */
  async function claimWhileRoom(): Promise<{ claimed: number; settled: Promise<void>[]; full: boolean }> {
    let claimed = 0;
    const settled: Promise<void>[] = [];
    for (;;) {
      if (loopHeld > refillAt) return { claimed, settled, full: true };
      const room = batchSize - loopHeld;
      loopHeld += room; // reserved before the awaits: a concurrent drain() sees it
      let events: ClaimedEvent[] = [];
      let handled: Map<string, Set<string>>;
      try {
        events = await claimDue(db, room, leaseMs);
        handled = await loadHandled(
          db,
          events.filter((e) => e.triedBefore).map((e) => e.id),
        );
      } catch (err) {
        releaseRoom(room); // claimed events, if any, go back to the relays when their lease runs out
        throw err;
      }
      releaseRoom(room - events.length);
      claimed += events.length;
      settled.push(submit(events, handled, true));
      if (events.length < room) return { claimed, settled, full: false };
    }
  }

  async function drain(): Promise<number> {
    let total = 0;
    const settled: Promise<void>[] = [];
    for (;;) {
      const round = await claimWhileRoom();
      total += round.claimed;
      settled.push(...round.settled);
      if (!round.full) break;
      await roomFreed();
    }
    await Promise.all(settled);
    return total;
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
      let full = false;
      try {
        const round = await claimWhileRoom();
        full = round.full;
        if (round.claimed > 0) logger.debug({ events: round.claimed }, 'outbox relay claimed a backlog');
        if (Date.now() - backlogMeasuredAt >= backlogIntervalMs) {
          backlogMeasuredAt = Date.now();
          await backlog();
        }
      } catch (err) {
        logger.warn({ cause: describeError(err) }, 'outbox relay pass failed');
      }
      if (!running) break;
      if (full) await roomFreed();
      else await sleepUntilWoken(Math.min(pollIntervalMs, nextRetryAt - Date.now()));
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
      // Written by this process's commit: first attempts, no handler done yet.
      void submit(events, new Map(), false);
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
      loop = undefined;
      while (unsettled.size > 0) await Promise.all(unsettled);
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

/** A queue with O(1) shift. */
class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}
