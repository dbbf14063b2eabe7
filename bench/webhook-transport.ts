/**
 * The WhatsApp webhook transport under load: the real express app (request ids, logging, helmet,
 * metrics, the global JSON parser) with the webhook router (signature check, zod parsing,
 * normalization), whose handler does what a bare floor does per message: one Postgres transaction
 * and three Redis calls. The floor is a bare express + ioredis + postgres.js handler doing the same.
 * Each server runs in a child process; autocannon drives it from this one. Prints one JSON line.
 *
 * Needs Postgres and Redis: BENCH_DATABASE_URL (an admin URL; a throwaway database is created and
 * dropped) and BENCH_REDIS_URL (keys under a unique prefix, deleted after), falling back to TEST_* and
 * then to local defaults. BENCH_DURATION (seconds per run, default 8), BENCH_CONNECTIONS (default 50).
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import express from 'express';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { createApp } from '../src/http/app.ts';
import { createLogger } from '../src/logger.ts';
import { createHttpMetrics, createMetricsRegistry } from '../src/observability/metrics.ts';
import type { InboundMessage } from '../src/whatsapp/channel.ts';
import { createWhatsAppWebhookRouter, signBody } from '../src/whatsapp/cloud-webhook.ts';
import { createWhatsAppMetrics } from '../src/whatsapp/metrics.ts';

const APP_SECRET = 'bench-app-secret';
const adminUrl =
  process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const duration = Number(process.env.BENCH_DURATION ?? 8);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const CANDIDATES = 2_000;

type Variant = 'floor' | 'app';

// ---- child: one server ----------------------------------------------------------------------------

async function serve(variant: Variant, dbUrl: string, prefix: string) {
  const sql = postgres(dbUrl, { max: 10, onnotice: () => {} });
  const redis = new Redis(redisUrl, { keyPrefix: prefix, enableAutoPipelining: true });
  let maxRss = 0;
  const sample = setInterval(() => {
    maxRss = Math.max(maxRss, process.memoryUsage().rss);
  }, 100);

  /** The per-message work of both variants: record it in one transaction, then touch the session thrice. */
  async function record(id: string, phone: string, text: string) {
    await sql.begin(async (tx) => {
      await tx`insert into bench_inbound (id, phone, body) values (${id}, ${phone}, ${text}) on conflict do nothing`;
    });
    const session = await redis.get(`session:${phone}`);
    await redis.set(
      `session:${phone}`,
      JSON.stringify({ step: 'name', n: (session?.length ?? 0) % 100 }),
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
    clearInterval(sample);
    maxRss = Math.max(maxRss, process.memoryUsage().rss);
    server.close();
    server.closeAllConnections();
    await sql.end({ timeout: 2 });
    redis.disconnect();
    process.send?.({ maxRss }, () => process.exit(0));
  });
}

// ---- parent: load and compare ---------------------------------------------------------------------

function body(candidate: number, n: number): string {
  const waId = String(34_600_000_000 + candidate);
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
              contacts: [{ profile: { name: 'Candidate' }, wa_id: waId }],
              messages: [
                {
                  from: waId,
                  id: `wamid.BENCH${randomBytes(12).toString('hex')}${n}`,
                  timestamp: String(Math.floor(Date.now() / 1000)),
                  type: 'text',
                  text: { body: 'Tengo 5 años de experiencia con Node.js y PostgreSQL' },
                },
              ],
            },
          },
        ],
      },
    ],
  });
}

async function run(variant: Variant, dbUrl: string, prefix: string) {
  const child = fork(fileURLToPath(import.meta.url), ['serve', variant, dbUrl, prefix], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`${variant} server exited with ${code}`)));
  });
  let n = 0;
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
  const url = `http://127.0.0.1:${port}`;
  await autocannon({ url, connections, duration: 2, requests: [request] }); // warm-up
  const result = await autocannon({ url, connections, duration, requests: [request] });
  const { maxRss } = await new Promise<{ maxRss: number }>((resolve) => {
    child.once('message', (m: { maxRss: number }) => resolve(m));
    child.send({ cmd: 'stop' });
  });
  return {
    messagesPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    rssMb: Math.round(maxRss / 1024 / 1024),
  };
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
    const floor = await run('floor', dbUrl, prefix);
    await setup`truncate bench_inbound`;
    const app = await run('app', dbUrl, prefix);
    const ratio = Math.round((app.messagesPerSecond / floor.messagesPerSecond) * 100) / 100;
    console.log(
      JSON.stringify({
        bench: 'webhook-transport',
        connections,
        durationSeconds: duration,
        candidates: CANDIDATES,
        floor,
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
