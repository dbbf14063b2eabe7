import { and, eq, sql } from 'drizzle-orm';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { KvStore } from '../cache/kv-store.ts';
import type { DbAccess } from '../db/access.ts';
import { applications, candidates } from '../db/schema.ts';
import type { Logger } from '../logger.ts';
import type { ApplicationRepository } from './applications.ts';

/**
 * The recruiting funnel, read from Postgres at scrape time: applications by process and status,
 * and in-progress applications by conversation step (where candidates stall and drop off).
 */
export function createFunnelMetrics(registry: Registry, deps: { applications: ApplicationRepository; uow: DbAccess }) {
  new Gauge({
    name: 'recruiting_applications',
    help: 'Applications by process code and status',
    labelNames: ['process', 'status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await deps.applications.countByProcessAndStatus().catch(() => []);
      for (const r of rows) this.set({ process: r.processCode, status: r.status }, r.n);
    },
  });
  new Gauge({
    name: 'recruiting_in_progress_by_step',
    help: 'Applications still in progress, by the conversation step they stopped at',
    labelNames: ['step'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await deps.applications.countInProgressByStep().catch(() => []);
      for (const r of rows) this.set({ step: r.step ?? 'unknown' }, r.n);
    },
  });
}

export interface DropOffSweepDeps {
  registry: Registry;
  uow: DbAccess;
  /** Shared store: holds the sweep's watermark and a per-interval lease, so instances count each drop-off once. */
  kv: KvStore;
  /** SESSION_TTL_SECONDS: an in-progress application idle for longer has dropped off. */
  sessionTtlSeconds: number;
  /** How often to sweep (default 60 s). */
  intervalMs?: number;
  logger: Logger;
  now?: () => number;
}

const WATERMARK_KEY = 'funnel:dropoff:watermark';

/**
 * The drop-off counter: conversations whose session expired, by the step they stopped at. A periodic
 * sweep counts the in-progress applications whose last activity (last inbound message or change)
 * crossed the session TTL since the previous sweep, so each expiry is counted once, on one instance
 * (a lease per interval) and across restarts (the watermark lives in the shared store). A candidate
 * who comes back and stalls again is counted again. The first sweep only sets the watermark.
 */
export function createDropOffSweep(deps: DropOffSweepDeps) {
  const { uow, kv, logger } = deps;
  const intervalMs = deps.intervalMs ?? 60_000;
  const ttlMs = deps.sessionTtlSeconds * 1000;
  const now = deps.now ?? Date.now;
  const expired = new Counter({
    name: 'recruiting_conversations_expired_total',
    help: 'Conversations whose session expired before the application was submitted, by the step they stopped at',
    labelNames: ['step'] as const,
    registers: [deps.registry],
  });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;

  /** Counts what expired since the last sweep; returns how many (0 when another instance holds this interval). */
  async function sweep(): Promise<number> {
    const at = now();
    const lease = `funnel:dropoff:lease:${Math.floor(at / intervalMs)}`;
    if (!(await kv.set(lease, '1', { ttlMs: 2 * intervalMs, nx: true }))) return 0;
    const until = at - ttlMs;
    const stored = Number(await kv.get(WATERMARK_KEY));
    const from = Number.isFinite(stored) && stored > 0 ? stored : until;
    let total = 0;
    if (until > from) {
      const lastActive = sql`greatest(${applications.updatedAt}, ${candidates.lastInboundAt})`;
      const rows = await uow.db
        .select({ step: applications.step, n: sql<number>`count(*)::int` })
        .from(applications)
        .innerJoin(candidates, eq(candidates.id, applications.candidateId))
        .where(
          and(
            eq(applications.status, 'in_progress'),
            sql`${lastActive} > ${new Date(from).toISOString()}::timestamptz`,
            sql`${lastActive} <= ${new Date(until).toISOString()}::timestamptz`,
          ),
        )
        .groupBy(applications.step);
      for (const r of rows) {
        expired.inc({ step: r.step ?? 'unknown' }, r.n);
        total += r.n;
      }
    }
    if (until > from || !(stored > 0)) await kv.set(WATERMARK_KEY, String(Math.max(from, until)));
    return total;
  }

  return {
    sweep,
    start() {
      timer ??= setInterval(() => {
        running ??= sweep()
          .catch((err: Error) => logger.warn({ err: { message: err.message } }, 'drop-off sweep failed'))
          .finally(() => {
            running = undefined;
          });
      }, intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
