import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CacheService } from '../../src/cache/cache-service.ts';
import { createRedisClient, type RedisClient } from '../../src/cache/redis-client.ts';
import { hasRedisServer, startPrivateRedis } from '../support/redis-server.ts';
import { startClusterNode, startSentinel } from '../support/redis-topologies.ts';

type Stoppable = { stop(): Promise<void> };

/** The same RedisClient + CacheService checks on each topology ioredis supports. */
describe.skipIf(!hasRedisServer)('RedisClient and CacheService on Cluster and Sentinel', () => {
  const running: Stoppable[] = [];
  const topologies: Record<string, () => Promise<string>> = {
    cluster: async () => {
      const node = await startClusterNode();
      running.push(node);
      return `redis://127.0.0.1:${node.port}?cluster=true`;
    },
    sentinel: async () => {
      const master = await startPrivateRedis();
      running.push(master);
      const sentinel = await startSentinel(master.port);
      running.push(sentinel);
      return `redis://127.0.0.1:${sentinel.port}/0?sentinel=mymaster`;
    },
  };
  afterAll(async () => {
    for (const server of running.reverse()) await server.stop();
  });

  describe.each(Object.keys(topologies))('%s', (name) => {
    let client: RedisClient;
    beforeAll(async () => {
      client = createRedisClient(await (topologies[name] as () => Promise<string>)(), { keyPrefix: 'topo:' });
      await client.connect();
    });
    afterAll(() => client.close());

    test('typed CRUD with prefixing, multi-key calls across slots, prefix invalidation and memory', async () => {
      const at = new Date('2024-01-01T00:00:00.000Z');
      await client.set('a', { at, raw: Buffer.from('x') }, { ttlMs: 60_000 });
      await client.set('b', 2);
      expect(await client.get('a')).toEqual({ at, raw: Buffer.from('x') });
      expect(await client.mget(['a', 'b', 'none'])).toEqual([{ at, raw: Buffer.from('x') }, 2, undefined]);
      expect(await client.ttl('a')).toBeGreaterThan(0);
      expect(await client.ttl('b')).toBe(-1);
      expect(await client.expire('b', 60_000)).toBe(true);
      expect(await client.exists('b')).toBe(true);
      expect(await client.connection.exists('topo:a')).toBe(0); // the prefix is applied once, not twice

      const cache = new CacheService(client.store, { prefix: 'procs', ttlSeconds: 60 });
      let calls = 0;
      const load = () => cache.getOrSet('open', async () => ++calls);
      expect(await Promise.all([load(), load(), load()])).toEqual([1, 1, 1]);
      await Promise.all(Array.from({ length: 50 }, (_, i) => cache.set(`k${i}`, i)));
      await cache.invalidatePrefix();
      expect(await cache.get('open')).toBeUndefined();
      expect(await cache.get('k49')).toBeUndefined();
      expect(await client.delete('a', 'b')).toBe(2);
      expect(await client.store.memoryBytes()).toBeGreaterThan(0);
    });
  });
});
