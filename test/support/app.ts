import { createHmac } from 'node:crypto';
import { type App, compose, type Overrides } from '../../src/compose.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import type { FakeGraphApi } from '../fakes/graph-api.ts';
import { BUSINESS } from '../fakes/whatsapp-payloads.ts';
import { listen } from './http.ts';

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
