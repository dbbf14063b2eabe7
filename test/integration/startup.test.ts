import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { createTestDb } from '../support/db.ts';
import { freePort, hasRedisServer, startPrivateRedis } from '../support/redis-server.ts';

const TSX = join(process.cwd(), 'node_modules/.bin/tsx');

function startService(env: Record<string, string>): ChildProcess & { output: () => string } {
  const child = spawn(TSX, ['src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  return Object.assign(child, { output: () => out });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Start-up waits are generous: a loaded CI machine compiles and boots the service slowly. */
async function waitForStatus(url: string, status: number, timeoutMs = 90_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      const body = (await res.json()) as Record<string, unknown>;
      if (res.status === status) return body;
      last = `${res.status} ${JSON.stringify(body)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer ${status} in time; last: ${last}`);
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the service as a process', () => {
  test.each([
    [{ PORT: 'abc' }, /PORT: must be a port number/],
    [{ DATABASE_URL: 'nonsense' }, /DATABASE_URL: must be a URL/],
  ])('bad configuration %j exits non-zero with one readable line', async (env, pattern) => {
    const child = startService(env);
    expect(await exitOf(child)).not.toBe(0);
    const out = child.output().trim();
    expect(out).toMatch(pattern);
    expect(out.split('\n')).toHaveLength(1);
  });

  test('on embedded defaults it serves, reports pglite + memory, and exits 0 on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'war-start-'));
    dirs.push(dir);
    const port = await freePort();
    const child = startService({ PORT: String(port), PGLITE_DIR: join(dir, 'pglite') });
    const body = await waitForStatus(`http://127.0.0.1:${port}/health/ready`, 200);
    expect(body.components).toMatchObject({ database: { kind: 'pglite' }, kv: { kind: 'memory' } });
    child.kill('SIGTERM');
    expect(await exitOf(child)).toBe(0);
  }, 120_000);

  test.runIf(!!process.env.TEST_DATABASE_URL && hasRedisServer)(
    'on Postgres + Redis, readiness follows a Redis outage without a restart',
    async () => {
      const db = await createTestDb('postgres');
      const redis = await startPrivateRedis();
      const port = await freePort();
      const child = startService({ PORT: String(port), DATABASE_URL: db.url as string, REDIS_URL: redis.url });
      try {
        const ready = `http://127.0.0.1:${port}/health/ready`;
        const body = await waitForStatus(ready, 200);
        expect(body.components).toMatchObject({ database: { kind: 'postgres' }, kv: { kind: 'redis' } });
        await redis.stop();
        const down = await waitForStatus(ready, 503, 5_000);
        expect(down.components).toMatchObject({ kv: { ok: false } });
        await redis.start();
        await waitForStatus(ready, 200, 10_000);
        child.kill('SIGTERM');
        expect(await exitOf(child)).toBe(0);
      } finally {
        child.kill('SIGKILL');
        await redis.stop();
        await db.destroy();
      }
    },
    120_000,
  );
});
