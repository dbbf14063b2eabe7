import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { type FakeGraphApi, startFakeGraphApi } from '../test/fakes/graph-api.ts';
import { type FakeOpenAiServer, startFakeOpenAi } from '../test/fakes/openai-server.ts';
import { startWebhookReceiver } from '../test/fakes/webhook-receiver.ts';
import { BUSINESS } from '../test/fakes/whatsapp-payloads.ts';
import { freePort, startPrivateRedis } from '../test/support/redis-server.ts';

/**
 * The proof's world: a PRIVATE Postgres cluster (initdb into a temp dir, run as the postgres user, so it may be
 * restarted without touching the shared one), a private redis-server, the fakes on loopback, and the app
 * instances as child processes (`node --import tsx src/main.ts`) whose stdout is kept for the log scan.
 */

export const APP_SECRET = 'proof-app-secret';
export const ADMIN_TOKEN = 'proof-admin-token';
export const WEBHOOK_SECRET = 'proof-webhook-secret';
const PG_BIN = '/usr/lib/postgresql/15/bin';
const ROOT = new URL('..', import.meta.url).pathname;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function asPostgresUser(cmd: string, args: string[]) {
  const isRoot = process.getuid?.() === 0;
  const [file, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  return execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

/** The same without blocking the event loop (the load keeps running while Postgres stops and starts). */
async function asPostgresUserAsync(cmd: string, args: string[]) {
  const isRoot = process.getuid?.() === 0;
  const [file, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  await promisify(execFile)(file, argv);
}

export type PrivatePostgres = Awaited<ReturnType<typeof startPrivatePostgres>>;

export async function startPrivatePostgres() {
  const dir = mkdtempSync(join(tmpdir(), 'proof-pg-'));
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres:postgres', dir]);
  const data = join(dir, 'data');
  asPostgresUser(`${PG_BIN}/initdb`, ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  const start = async () => {
    await asPostgresUserAsync(`${PG_BIN}/pg_ctl`, ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', 'start']);
  };
  /** Stops like a crash (no shutdown checkpoint, every connection cut). */
  const crash = async () => {
    await asPostgresUserAsync(`${PG_BIN}/pg_ctl`, ['-D', data, '-m', 'immediate', '-w', 'stop']);
  };
  await start();
  const url = (db: string) => `postgres://postgres@127.0.0.1:${port}/${db}`;
  const admin = postgres(url('postgres'), { max: 1, onnotice: () => {} });
  let dbs = 0;
  return {
    port,
    url,
    start,
    crash,
    async createDatabase(): Promise<string> {
      const name = `proof_${++dbs}`;
      await admin.unsafe(`create database ${name}`);
      return url(name);
    },
    async destroy() {
      await admin.end({ timeout: 1 }).catch(() => {});
      try {
        asPostgresUser(`${PG_BIN}/pg_ctl`, ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {}
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every instance started in this process, for the final log scan. */
export const allInstances: Instance[] = [];

export interface Instance {
  index: number;
  port: number;
  url: string;
  pid(): number | undefined;
  alive(): boolean;
  /** Every line the instance wrote (stdout + stderr), across restarts. */
  log: string[];
  exits: { code: number | null; signal: string | null; expected: boolean }[];
  start(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  rssMb(): number | undefined;
}

export function createInstance(index: number, port: number, env: Record<string, string>): Instance {
  let child: ChildProcess | undefined;
  let expectedExit = false;
  const log: string[] = [];
  const exits: Instance['exits'] = [];
  const url = `http://127.0.0.1:${port}`;
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line) log.push(line);
  };
  return {
    index,
    port,
    url,
    log,
    exits,
    pid: () => child?.pid,
    alive: () => !!child && child.exitCode === null && child.signalCode === null,
    async start() {
      expectedExit = false;
      child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      const c = child;
      c.once('exit', (code, signal) => exits.push({ code, signal, expected: expectedExit }));
      const deadline = Date.now() + 60_000;
      for (;;) {
        if (c.exitCode !== null) throw new Error(`instance ${index} exited at start-up: ${log.slice(-5).join('\n')}`);
        const ok = await fetch(`${url}/health/live`)
          .then((r) => r.status < 500)
          .catch(() => false);
        if (ok) return;
        if (Date.now() > deadline) throw new Error(`instance ${index} did not start`);
        await sleep(200);
      }
    },
    async kill(signal = 'SIGKILL') {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      expectedExit = true;
      const exited = new Promise((r) => child?.once('exit', r));
      child.kill(signal);
      await exited;
    },
    rssMb() {
      if (!child?.pid) return undefined;
      try {
        const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        return m ? Math.round(Number(m[1]) / 1024) : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

export interface World {
  pg: PrivatePostgres;
  redis: Awaited<ReturnType<typeof startPrivateRedis>>;
  graph: FakeGraphApi;
  openai: FakeOpenAiServer;
  receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  databaseUrl: string;
  sql: postgres.Sql;
  instances: Instance[];
  close(): Promise<void>;
}

/** One fresh database, Redis, fakes and `count` instances (the Postgres cluster is shared between scenarios). */
export async function startWorld(
  pg: PrivatePostgres,
  options: { instances: number; env?: Record<string, string> },
): Promise<World> {
  const databaseUrl = await pg.createDatabase();
  const redis = await startPrivateRedis();
  const graph = await startFakeGraphApi();
  const openai = await startFakeOpenAi({ latencyMs: 30 });
  const receiver = await startWebhookReceiver();
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redis.url,
    ADMIN_API_TOKEN: ADMIN_TOKEN,
    SEED_DEMO: 'false',
    WHATSAPP_TRANSPORT: 'cloud',
    WHATSAPP_GRAPH_URL: graph.url,
    WHATSAPP_ACCESS_TOKEN: graph.accessToken,
    WHATSAPP_PHONE_NUMBER_ID: BUSINESS.phoneNumberId,
    WHATSAPP_APP_SECRET: APP_SECRET,
    WHATSAPP_VERIFY_TOKEN: 'proof-verify',
    OPENAI_API_KEY: 'sk-proof',
    OPENAI_BASE_URL: openai.url,
    OPENAI_TIMEOUT_MS: '3000',
    NOTIFY_WEBHOOK_URL: receiver.url,
    NOTIFY_WEBHOOK_SECRET: WEBHOOK_SECRET,
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...options.env,
  };
  // Migrate once up front so the instances start in parallel without queueing on the migration lock.
  execFileSync(process.execPath, ['--import', 'tsx', 'src/db/migrate-cli.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const instances: Instance[] = [];
  for (let i = 0; i < options.instances; i++) instances.push(createInstance(i, await freePort(), env));
  allInstances.push(...instances);
  await Promise.all(instances.map((i) => i.start()));
  const sql = postgres(databaseUrl, { max: 4, onnotice: () => {} });
  return {
    pg,
    redis,
    graph,
    openai,
    receiver,
    databaseUrl,
    sql,
    instances,
    async close() {
      await Promise.all(instances.map((i) => i.kill('SIGTERM')));
      const logDir = process.env.PROOF_LOG_DIR;
      if (logDir) {
        mkdirSync(logDir, { recursive: true });
        const db = databaseUrl.split('/').pop();
        for (const i of instances)
          writeFileSync(join(logDir, `${db}-instance-${i.index}.log`), `${i.log.join('\n')}\n`);
      }
      await sql.end({ timeout: 1 }).catch(() => {});
      await graph.close();
      await openai.close();
      await receiver.close();
      await redis.stop();
    },
  };
}

/** Calls the admin API of one instance. */
export async function adminApi(instance: Instance, method: string, path: string, body?: unknown) {
  return fetch(`${instance.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}
