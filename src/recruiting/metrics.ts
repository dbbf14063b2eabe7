import { Gauge, type Registry } from 'prom-client';
import type { DbAccess } from '../db/access.ts';
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
