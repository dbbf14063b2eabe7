import { personalData } from './candidates.ts';
import { allInstances, startPrivatePostgres } from './infra.ts';
import type { ScenarioResult } from './scenario.ts';
import { scenarioCrash } from './scenario-crash.ts';
import { findSecretsInLogs, scenarioHostile } from './scenario-hostile.ts';
import { scenarioLoad } from './scenario-load.ts';
import { scenarioOpenAi } from './scenario-openai.ts';
import { scenarioPostgres } from './scenario-postgres.ts';
import { scenarioRedis } from './scenario-redis.ts';

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
/** The fault scenarios run fewer candidates: what matters is that load is in flight when the fault hits. */
const faultCandidates = Number(arg('fault-candidates') ?? Math.max(4, Math.round(candidates / 2)));
const bodies = Number(arg('bodies') ?? 10_000);
const only = arg('only')?.split(',');

const scenarios: [string, (pg: Awaited<ReturnType<typeof startPrivatePostgres>>) => Promise<ScenarioResult>][] = [
  ['1', (pg) => scenarioLoad(pg, { candidates, instances })],
  ['2', (pg) => scenarioCrash(pg, { candidates: faultCandidates, instances })],
  ['3', (pg) => scenarioRedis(pg, { candidates: faultCandidates, instances })],
  ['4', (pg) => scenarioPostgres(pg, { candidates: faultCandidates, instances })],
  ['5', (pg) => scenarioOpenAi(pg, { candidates: faultCandidates, instances })],
  ['6', (pg) => scenarioHostile(pg, { bodies, adminRequests: Math.round(bodies / 5), secrets: personalData })],
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

// The logs of every instance of every scenario, scanned for personal data in clear.
const logLines = allInstances.flatMap((i) => i.log);
const leaks = findSecretsInLogs(logLines, personalData());
results.push({
  name: 'logs: no personal data in clear',
  ok: leaks.length === 0,
  seconds: 0,
  figures: { 'log lines scanned': logLines.length, leaks: leaks.length },
  losses: leaks.slice(0, 10),
  notes: [],
});

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
