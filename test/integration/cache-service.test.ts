import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createCacheMetrics } from '../../src/cache/cache-metrics.ts';
import { CacheService, type CacheServiceOptions, type Deferrer } from '../../src/cache/cache-service.ts';
import { collectCacheStats } from '../../src/cache/cache-stats.ts';
import { cacheable } from '../../src/cache/cacheable.ts';
import type { KvStore } from '../../src/cache/kv-store.ts';
import { createTestKv, type KvBackend, kvBackends, type TestKv } from '../support/kv.ts';

/** A view of a store whose "process" can die: after kill(), every call fails and nothing reaches the store. */
function killable(store: KvStore) {
  let dead = false;
  const view = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        dead ? Promise.reject(new Error('process died')) : (value as (...a: unknown[]) => unknown).apply(target, args);
    },
  });
  return { store: view, kill: () => (dead = true) };
}

describe.each(kvBackends)('CacheService contract on %s', (backend: KvBackend) => {
  let kv: TestKv;
  /** A second connection to the same store (Redis) or the same store (memory): a second "process". */
  let other: TestKv | undefined;
  let otherStore: KvStore;
  beforeAll(async () => {
    kv = await createTestKv(backend);
    if (backend === 'redis') other = await createTestKv('redis', kv.prefix);
    otherStore = other?.store ?? kv.store;
  });
  afterAll(async () => {
    await other?.store.close();
    await kv.destroy();
  });

  const service = (prefix: string, options: Partial<CacheServiceOptions> = {}, store = kv.store) =>
    new CacheService(store, { prefix, ttlSeconds: 60, ...options });

  test('get, set and delete round-trip values with Dates and Buffers', async () => {
    const cache = service('roundtrip');
    const value = { name: 'Ana', at: new Date('2024-02-03T04:05:06.007Z'), cv: Buffer.from('%PDF-1.7'), n: 3n };
    expect(await cache.get('k')).toBeUndefined();
    await cache.set('k', value);
    const back = await cache.get<typeof value>('k');
    expect(back).toEqual(value);
    expect(back?.at).toBeInstanceOf(Date);
    expect(Buffer.isBuffer(back?.cv)).toBe(true);
    await cache.set('nothing', null);
    expect(await cache.get('nothing')).toBeNull();
    await cache.delete('k');
    expect(await cache.get('k')).toBeUndefined();
  });

  test('every write gets the default TTL unless told otherwise, and entries expire', async () => {
    const cache = service('ttl', { ttlSeconds: 30 });
    await cache.set('default', 1);
    const ttl = await kv.store.pttl('ttl:default');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000);
    await cache.set('forever', 1, { ttlSeconds: null });
    expect(await kv.store.pttl('ttl:forever')).toBe(-1);
    await cache.getOrSet('filled', () => 1);
    expect(await kv.store.pttl('ttl:filled')).toBeGreaterThan(0);

    await cache.set('short', 'x', { ttlSeconds: 0.05 });
    await cache.getOrSet('short-fill', () => 'y', { ttlSeconds: 0.05 });
    await sleep(150);
    expect(await cache.get('short')).toBeUndefined();
    expect(await cache.get('short-fill')).toBeUndefined();
    await expect(cache.set('bad', 1, { ttlSeconds: 0 })).rejects.toThrow(RangeError);
  });

  test('touch slides the TTL of an existing entry only', async () => {
    const cache = service('touch');
    await cache.set('session', { step: 'email' }, { ttlSeconds: 0.2 });
    expect(await cache.touch('session', 60)).toBe(true);
    expect(await cache.touch('missing', 60)).toBe(false);
    await sleep(300);
    expect(await cache.get('session')).toEqual({ step: 'email' });
  });

  test('two prefixes never see each other, and invalidatePrefix clears only its own (in batches)', async () => {
    const users = service('users');
    const users2 = service('users2');
    await users.set('k', 'users');
    await users2.set('k', 'users2');
    expect(await users.get('k')).toBe('users');
    expect(await users2.get('k')).toBe('users2');
    await Promise.all(Array.from({ length: 1_200 }, (_, i) => users.set(`bulk:${i}`, i)));
    await kv.store.set('users-raw', 'not a cache key');

    await users.invalidatePrefix();
    expect(await users.get('k')).toBeUndefined();
    expect(await kv.store.mget(['users:bulk:0', 'users:bulk:600', 'users:bulk:1199'])).toEqual([null, null, null]);
    expect(await users2.get('k')).toBe('users2');
    expect(await kv.store.get('users-raw')).toBe('not a cache key');
    expect(() => service('bad:prefix')).toThrow(TypeError);
  });

  test('getOrSet caches the factory result; a failing factory caches nothing and rejects every waiter alike', async () => {
    const cache = service('gos');
    let calls = 0;
    const factory = async () => {
      calls++;
      return { at: new Date(5) };
    };
    expect(await cache.getOrSet('a', factory)).toEqual({ at: new Date(5) });
    expect(await cache.getOrSet('a', factory)).toEqual({ at: new Date(5) });
    expect(calls).toBe(1);

    const boom = new Error('upstream down');
    let failing = 0;
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () =>
        cache.getOrSet('b', async () => {
          failing++;
          await sleep(20);
          throw boom;
        }),
      ),
    );
    expect(failing).toBe(1);
    expect(results.every((r) => r.status === 'rejected' && r.reason === boom)).toBe(true);
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.getOrSet('b', () => 'recovered')).toBe('recovered');
    expect(cache.stats()).toMatchObject({ factoryCalls: 3, factoryErrors: 1, hits: 1 });
  });

  test('a value the codec cannot write is returned but not cached, and the store stays trusted', async () => {
    const cache = service('uncacheable');
    const cyclic: Record<string, unknown> = { id: 1 };
    cyclic.self = cyclic;
    expect(await cache.getOrSet('c', () => cyclic)).toBe(cyclic);
    expect(await cache.get('c')).toBeUndefined();
    expect(cache.stats()).toMatchObject({ storeErrors: 0, store: { available: true } });
  });

  test('100 concurrent getOrSet of one key from two instances call the factory exactly once', async () => {
    const a = service('stampede');
    const b = service('stampede', {}, otherStore);
    let calls = 0;
    const factory = async () => {
      calls++;
      await sleep(50);
      return { score: 87, at: new Date(7) };
    };
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).getOrSet('hot', factory)));
    expect(calls).toBe(1);
    for (const r of results) expect(r).toEqual({ score: 87, at: new Date(7) });
    // One instance filled; the other waited on the lock instead of calling its factory.
    expect(a.stats().lockWaits + b.stats().lockWaits).toBe(1);
  });

  test('the lock is renewed while a factory runs longer than the lock TTL', async () => {
    const a = service('renew', { lockTtlMs: 400 });
    const b = service('renew', { lockTtlMs: 400 }, otherStore);
    let calls = 0;
    const slowFactory = async () => {
      calls++;
      await sleep(1_000);
      return 'analysis';
    };
    const first = a.getOrSet('cv', slowFactory);
    await sleep(20);
    expect(await b.getOrSet('cv', slowFactory)).toBe('analysis');
    expect(await first).toBe('analysis');
    expect(calls).toBe(1);
  });

  test('a lock holder that dies mid-factory does not block waiters past the lock TTL', async () => {
    const dying = killable(otherStore);
    const a = service('dying', { lockTtlMs: 300 }, dying.store);
    const b = service('dying', { lockTtlMs: 300 });
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    let finishA!: (v: string) => void;
    const aResult = a.getOrSet('k', () => {
      holding();
      dying.kill(); // the process dies with the lock taken: no renewal, no release, no value
      return new Promise<string>((resolve) => (finishA = resolve));
    });
    await held;
    let bCalls = 0;
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        b.getOrSet('k', async () => {
          bCalls++;
          return 'from b';
        }),
      ),
    );
    expect(results).toEqual(Array(10).fill('from b'));
    expect(bCalls).toBe(1);
    expect(b.stats().lockWaits).toBe(1);
    finishA('late');
    expect(await aResult).toBe('late');
    expect(await b.get('k')).toBe('from b');
  });

  test('a write or delete during a running factory keeps its stale result out of the cache', async () => {
    const cache = service('stale');
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    let finish!: (v: string) => void;
    const slow = cache.getOrSet('k', () => {
      started();
      return new Promise<string>((resolve) => (finish = resolve));
    });
    await running;
    await cache.delete('k');
    finish('computed before the delete');
    expect(await slow).toBe('computed before the delete');
    expect(await cache.get('k')).toBeUndefined();
  });

  test('cached() shares results between equal arguments, whatever their key order', async () => {
    const cache = service('cached');
    let calls = 0;
    const listProcesses = cache.cached(
      async function listProcesses(filter: { status: string; page: number }) {
        calls++;
        return { page: filter.page, at: new Date(1) };
      },
      { ttlSeconds: 30 },
    );
    expect(await listProcesses({ status: 'open', page: 1 })).toEqual({ page: 1, at: new Date(1) });
    expect(await listProcesses({ page: 1, status: 'open' })).toEqual({ page: 1, at: new Date(1) });
    await listProcesses({ status: 'open', page: 2 });
    expect(calls).toBe(2);

    const byId = cache.cached(async (id: number) => ({ id }), { key: (id) => cache.key('process', id) });
    await byId(7);
    expect(await cache.get(cache.key('process', 7))).toEqual({ id: 7 });
    expect(() => cache.cached(async () => 1)).toThrow(TypeError);
  });

  test('the @cacheable decorator caches a method by Class.method and arguments', async () => {
    const cache = service('deco');
    class Repo {
      calls = 0;
      constructor(readonly tenant: string) {}

      @cacheable(() => cache, { ttlSeconds: 30 })
      async find(id: number): Promise<{ id: number; tenant: string }> {
        this.calls++;
        return { id, tenant: this.tenant };
      }

      @cacheable(cache, {
        key(this: Repo, id: number) {
          return cache.key('scoped', this.tenant, id);
        },
      })
      async findScoped(id: number): Promise<string> {
        this.calls++;
        return `${this.tenant}:${id}`;
      }
    }
    const acme = new Repo('acme');
    const globex = new Repo('globex');
    expect(await acme.find(1)).toEqual({ id: 1, tenant: 'acme' });
    expect(await globex.find(1)).toEqual({ id: 1, tenant: 'acme' }); // the instance is not part of the key
    expect(acme.calls + globex.calls).toBe(1);
    expect(await cache.get(cache.key('Repo.find', 1))).toEqual({ id: 1, tenant: 'acme' });

    expect(await acme.findScoped(2)).toBe('acme:2');
    expect(await globex.findScoped(2)).toBe('globex:2');
    expect(await acme.findScoped(2)).toBe('acme:2');
    expect(acme.calls + globex.calls).toBe(3);
  });

  test('inside a transaction, deletes and writes wait for commit and vanish on rollback', async () => {
    let tx: (() => Promise<void>)[] | undefined;
    const deferrer: Deferrer = (fn) => tx?.push(fn);
    const cache = service('tx', { deferInvalidation: () => (tx ? deferrer : undefined) });
    await cache.set('a', 1);
    await cache.set('b', 2);

    tx = [];
    await cache.delete('a');
    await cache.set('c', 3);
    expect(await cache.get('a')).toBe(1);
    expect(await cache.get('c')).toBeUndefined();
    const committed = tx;
    tx = undefined;
    for (const fn of committed) await fn();
    expect(await cache.get('a')).toBeUndefined();
    expect(await cache.get('c')).toBe(3);

    tx = [];
    await cache.delete('b');
    await cache.invalidatePrefix();
    tx = undefined; // rolled back: the deferred work is dropped
    expect(await cache.get('b')).toBe(2);
    expect(await cache.get('c')).toBe(3);
  });

  test('stats and Prometheus metrics report hits, misses, latency, memory and top keys', async () => {
    const registry = new Registry();
    const metrics = createCacheMetrics(registry, { store: kv.store });
    const a = service('stats-a', { metrics });
    const b = service('stats-b', { metrics });
    await a.set('hot', 1);
    for (let i = 0; i < 5; i++) await a.get('hot');
    await a.get('cold');
    await b.getOrSet('x', () => 'y');
    await b.getOrSet('x', () => 'y');

    const sa = a.stats();
    expect(sa).toMatchObject({ prefix: 'stats-a', hits: 5, misses: 1, hitRatio: 0.8333 });
    expect(sa.topKeys[0]).toEqual({ key: 'hot', count: 5, error: 0 });
    expect(sa.latency.get?.count).toBe(6);
    expect(sa.latency.set?.count).toBe(1);

    const report = await collectCacheStats([a, b], kv.store);
    expect(report).toMatchObject({ hits: 6, misses: 2, hitRatio: 0.75 });
    expect(report.store).toMatchObject({ kind: backend, available: true, outages: 0 });
    expect(report.store.memoryBytes).toBeGreaterThan(0);
    expect(report.prefixes['stats-b']).toMatchObject({ hits: 1, misses: 1, factoryCalls: 1 });
    expect(report.topKeys[0]).toEqual({ key: 'stats-a:hot', count: 5 });

    const text = await registry.metrics();
    expect(text).toContain('cache_hits_total{prefix="stats-a"} 5');
    expect(text).toContain('cache_misses_total{prefix="stats-b"} 1');
    expect(text).toMatch(/cache_operation_duration_seconds_count\{prefix="stats-a",op="get"\} 6/);
    expect(text).toMatch(/cache_memory_bytes [1-9]/);
    expect(text).not.toContain('hot'); // no per-key labels
  });
});
