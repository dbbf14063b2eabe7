import type { PrivatePostgres } from './infra.ts';
import { loadFigures, result, runLoad, type ScenarioResult } from './scenario.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * 4. Postgres restart mid-load: the PRIVATE cluster stops like a crash (`pg_ctl stop -m immediate`, every
 * connection cut), stays down for a few seconds and starts again.
 */
export async function scenarioPostgres(
  pg: PrivatePostgres,
  o: { candidates: number; instances: number; downMs?: number },
): Promise<ScenarioResult> {
  const started = performance.now();
  const notes: string[] = [];
  const out = await runLoad(pg, {
    run: '44',
    candidates: o.candidates,
    distinctCvs: Math.max(1, Math.ceil(o.candidates / 4)),
    instances: o.instances,
    rampMs: 4_000,
    faultAfterMs: 3_000,
    fault: async () => {
      await pg.crash();
      notes.push(`postgres stopped (immediate) at ${Math.round((performance.now() - started) / 1000)} s`);
      await sleep(o.downMs ?? 5_000);
      await pg.start();
      notes.push('postgres started again');
    },
  });
  try {
    return result('4 postgres restart', started, loadFigures(out), out.losses, [...notes, ...out.invariants.failures]);
  } finally {
    await out.world.close();
  }
}
