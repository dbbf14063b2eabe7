import type { FakeFault } from '../test/fakes/openai-server.ts';
import type { PrivatePostgres } from './infra.ts';
import { loadFigures, result, runLoad, type ScenarioResult } from './scenario.ts';

/**
 * 5. OpenAI trouble: one call in three answers 429, 500 or times out (the proof sets OPENAI_TIMEOUT_MS=3000);
 * every application must still get its analysis, none stuck.
 */
export async function scenarioOpenAi(
  pg: PrivatePostgres,
  o: { candidates: number; instances: number },
): Promise<ScenarioResult> {
  const started = performance.now();
  const pattern: FakeFault[] = [
    { status: 429, headers: { 'retry-after-ms': '200' } },
    {},
    {},
    { status: 500 },
    {},
    {},
    { delayMs: 3_500 },
    {},
    {},
  ];
  const out = await runLoad(pg, {
    run: '55',
    candidates: o.candidates,
    // Every candidate its own CV: as many analyses as possible hit the faults.
    distinctCvs: o.candidates,
    instances: o.instances,
    rampMs: 4_000,
    fault: async (world) => {
      for (let i = 0; i < 200; i++) world.openai.enqueue(...pattern);
    },
  });
  try {
    const failed = out.world.openai.requests.length - out.invariants.openaiCompletions;
    return result(
      '5 openai trouble',
      started,
      { ...loadFigures(out), 'openai faults answered': failed },
      out.losses,
      out.invariants.failures,
    );
  } finally {
    await out.world.close();
  }
}
