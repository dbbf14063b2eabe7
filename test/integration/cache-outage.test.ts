import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { createCacheMetrics } from '../../src/cache/cache-metrics.ts';
import { CacheService } from '../../src/cache/cache-service.ts';
import { createRedisClient } from '../../src/cache/redis-client.ts';
import { createLogger } from '../../src/logger.ts';
import { freePort, hasRedisServer, startPrivateRedis } from '../support/redis-server.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';

/** A logger whose JSON lines the test can read. */
function capturedLogger() {
  const lines: { msg: string }[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  const logger = createLogger({ level: 'info', destination });
  return { logger, count: (msg: string) => lines.filter((l) => l.msg === msg).length };
}

const UNAVAILABLE = 'cache store unavailable; serving from factories until it returns';
const RESTORED = 'cache store available again';

describe('CacheService when Redis is unreachable', () => {
  test('getOrSet answers from the factory, the caller never sees a Redis error, the outage is counted and logged once', async () => {
    const log = capturedLogger();
    const registry = new Registry();
    const metrics = createCacheMetrics(registry);
    const client = createRedisClient(`redis://127.0.0.1:${await freePort()}`, { keyPrefix: 'x:', logger: log.logger });
    const cache = new CacheService(client.store, { prefix: 'analysis', ttlSeconds: 60, logger: log.logger, metrics });
    try {
      for (let i = 0; i < 20; i++) expect(await cache.getOrSet('cv', () => `fresh ${i}`)).toBe(`fresh ${i}`);
      expect(await cache.get('cv')).toBeUndefined();
      await cache.set('cv', 'v');
      await cache.delete('cv');
      await cache.invalidatePrefix();
      expect(await cache.touch('cv', 10)).toBe(false);
      const cached = cache.cached(async function analyze(id: number) {
        return id * 2;
      });
      expect(await cached(21)).toBe(42);

      expect(cache.stats()).toMatchObject({ factoryCalls: 21, store: { available: false, outages: 1 } });
      expect(log.count(UNAVAILABLE)).toBe(1);
      const text = await registry.metrics();
      expect(text).toContain('cache_outages_total 1');
      expect(text).toContain('cache_store_available 0');
      expect(text).toMatch(/cache_degraded_total\{prefix="analysis",op="get_or_set"\} [1-9]/);
    } finally {
      await client.close();
    }
  });
});

describe.skipIf(!hasRedisServer)('CacheService across a Redis outage', () => {
  let redis: Awaited<ReturnType<typeof startPrivateRedis>>;
  beforeAll(async () => {
    redis = await startPrivateRedis();
  });
  afterAll(() => redis?.stop());

  test('deletes and writes that failed during the outage are applied before reads resume', async () => {
    const log = capturedLogger();
    const proxy = await startTcpProxy(redis.port);
    const client = createRedisClient(proxy.url, { keyPrefix: 'app:', logger: log.logger, commandTimeoutMs: 500 });
    await client.connect();
    const cache = new CacheService(client.store, {
      prefix: 'processes',
      ttlSeconds: 60,
      logger: log.logger,
      breaker: { retryMinMs: 50, retryMaxMs: 200 },
    });
    try {
      await cache.set('p1', { title: 'old' });
      await cache.set('p2', { title: 'old' });
      expect(await cache.get('p1')).toEqual({ title: 'old' });

      await proxy.cut();
      expect(await cache.getOrSet('p2', () => ({ title: 'from db' }))).toEqual({ title: 'from db' });
      await cache.delete('p1');
      await cache.set('p2', { title: 'new' });
      expect(cache.stats().store).toMatchObject({ available: false, outages: 1, pendingInvalidations: 2 });

      await proxy.restore();
      await vi.waitFor(
        async () => {
          await cache.get('probe');
          expect(cache.stats().store.available).toBe(true);
        },
        { timeout: 15_000, interval: 50 },
      );
      // Redis kept its data through the partition: without the journal both old values would be served.
      expect(await cache.get('p1')).toBeUndefined();
      expect(await cache.get('p2')).toBeUndefined();
      expect(cache.stats().store.pendingInvalidations).toBe(0);
      await cache.set('p1', { title: 'newer' });
      expect(await cache.get('p1')).toEqual({ title: 'newer' });
      expect(log.count(UNAVAILABLE)).toBe(1);
      expect(log.count(RESTORED)).toBe(1);
    } finally {
      await client.close();
      await proxy.close();
    }
  });
});
