import { startPrivatePostgres } from './infra.ts';
import type { ScenarioResult } from './scenario.ts';
import { scenarioLoad } from './scenario-load.ts';

/**
 * `npm run proof [-- --candidates N --instances N --only 1,3]`: runs the scenarios of issue 9 on a private
 * Postgres + Redis, prints a summary table and one JSON line, and exits non-zero on any loss.
 */
function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const candidates = Number(arg('candidates') ?? 60);
const instances = Number(arg('instances') ?? 3);
const only = arg('only')?.split(',');

const scenarios: [string, (pg: Awaited<ReturnType<typeof startPrivatePostgres>>) => Promise<ScenarioResult>][] = [
  ['1', (pg) => scenarioLoad(pg, { candidates, instances })],
];

const pg = await startPrivatePostgres();
const results: ScenarioResult[] = [];
try {
  for (const [id, run] of scenarios) {
    if (only && !only.includes(id)) continue;
    process.stderr.write(`proof: scenario ${id}...\n`);
    try {
      results.push(await run(pg));
    } catch (err) {
      results.push({
        name: id,
        ok: false,
        seconds: 0,
        figures: {},
        losses: [`error: ${(err as Error).stack}`],
        notes: [],
      });
    }
    const last = results.at(-1);
    process.stderr.write(`proof: scenario ${id} ${last?.ok ? 'ok' : 'FAILED'} in ${last?.seconds}s\n`);
  }
} finally {
  await pg.destroy();
}

printTable(results);
console.log(
  JSON.stringify({ proof: results.every((r) => r.ok) ? 'pass' : 'fail', candidates, instances, scenarios: results }),
);
process.exit(results.every((r) => r.ok) ? 0 : 1);

function printTable(rs: ScenarioResult[]) {
  const lines: string[] = [];
  for (const r of rs) {
    lines.push(`${r.ok ? 'PASS' : 'FAIL'}  ${r.name}  (${r.seconds} s)`);
    for (const [k, v] of Object.entries(r.figures)) lines.push(`      ${k.padEnd(28)} ${v}`);
    for (const l of r.losses) lines.push(`   !! ${l}`);
    for (const n of r.notes) lines.push(`    · ${n}`);
  }
  process.stderr.write(`\n${lines.join('\n')}\n\n`);
}
