import { createHmac } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { type App, compose, type Overrides } from '../../src/compose.ts';
import { loadConfig } from '../../src/config.ts';
import { outbox } from '../../src/db/schema.ts';
import { createLogger } from '../../src/logger.ts';
import { type FakeGraphApi, startFakeGraphApi } from '../fakes/graph-api.ts';
import { BUSINESS } from '../fakes/whatsapp-payloads.ts';
import { createTestDb, type DbBackend, dbBackends, type TestDb } from './db.ts';
import { listen } from './http.ts';
import { createTestKv, type KvBackend, kvBackends, type TestKv } from './kv.ts';

export const APP_SECRET = 'test-app-secret';
export const VERIFY_TOKEN = 'test-verify-token';
export const ADMIN_TOKEN = 'test-admin-token';

export interface TestApp {
  app: App;
  url: string;
  /** POSTs a webhook body signed like Meta does; returns the HTTP status. */
  postWebhook(body: unknown): Promise<number>;
  /** Calls the admin API with the bearer token. */
  api(method: string, path: string, body?: unknown): Promise<Response>;
  close(): Promise<void>;
}

/** The whole service (compose + HTTP on an ephemeral port) on the Cloud API transport against a fake Graph API. */
export async function startTestApp(options: {
  overrides: Overrides;
  graph?: FakeGraphApi;
  env?: Record<string, string>;
}): Promise<TestApp> {
  const { graph } = options;
  const env: Record<string, string> = {
    ADMIN_API_TOKEN: ADMIN_TOKEN,
    SEED_DEMO: 'false',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...(graph
      ? {
          WHATSAPP_TRANSPORT: 'cloud',
          WHATSAPP_GRAPH_URL: graph.url,
          WHATSAPP_ACCESS_TOKEN: graph.accessToken,
          WHATSAPP_PHONE_NUMBER_ID: BUSINESS.phoneNumberId,
          WHATSAPP_APP_SECRET: APP_SECRET,
          WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN,
        }
      : {}),
    ...options.env,
  };
  const config = loadConfig(env);
  const logger = createLogger({ level: config.logLevel });
  const app = await compose(config, logger, options.overrides);
  await app.start();
  const server = await listen(app.http);
  return {
    app,
    url: server.url,
    async postWebhook(body) {
      const raw = JSON.stringify(body);
      const signature = `sha256=${createHmac('sha256', APP_SECRET).update(raw).digest('hex')}`;
      const res = await fetch(`${server.url}/webhooks/whatsapp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
        body: raw,
      });
      await res.body?.cancel();
      return res.status;
    },
    api(method, path, body) {
      return fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    },
    async close() {
      app.beginShutdown();
      await server.close();
      await app.close();
    },
  };
}

/** Polls `fn` until it returns a truthy value; the error names what was awaited. */
export async function until<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Postgres + Redis when both are set, and always PGlite + memory: the pairs whole-app suites run on. */
export const backendPairs = dbBackends.map((db, i) => [db, kvBackends[i] ?? 'memory'] as const);

export interface AppFixture {
  db: TestDb;
  kv: TestKv;
  graph: FakeGraphApi;
  t: TestApp;
  /** Closes the app, then the fake Graph API, the store and the database, whatever got started. */
  close(): Promise<void>;
}

/** A throwaway database and key prefix, a fake Graph API, and the app on them (Cloud API transport). */
export async function startAppFixture(
  dbBackend: DbBackend,
  kvBackend: KvBackend,
  env?: Record<string, string>,
): Promise<AppFixture> {
  const db = await createTestDb(dbBackend);
  const kv = await createTestKv(kvBackend);
  const graph = await startFakeGraphApi();
  const t = await startTestApp({ overrides: { db: db.client, kv: kv.store }, graph, env });
  return {
    db,
    kv,
    graph,
    t,
    async close() {
      await t.close();
      await graph.close();
      await kv.destroy();
      await db.destroy();
    },
  };
}

let waSeq = 0;
/** A fresh WhatsApp id (digits, no +) with a country prefix: 34 answers in Spanish, 44 in English. */
export const newWaId = (country: '34' | '44') =>
  `${country}7${String(Date.now()).slice(-6)}${String(++waSeq).padStart(3, '0')}`;

/** Waits until the outbox has nothing left to deliver (so "nothing more was sent" can be asserted). */
export const settled = (db: TestDb) =>
  until('an empty outbox backlog', async () => {
    const pending = await db.client.db.select({ id: outbox.id }).from(outbox).where(eq(outbox.state, 'pending'));
    return pending.length === 0;
  });
