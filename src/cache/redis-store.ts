import { type Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.ts';
import type { KvStore } from './kv-store.ts';

const DELETE_IF_EQUALS = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const SCAN_BATCH = 500;

/** ioredis options shared by every connection we open: fail fast while disconnected, reconnect with backoff. */
export function redisOptions(keyPrefix: string): RedisOptions {
  return {
    keyPrefix,
    lazyConnect: true,
    enableAutoPipelining: true,
    // While disconnected, commands fail at once instead of queueing: callers degrade, readiness reports it.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 3_000,
    retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 10), 2_000) + Math.floor(Math.random() * 100),
  };
}

export function createRedisConnection(url: string, keyPrefix: string, logger?: Logger): Redis {
  const redis = new Redis(url, redisOptions(keyPrefix));
  let down = false;
  redis.on('error', (err) => {
    if (!down) logger?.warn({ err: { message: err.message } }, 'redis connection error; reconnecting with backoff');
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger?.info('redis connection restored');
    down = false;
  });
  return redis;
}

/** KvStore over one multiplexed ioredis connection (standalone, Sentinel or Cluster). */
export function createRedisStore(redis: Redis | Cluster, keyPrefix: string): KvStore {
  const prefixed = (k: string) => keyPrefix + k;
  return {
    kind: 'redis',
    get: (key) => redis.get(key),
    mget: (keys) => (keys.length ? redis.mget(keys) : Promise.resolve([])),
    async set(key, value, { ttlMs, nx } = {}) {
      const args: (string | number)[] = [];
      if (ttlMs !== undefined) args.push('PX', Math.max(1, Math.round(ttlMs)));
      if (nx) args.push('NX');
      const res = await (redis.set as (...a: unknown[]) => Promise<string | null>)(key, value, ...args);
      return res === 'OK';
    },
    del: (keys) => (keys.length ? redis.del(keys) : Promise.resolve(0)),
    exists: async (key) => (await redis.exists(key)) === 1,
    expire: async (key, ttlMs) => (await redis.pexpire(key, Math.max(1, Math.round(ttlMs)))) === 1,
    pttl: (key) => redis.pttl(key),
    deleteIfEquals: async (key, value) => (await redis.eval(DELETE_IF_EQUALS, 1, key, value)) === 1,
    async deletePrefix(prefix) {
      // SCAN patterns ignore ioredis' keyPrefix, and UNLINK would add it again: strip it from found keys.
      const nodes = 'nodes' in redis ? redis.nodes('master') : [redis];
      let deleted = 0;
      for (const node of nodes) {
        let cursor = '0';
        do {
          const [next, found] = await node.scan(
            cursor,
            'MATCH',
            `${escapeGlob(prefixed(prefix))}*`,
            'COUNT',
            SCAN_BATCH,
          );
          cursor = next;
          const keys = found.map((k) => k.slice(keyPrefix.length));
          // One UNLINK per key: auto-pipelining batches them, and Cluster never sees a cross-slot call.
          const counts = await Promise.all(keys.map((k) => redis.unlink(k)));
          for (const n of counts) deleted += n;
        } while (cursor !== '0');
      }
      return deleted;
    },
    async memoryBytes() {
      const nodes = 'nodes' in redis ? redis.nodes('master') : [redis];
      let total = 0;
      for (const node of nodes) {
        const info = await node.info('memory');
        total += Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
      }
      return total;
    },
    async ping() {
      await redis.ping();
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}
