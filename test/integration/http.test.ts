import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRedisConnection, createRedisStore } from '../../src/cache/redis-store.ts';
import { type App, compose } from '../../src/compose.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { backendPairs } from '../support/app.ts';
import { createTestDb, type TestDb } from '../support/db.ts';
import { bodyOf, listen } from '../support/http.ts';
import { createTestKv, type TestKv } from '../support/kv.ts';

const logger = createLogger({ level: 'silent' });

describe.each(backendPairs)('HTTP foundation on %s + %s', (dbBackend, kvBackend) => {
  let db: TestDb;
  let kv: TestKv;
  let app: App;
  let server: Awaited<ReturnType<typeof listen>>;

  beforeAll(async () => {
    db = await createTestDb(dbBackend);
    kv = await createTestKv(kvBackend);
    app = await compose(loadConfig({ METRICS_TOKEN: 'metrics-secret' }), logger, { db: db.client, kv: kv.store });
    server = await listen(app.http);
  });
  afterAll(async () => {
    await server.close();
    await kv.destroy();
    await db.destroy();
  });

  test('/health/live answers 200', async () => {
    const res = await fetch(`${server.url}/health/live`);
    expect(res.status).toBe(200);
  });

  test('/health/ready names the backends', async () => {
    const res = await fetch(`${server.url}/health/ready`);
    expect(res.status).toBe(200);
    const body = await bodyOf(res);
    expect(body.components.database).toMatchObject({ ok: true, kind: dbBackend });
    expect(body.components.kv).toMatchObject({ ok: true, kind: kvBackend });
  });

  test('unknown routes, bad JSON and oversized bodies get JSON errors with the right status', async () => {
    const notFound = await fetch(`${server.url}/nope`);
    expect(notFound.status).toBe(404);
    expect((await bodyOf(notFound)).error.code).toBe('not_found');

    const badJson = await fetch(`${server.url}/nope`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":',
    });
    expect(badJson.status).toBe(400);
    expect((await bodyOf(badJson)).error.code).toBe('bad_request');

    const huge = await fetch(`${server.url}/nope`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ x: 'a'.repeat(2 * 1024 * 1024) }),
    });
    expect(huge.status).toBe(413);
    expect((await bodyOf(huge)).error.code).toBe('payload_too_large');
  });

  test('every response carries a request id, and a sane given one is kept', async () => {
    const res = await fetch(`${server.url}/health/live`, { headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
    const other = await fetch(`${server.url}/health/live`, { headers: { 'x-request-id': 'bad id\twith spaces' } });
    expect(other.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('/metrics requires its token and exposes HTTP durations by route', async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer metrics-secret' } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('http_request_duration_seconds_bucket');
    expect(text).toContain('route="/health/ready"');
    expect(text).toContain('process_resident_memory_bytes');
  });

  test('while shutting down, readiness answers 503', async () => {
    app.beginShutdown();
    const res = await fetch(`${server.url}/health/ready`);
    expect(res.status).toBe(503);
  });
});

describe('readiness with a dead Redis', () => {
  test('answers 503 naming the kv store, without hanging', async () => {
    const db = await createTestDb('pglite');
    // Port 1 on loopback: nothing listens there, connections are refused at once.
    const redis = createRedisConnection('redis://127.0.0.1:1', 'dead:');
    redis.connect().catch(() => {});
    const app = await compose(loadConfig({}), logger, { db: db.client, kv: createRedisStore(redis, 'dead:') });
    const server = await listen(app.http);
    try {
      const res = await fetch(`${server.url}/health/ready`);
      expect(res.status).toBe(503);
      const body = await bodyOf(res);
      expect(body.components.kv.ok).toBe(false);
      expect(body.components.database.ok).toBe(true);
    } finally {
      await server.close();
      redis.disconnect();
      await db.destroy();
    }
  });
});
