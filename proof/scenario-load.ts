import type { PrivatePostgres } from './infra.ts';
import { loadFigures, result, runLoad, type ScenarioResult } from './scenario.ts';

/** 1. Load: many candidates apply at once over several instances; identical CVs must cost one OpenAI call each. */
export async function scenarioLoad(
  pg: PrivatePostgres,
  o: { candidates: number; instances: number },
): Promise<ScenarioResult> {
  const started = performance.now();
  const distinctCvs = Math.max(1, Math.ceil(o.candidates / 4));
  const out = await runLoad(pg, {
    run: '11',
    candidates: o.candidates,
    distinctCvs,
    instances: o.instances,
    rampMs: 2_000,
  });
  try {
    const found = [...out.losses];
    // Every distinct CV is analysed once, however many candidates send it and whichever instance gets it.
    if (out.invariants.openaiCompletions !== distinctCvs)
      found.push(`openaiCompletions=${out.invariants.openaiCompletions} for ${distinctCvs} distinct CVs`);
    return result('1 load', started, { ...loadFigures(out), distinctCvs }, found, out.invariants.failures);
  } finally {
    await out.world.close();
  }
}
