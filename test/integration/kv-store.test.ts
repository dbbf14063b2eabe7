import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createMemoryStore } from '../../src/cache/memory-store.ts';
import { createTestKv, kvBackends, type TestKv } from '../support/kv.ts';

describe.each(kvBackends)('KvStore contract on %s', (backend) => {
  let kv: TestKv;
  beforeAll(async () => {
    kv = await createTestKv(backend);
  });
  afterAll(() => kv.destroy());

  test('set, get, mget, exists and del', async () => {
    const { store } = kv;
    expect(await store.set('a', '1')).toBe(true);
    await store.set('b', '2');
    expect(await store.get('a')).toBe('1');
    expect(await store.mget(['a', 'missing', 'b'])).toEqual(['1', null, '2']);
    expect(await store.exists('a')).toBe(true);
    expect(await store.del(['a', 'b', 'missing'])).toBe(2);
    expect(await store.get('a')).toBeNull();
    expect(await store.mget([])).toEqual([]);
  });

  test('values expire after their TTL', async () => {
    const { store } = kv;
    await store.set('short', 'x', { ttlMs: 50 });
    expect(await store.pttl('short')).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 120));
    expect(await store.get('short')).toBeNull();
    expect(await store.pttl('short')).toBe(-2);
    await store.set('forever', 'x');
    expect(await store.pttl('forever')).toBe(-1);
    expect(await store.expire('forever', 50)).toBe(true);
    expect(await store.expire('nothing-here', 50)).toBe(false);
    await new Promise((r) => setTimeout(r, 120));
    expect(await store.exists('forever')).toBe(false);
  });

  test('nx writes only when absent, and deleteIfEquals releases only its own value', async () => {
    const { store } = kv;
    expect(await store.set('lock', 'token-1', { nx: true, ttlMs: 5_000 })).toBe(true);
    expect(await store.set('lock', 'token-2', { nx: true, ttlMs: 5_000 })).toBe(false);
    expect(await store.deleteIfEquals('lock', 'token-2')).toBe(false);
    expect(await store.get('lock')).toBe('token-1');
    expect(await store.deleteIfEquals('lock', 'token-1')).toBe(true);
    expect(await store.get('lock')).toBeNull();
  });

  test('expireIfEquals renews only a lock that still holds its token', async () => {
    const { store } = kv;
    await store.set('renew', 'token-1', { ttlMs: 5_000 });
    expect(await store.expireIfEquals('renew', 'token-2', 60_000)).toBe(false);
    expect(await store.pttl('renew')).toBeLessThanOrEqual(5_000);
    expect(await store.expireIfEquals('renew', 'token-1', 60_000)).toBe(true);
    expect(await store.pttl('renew')).toBeGreaterThan(5_000);
    expect(await store.expireIfEquals('absent', 'token-1', 60_000)).toBe(false);
  });

  test('deletePrefix removes only keys under the prefix, in batches', async () => {
    const { store } = kv;
    await Promise.all(Array.from({ length: 1_200 }, (_, i) => store.set(`p1:${i}`, 'v')));
    await store.set('p2:keep', 'v');
    await store.set('p1*:glob-literal', 'v');
    expect(await store.deletePrefix('p1:')).toBe(1_200);
    expect(await store.get('p2:keep')).toBe('v');
    expect(await store.get('p1*:glob-literal')).toBe('v');
  });

  test('memoryBytes and ping answer', async () => {
    await kv.store.ping();
    expect(await kv.store.memoryBytes()).toBeGreaterThan(0);
  });
});

describe('memory store bounds', () => {
  test('keeps its byte estimate exact and evicts the least recently used past maxBytes', async () => {
    const store = createMemoryStore({ maxBytes: 2_000 });
    const value = 'v'.repeat(400); // ~(1 + 400) * 2 + 64 bytes each
    await store.set('a', value);
    await store.set('b', value);
    const two = await store.memoryBytes();
    await store.set('b', value); // an overwrite does not count twice
    expect(await store.memoryBytes()).toBe(two);
    await store.get('a');
    await store.set('c', value); // 3 entries exceed 2,000 bytes: b is the least recently used
    expect(await store.get('b')).toBeNull();
    expect(await store.get('a')).toBe(value);
    await store.del(['a', 'c']);
    expect(await store.memoryBytes()).toBe(0);
  });

  test('evicts the least recently used entry past maxEntries', async () => {
    const store = createMemoryStore({ maxEntries: 2 });
    await store.set('a', '1');
    await store.set('b', '2');
    await store.get('a');
    await store.set('c', '3');
    expect(await store.get('b')).toBeNull();
    expect(await store.get('a')).toBe('1');
    expect(await store.get('c')).toBe('3');
  });
});
