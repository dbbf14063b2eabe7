import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `npm run bench -- NAME` runs bench/NAME.ts, which prints one JSON line of figures. */
const dir = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.replace(/\.ts$/, ''));
const name = process.argv[2];
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <${available.join('|') || 'none yet'}>`);
  process.exit(2);
}
await import(`./${name}.ts`);
