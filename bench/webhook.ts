/**
 * `npm run bench -- webhook`: the WhatsApp webhook under load on loopback, 50 connections, signed
 * deliveries from many candidates mid-application (each message a fresh wamid answering a text
 * screening question), three servers, each in a child process, driven by autocannon from this one:
 *
 * - floor: a bare express + ioredis + postgres.js handler doing one transaction and three Redis
 *   calls per message (the least any durable handler does);
 * - transport: the real express app and webhook router (signature, zod, normalization) with the
 *   floor's work as its handler, to tell the transport's cost from the engine's;
 * - app: the real service, `src/main.ts` on Postgres + Redis with a fake Graph API
 *   (WHATSAPP_GRAPH_URL) receiving the replies: lock, dedupe, session, machine, answers,
 *   transcript and outbox in one transaction per message, replies sent after commit.
 *
 * Prints one JSON line: messages/s, p50/p99 ack latency and errors of each, app/floor ratio and the
 * app's peak RSS (VmHWM). Targets: ratio >= 0.6, app p99 < 100 ms, RSS < 200 MB.
 *
 * Needs Postgres and Redis: BENCH_DATABASE_URL (an admin URL; a throwaway database is created and
 * dropped) and BENCH_REDIS_URL (keys under a unique prefix, deleted after), falling back to TEST_* and
 * then to local defaults. BENCH_DURATION (seconds per run, default 8), BENCH_CONNECTIONS (default 50),
 * BENCH_CANDIDATES (default 2000).
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import express from 'express';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { uuidv7 } from 'uuidv7';
import { createApp } from '../src/http/app.ts';
import { signBody } from '../src/http/auth.ts';
import { createLogger } from '../src/logger.ts';
import { createHttpMetrics, createMetricsRegistry } from '../src/observability/metrics.ts';
import type { InboundMessage } from '../src/whatsapp/channel.ts';
import { createWhatsAppWebhookRouter } from '../src/whatsapp/cloud-webhook.ts';
import { createWhatsAppMetrics } from '../src/whatsapp/metrics.ts';
import { startFakeGraphApi } from '../test/fakes/graph-api.ts';
import { BUSINESS } from '../test/fakes/whatsapp-payloads.ts';

const APP_SECRET = 'bench-app-secret';
const ADMIN_TOKEN = 'bench-admin-token';
const adminUrl =
  process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const duration = Number(process.env.BENCH_DURATION ?? 8);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const CANDIDATES = Number(process.env.BENCH_CANDIDATES ?? 2_000);
const WARMUP_SECONDS = 2;
/** BENCH_ONLY=app skips the floor and the transport (for profiling the app). */
const only = process.env.BENCH_ONLY;
const QUESTIONS = 20;
const ANSWER = 'Tengo 5 años de experiencia con Node.js y PostgreSQL';

type Variant = 'floor' | 'transport';

// ---- child: the floor or the transport ------------------------------------------------------------

async function serve(variant: Variant, dbUrl: string, prefix: string) {
  const sql = postgres(dbUrl, { max: 10, onnotice: () => {} });
  const redis = new Redis(redisUrl, { keyPrefix: prefix, enableAutoPipelining: true });

  /** The per-message work of both variants: record it in one transaction, then touch the session thrice. */
  async function record(id: string, phone: string, text: string) {
    await sql.begin(async (tx) => {
      await tx`insert into bench_inbound (id, phone, body) values (${id}, ${phone}, ${text}) on conflict do nothing`;
    });
    const session = await redis.get(`session:${phone}`);
    await redis.set(
      `session:${phone}`,
      JSON.stringify({ step: 'question', n: (session?.length ?? 0) % 100 }),
      'PX',
      86_400_000,
    );
    await redis.incr('inbound:count');
  }

  let app: express.Express;
  if (variant === 'floor') {
    app = express();
    app.use(express.json({ limit: '1mb' }));
    app.post('/webhooks/whatsapp', async (req, res) => {
      try {
        const m = req.body?.entry?.[0]?.changes?.[0]?.value?.messages?.[0];
        if (m) await record(m.id, m.from, m.text?.body ?? '');
        res.sendStatus(200);
      } catch {
        res.sendStatus(500);
      }
    });
  } else {
    const logger = createLogger({ level: 'info', destination: createWriteStream('/dev/null') });
    const registry = createMetricsRegistry();
    const router = createWhatsAppWebhookRouter({
      appSecret: APP_SECRET,
      logger,
      metrics: createWhatsAppMetrics(registry),
      handler: {
        async onMessages(messages: InboundMessage[]) {
          for (const m of messages) await record(m.id, m.from, m.text ?? '');
        },
      },
    });
    app = createApp({ logger, metrics: createHttpMetrics(registry), routers: [router] });
  }
  const server = app.listen(0, '127.0.0.1', () => {
    process.send?.({ port: (server.address() as AddressInfo).port });
  });
  process.on('message', async (msg: { cmd: string }) => {
    if (msg.cmd !== 'stop') return;
    server.close();
    server.closeAllConnections();
    await sql.end({ timeout: 2 });
    redis.disconnect();
    process.send?.({ stopped: true }, () => process.exit(0));
  });
}

