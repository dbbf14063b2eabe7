import type { PrivatePostgres } from './infra.ts';
import { loadFigures, result, runLoad, type ScenarioResult } from './scenario.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** 3. Redis outage: Redis stops for 10 s mid-load and comes back EMPTY; sessions are rebuilt from Postgres. */
export async function scenarioRedis(
  pg: PrivatePostgres,
  o: { candidates: number; instances: number; outageMs?: number },
): Promise<ScenarioResult> {
  const started = performance.now();
  const notes: string[] = [];
  const out = await runLoad(pg, {
    run: '33',
    candidates: o.candidates,
    distinctCvs: Math.max(1, Math.ceil(o.candidates / 4)),
    instances: o.instances,
    rampMs: 4_000,
    faultAfterMs: 3_000,
    fault: async (world) => {
      await world.redis.stop();
      notes.push(`redis stopped at ${Math.round((performance.now() - started) / 1000)} s`);
      await sleep(o.outageMs ?? 10_000);
      await world.redis.start();
      notes.push('redis restarted empty');
    },
  });
  try {
    return result('3 redis outage', started, loadFigures(out), out.losses, [...notes, ...out.invariants.failures]);
  } finally {
    await out.world.close();
  }
}
