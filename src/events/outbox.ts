import { and, desc, eq, inArray, isNull, lt, lte, or, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { rowsOf } from '../db/rows.ts';
import { type OutboxState, outbox, outboxHandled } from '../db/schema.ts';

/** The NOTIFY channel relays LISTEN on (Postgres). */
export const OUTBOX_CHANNEL = 'outbox_events';

export interface NewOutboxEvent {
  id: string;
  type: string;
  payload: unknown;
}

/** An event a relay holds the lease of: nobody else delivers it until `lease` passes. */
export interface ClaimedEvent {
  id: string;
  type: string;
  payload: unknown;
  /** Including this delivery. */
  attempts: number;
  createdAt: Date;
  /** Our lease's end, also the token that proves we still hold it when we finish. */
  lease: Date;
  /** Tried before (an earlier attempt, or revived from dead): some handlers may be done already. */
  triedBefore: boolean;
}

export type DeliveryOutcome =
  | { kind: 'delivered' }
  | { kind: 'retry'; delayMs: number; error: string }
  | { kind: 'dead'; error: string };

/** One delivery attempt's result: the handlers that succeeded and what becomes of the event. */
export interface FinishedEvent {
  event: ClaimedEvent;
  succeeded: readonly string[];
  outcome: DeliveryOutcome;
}

export interface DeadEvent {
  id: string;
  type: string;
  payload: unknown;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
}

export interface Backlog {
  /** Undelivered (pending) events, including those waiting for a retry. */
  count: number;
  /** Age of the oldest of them, 0 when there is none. */
  oldestAgeSeconds: number;
}

const leaseEnd = (leaseMs: number) =>
  sql`date_trunc('milliseconds', now() + make_interval(secs => ${leaseMs / 1000}::float8))`;

const claimedColumns = {
  id: outbox.id,
  type: outbox.type,
  payload: outbox.payload,
  attempts: outbox.attempts,
  createdAt: outbox.createdAt,
  lease: outbox.lockedUntil,
  triedBefore: sql<boolean>`(${outbox.attempts} > 1 or ${outbox.lastError} is not null)`,
};

/**
 * Written in the caller's transaction (pass `uow.db`). With `leaseMs`, the events are claimed by
 * the writer from the start (attempt 1, lease from the database clock) and returned: it delivers
 * them right after commit without a claim query, and relays take over only if that lease runs
 * out (the writer died).
 */
export async function insertEvents(
  db: Database,
  events: readonly NewOutboxEvent[],
  leaseMs?: number,
): Promise<ClaimedEvent[]> {
  if (events.length === 0) return [];
  const rows = events.map((e) => ({ id: e.id, type: e.type, payload: e.payload }));
  if (leaseMs === undefined) {
    await db.insert(outbox).values(rows);
    return [];
  }
  const inserted = await db
    .insert(outbox)
    .values(rows.map((r) => ({ ...r, attempts: 1, lockedUntil: leaseEnd(leaseMs) })))
    .returning({ id: outbox.id, createdAt: outbox.createdAt, lease: outbox.lockedUntil });
  const byId = new Map(inserted.map((r) => [r.id, r]));
  return events.map((e) => {
    const row = byId.get(e.id);
    return {
      ...e,
      attempts: 1,
      createdAt: row?.createdAt as Date,
      lease: row?.lease as Date,
      triedBefore: false,
    };
  });
}

/** Wakes every listening relay once the caller's transaction commits. */
export async function notifyRelays(db: Database): Promise<void> {
  await db.execute(sql`select pg_notify(${OUTBOX_CHANNEL}, '')`);
}

const unlocked = or(isNull(outbox.lockedUntil), lt(outbox.lockedUntil, sql`now()`));

/** Claims up to `limit` due events, skipping rows other relays are claiming right now. */
export async function claimDue(db: Database, limit: number, leaseMs: number): Promise<ClaimedEvent[]> {
  const due = db
    .select({ id: outbox.id })
    .from(outbox)
    .where(and(eq(outbox.state, 'pending'), lte(outbox.availableAt, sql`now()`), unlocked))
    .orderBy(outbox.availableAt, outbox.id)
    .limit(limit)
    .for('update', { skipLocked: true });
  return claim(db, inArray(outbox.id, due), leaseMs);
}

async function claim(db: Database, where: SQL, leaseMs: number): Promise<ClaimedEvent[]> {
  const rows = await db
    .update(outbox)
    .set({ attempts: sql`${outbox.attempts} + 1`, lockedUntil: leaseEnd(leaseMs) })
    .where(where)
    .returning(claimedColumns);
  // uuid v7 ids sort by creation time: deliver in commit order.
  return (rows as ClaimedEvent[]).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Handlers that already succeeded, per event (only redeliveries can have any). */
export async function loadHandled(db: Database, ids: readonly string[]): Promise<Map<string, Set<string>>> {
  const handled = new Map<string, Set<string>>();
  if (ids.length === 0) return handled;
  const rows = await db
    .select({ eventId: outboxHandled.eventId, handler: outboxHandled.handler })
    .from(outboxHandled)
    .where(inArray(outboxHandled.eventId, [...ids]));
  for (const row of rows) {
    const set = handled.get(row.eventId) ?? new Set<string>();
    set.add(row.handler);
    handled.set(row.eventId, set);
  }
  return handled;
}

/**
 * Records, for a batch of attempts, the handlers that succeeded and each event's new state, in
 * one statement. Returns the ids whose lease had been lost (another relay re-claimed them).
 */
export async function finishEvents(db: Database, finished: readonly FinishedEvent[]): Promise<string[]> {
  if (finished.length === 0) return [];
  const pairs = finished.flatMap((f) => f.succeeded.map((handler) => [f.event.id, handler] as const));
  const list = (values: readonly string[]) =>
    sql.join(
      values.map((v) => sql`${v}`),
      sql`, `,
    );
  const handled =
    pairs.length > 0
      ? sql`handled as (
          insert into ${outboxHandled} (event_id, handler)
          select * from unnest(array[${list(pairs.map((p) => p[0]))}]::uuid[], array[${list(pairs.map((p) => p[1]))}]::text[])
          on conflict do nothing
        ), `
      : sql``;
  const rows = sql.join(
    finished.map(({ event, outcome }) => {
      const delaySeconds = outcome.kind === 'retry' ? outcome.delayMs / 1000 : null;
      const error = outcome.kind === 'delivered' ? null : outcome.error;
      const state = outcome.kind === 'dead' ? 'dead' : outcome.kind === 'retry' ? 'pending' : 'delivered';
      return sql`(${event.id}::uuid, ${event.lease.toISOString()}::timestamptz, ${state}::text, ${delaySeconds}::float8, ${error}::text)`;
    }),
    sql`, `,
  );
  const result = await db.execute(sql`with ${handled}v (id, lease, state, delay_seconds, error) as (values ${rows})
    update ${outbox} o set
      state = v.state,
      locked_until = null,
      available_at = case when v.delay_seconds is null then o.available_at
                          else now() + make_interval(secs => v.delay_seconds) end,
      last_error = coalesce(v.error, o.last_error),
      delivered_at = case when v.state = 'delivered' then now() else o.delivered_at end
    from v where o.id = v.id and o.locked_until = v.lease
    returning o.id`);
  const kept = new Set(rowsOf<{ id: string }>(result).map((r) => r.id));
  return finished.filter((f) => !kept.has(f.event.id)).map((f) => f.event.id);
}

/** Events in one state, newest first (the admin API's view of the outbox). */
export async function listEvents(
  db: Database,
  state: OutboxState,
  limit: number,
  offset: number,
): Promise<DeadEvent[]> {
  return db
    .select({
      id: outbox.id,
      type: outbox.type,
      payload: outbox.payload,
      attempts: outbox.attempts,
      lastError: outbox.lastError,
      createdAt: outbox.createdAt,
    })
    .from(outbox)
    .where(eq(outbox.state, state))
    .orderBy(desc(outbox.createdAt), desc(outbox.id))
    .limit(limit)
    .offset(offset);
}

export function listDead(db: Database, limit: number, offset: number): Promise<DeadEvent[]> {
  return listEvents(db, 'dead', limit, offset);
}

/**
 * Pushes our lease on an event further while its handlers still run (a slow or rate-limited send),
 * so no relay takes it over and delivers it twice. Returns the new lease, or undefined if it was lost.
 */
export async function extendLease(db: Database, id: string, lease: Date, leaseMs: number): Promise<Date | undefined> {
  const rows = await db
    .update(outbox)
    .set({ lockedUntil: leaseEnd(leaseMs) })
    .where(and(eq(outbox.id, id), eq(outbox.lockedUntil, lease), eq(outbox.state, 'pending')))
    .returning({ lease: outbox.lockedUntil });
  return rows[0]?.lease ?? undefined;
}

/** Puts a dead event back in the queue with a fresh attempt budget; false when it is not dead. */
export async function reviveDead(db: Database, id: string): Promise<boolean> {
  const rows = await db
    .update(outbox)
    .set({ state: 'pending', attempts: 0, availableAt: sql`now()`, lockedUntil: null })
    .where(and(eq(outbox.id, id), eq(outbox.state, 'dead')))
    .returning({ id: outbox.id });
  return rows.length === 1;
}

export async function measureBacklog(db: Database): Promise<Backlog> {
  const result = await db.execute(
    sql`select count(*)::int as count,
          coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as age
        from ${outbox} where state = 'pending'`,
  );
  const row = rowsOf<{ count: number | string; age: number | string }>(result)[0];
  return { count: Number(row?.count ?? 0), oldestAgeSeconds: Math.max(0, Number(row?.age ?? 0)) };
}

/** `db.execute` answers an array on postgres.js and `{ rows }` on PGlite. */