// ---- parent: load and compare ---------------------------------------------------------------------

const waIdOf = (candidate: number) => String(34_600_000_000 + candidate);

function body(candidate: number, n: number): string {
  const waId = waIdOf(candidate);
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: BUSINESS.wabaId,
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: BUSINESS.displayPhone, phone_number_id: BUSINESS.phoneNumberId },
              contacts: [{ profile: { name: 'Candidate' }, wa_id: waId }],
              messages: [
                {
                  from: waId,
                  id: `wamid.BENCH${randomBytes(12).toString('hex')}${n}`,
                  timestamp: String(Math.floor(Date.now() / 1000)),
                  type: 'text',
                  text: { body: ANSWER },
                },
              ],
            },
          },
        ],
      },
    ],
  });
}

interface Figures {
  messagesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

/**
 * Drives `url` for the warm-up then the measured run. Messages go round-robin over the candidates,
 * so each candidate answers a few questions and the number of in-flight messages per phone stays low.
 */
async function load(url: string, offset: number): Promise<Figures> {
  let n = offset;
  const request = {
    method: 'POST',
    path: '/webhooks/whatsapp',
    setupRequest(req: { headers?: Record<string, string> }) {
      const raw = body(n++ % CANDIDATES, n);
      return {
        ...req,
        body: raw,
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(raw, APP_SECRET) },
      };
    },
  };
  await autocannon({ url, connections, duration: WARMUP_SECONDS, requests: [request] });
  const result = await autocannon({ url, connections, duration, requests: [request] });
  return {
    messagesPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

async function runChild(variant: Variant, dbUrl: string, prefix: string): Promise<Figures> {
  const child = fork(fileURLToPath(import.meta.url), ['serve', variant, dbUrl, prefix], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`${variant} server exited with ${code}`)));
  });
  try {
    return await load(`http://127.0.0.1:${port}`, 0);
  } finally {
    await new Promise((resolve) => {
      child.once('message', resolve);
      child.send({ cmd: 'stop' });
    });
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Peak and current resident set of a process, from /proc (Linux). */
function memoryOf(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { peak: kb('VmHWM'), now: kb('VmRSS') };
}

async function startMain(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  // node itself (not the tsx CLI, which would fork another process): its pid is the one to measure.
  const extra = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []; // e.g. --cpu-prof
  const child = spawn(process.execPath, [...extra, '--import', 'tsx', 'src/main.ts'], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', process.env.BENCH_LOG_LEVEL ? 'inherit' : 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`src/main.ts exited with ${child.exitCode}`);
    const ready = await fetch(`${url}/health/ready`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ready) return { child, url };
    if (Date.now() > deadline) throw new Error('src/main.ts did not become ready');
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stopMain(child: ChildProcess) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** A process with text questions, and CANDIDATES candidates at its first question (consent, name, email and CV given). */
async function seed(url: string, sql: postgres.Sql) {
  const res = await fetch(`${url}/api/processes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      code: 'BENCH1',
      title: 'Backend developer',
      description: 'TypeScript backend',
      requirements: { skills: ['TypeScript', 'PostgreSQL'], minYears: 2 },
      questions: Array.from({ length: QUESTIONS }, (_, i) => ({
        id: `q${i + 1}`,
        text: `Tell us about your experience, part ${i + 1}`,
        type: 'text',
      })),
      thresholds: { shortlist: 60, reject: 20 },
      recruiters: [],
      status: 'open',
    }),
  });
  if (res.status !== 201) throw new Error(`creating the process answered ${res.status}: ${await res.text()}`);
  const { id: processId } = (await res.json()) as { id: string };
  const cv = `Backend developer, 8 years of TypeScript, Node.js and PostgreSQL. ${'Built payment services. '.repeat(20)}`;
  for (let from = 0; from < CANDIDATES; from += 500) {
    const rows = Array.from({ length: Math.min(500, CANDIDATES - from) }, (_, i) => ({
      id: uuidv7(),
      phone: `+${waIdOf(from + i)}`,
      name: `Candidate ${from + i}`,
      email: `candidate${from + i}@example.com`,
      locale: 'es',
      consent_at: new Date(),
      consent_version: 'bench',
      last_inbound_at: new Date(),
    }));
    const ids = await sql`insert into candidates ${sql(rows)} returning id`;
    await sql`insert into applications ${sql(
      ids.map((r) => ({ id: uuidv7(), candidate_id: r.id, process_id: processId, cv_text: cv, step: 'question' })),
    )}`;
  }
}

async function runApp(dbUrl: string, prefix: string) {
  const graph = await startFakeGraphApi();
  const { child, url } = await startMain({
    NODE_ENV: 'production',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'error',
    DATABASE_URL: dbUrl,
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: prefix,
    WHATSAPP_TRANSPORT: 'cloud',
    WHATSAPP_GRAPH_URL: graph.url,
    WHATSAPP_ACCESS_TOKEN: graph.accessToken,
    WHATSAPP_PHONE_NUMBER_ID: BUSINESS.phoneNumberId,
    WHATSAPP_APP_SECRET: APP_SECRET,
    WHATSAPP_VERIFY_TOKEN: 'bench-verify-token',
    ADMIN_API_TOKEN: ADMIN_TOKEN,
    SEED_DEMO: 'false',
  });
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    await seed(url, sql);
    const pid = child.pid as number;
    const figures = await load(url, 0);
    const memory = memoryOf(pid);
    if (process.env.BENCH_METRICS_FILE) {
      writeFileSync(process.env.BENCH_METRICS_FILE, await (await fetch(`${url}/metrics`)).text());
    }
    const [{ n: recorded }] = (await sql`select count(*)::int as n from inbound_messages`) as unknown as [
      { n: number },
    ];
    return {
      ...figures,
      rssMb: Math.round(memory.peak / 1024 / 1024),
      rssAtEndMb: Math.round(memory.now / 1024 / 1024),
      messagesRecorded: recorded,
      repliesSent: graph.sent.length,
    };
  } finally {
    await stopMain(child);
    await sql.end();
    await graph.close();
  }
}

async function main() {
  const name = `war_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const dbUrl = u.toString();
  const prefix = `bench:${process.pid}:${randomBytes(3).toString('hex')}:`;
  const setup = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    await setup`create table bench_inbound (id text primary key, phone text not null, body text not null, received_at timestamptz not null default now())`;
    const skip = { messagesPerSecond: 0, p50Ms: 0, p99Ms: 0, errors: 0 };
    const floor = only === 'app' ? skip : await runChild('floor', dbUrl, `${prefix}floor:`);
    await setup`truncate bench_inbound`;
    const transport = only === 'app' ? skip : await runChild('transport', dbUrl, `${prefix}transport:`);
    const app = await runApp(dbUrl, `${prefix}app:`);
    const ratio = Math.round((app.messagesPerSecond / floor.messagesPerSecond) * 100) / 100;
    console.log(
      JSON.stringify({
        bench: 'webhook',
        connections,
        durationSeconds: duration,
        candidates: CANDIDATES,
        floor,
        transport,
        app,
        ratio,
        targets: { ratioAtLeast0_6: ratio >= 0.6, p99Under100Ms: app.p99Ms < 100, rssUnder200Mb: app.rssMb < 200 },
      }),
    );
  } finally {
    await setup.end();
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
    const redis = new Redis(redisUrl);
    for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 500 })) {
      if ((keys as string[]).length) await redis.unlink(...(keys as string[]));
    }
    redis.disconnect();
  }
}

if (process.argv[2] === 'serve') {
  await serve(process.argv[3] as Variant, process.argv[4] as string, process.argv[5] as string);
} else {
  await main();
}
