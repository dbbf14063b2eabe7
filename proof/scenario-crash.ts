import type { Instance, PrivatePostgres } from './infra.ts';
import { loadFigures, result, runLoad, type ScenarioResult } from './scenario.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * 2. Crash: SIGKILL one instance mid-load and start it again. Its outbox leases expire (60 s) and another
 * instance delivers what it held; a send already made when it died may be made again (the send-then-crash
 * window), which is reported and bounded by the relay's concurrency.
 */
export async function scenarioCrash(
  pg: PrivatePostgres,
  o: { candidates: number; instances: number },
): Promise<ScenarioResult> {
  const started = performance.now();
  const notes: string[] = [];
  const out = await runLoad(pg, {
    run: '22',
    candidates: o.candidates,
    distinctCvs: Math.max(1, Math.ceil(o.candidates / 4)),
    instances: o.instances,
    rampMs: 4_000,
    faultAfterMs: 3_000,
    allowDuplicateSends: 8,
    fault: async (world) => {
      const victim = world.instances[1] as Instance;
      const t0 = performance.now();
      await victim.kill('SIGKILL');
      notes.push(`instance 1 SIGKILLed at ${Math.round((performance.now() - started) / 1000)} s`);
      await sleep(2_000);
      await victim.start();
      notes.push(`instance 1 back after ${Math.round(performance.now() - t0)} ms`);
    },
  });
  try {
    return result('2 crash (SIGKILL)', started, loadFigures(out), out.losses, [...notes, ...out.invariants.failures]);
  } finally {
    await out.world.close();
  }
}
