import { type Cluster, Command, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.ts';
import type { KvStore } from './kv-store.ts';

const DELETE_IF_EQUALS = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const EXPIRE_IF_EQUALS = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
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
  return watchConnection(new Redis(url, redisOptions(keyPrefix)), logger);
}

/** Logs the first error of an outage and the recovery, not every failed reconnect attempt. */
export function watchConnection<C extends Redis | Cluster>(redis: C, logger?: Logger): C {
  let down = false;
  redis.on('error', (err: Error) => {
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
  // Cluster rejects multi-key commands across hash slots: send one command per key there
  // (auto-pipelining still batches them per node).
  const isCluster = 'nodes' in redis;
  // Adaptive auto-pipelining: ioredis holds pipelined commands until setImmediate to batch them,
  // which only pays off when others are in flight. A lone GET goes out at once instead; as soon as
  // anything of ours is pending, GETs join the pipeline, so our commands never overtake each other.
  const autoPipelining = redis.options.enableAutoPipelining === true;
  let inFlight = 0;
  const sendNow = (name: string, args: string[]) =>
    redis.sendCommand(
      new Command(name, args, { keyPrefix: redis.options.keyPrefix, replyEncoding: 'utf8' }),
    ) as Promise<string | null>;
  const store: KvStore = {
    kind: 'redis',
    get: (key) => (autoPipelining && inFlight === 1 ? sendNow('get', [key]) : redis.get(key)),
    mget: (keys) =>
      keys.length === 0
        ? Promise.resolve([])
        : isCluster
          ? Promise.all(keys.map((k) => redis.get(k)))
          : redis.mget(keys),
    async set(key, value, { ttlMs, nx } = {}) {
      const args: (string | number)[] = [];
      if (ttlMs !== undefined) args.push('PX', Math.max(1, Math.round(ttlMs)));
      if (nx) args.push('NX');
      const res = await (redis.set as (...a: unknown[]) => Promise<string | null>)(key, value, ...args);
      return res === 'OK';
    },
    async del(keys) {
      if (keys.length === 0) return 0;
      if (!isCluster) return redis.del(keys);
      const counts = await Promise.all(keys.map((k) => redis.del(k)));
      return counts.reduce((a, b) => a + b, 0);
    },
    exists: async (key) => (await redis.exists(key)) === 1,
    expire: async (key, ttlMs) => (await redis.pexpire(key, Math.max(1, Math.round(ttlMs)))) === 1,
    pttl: (key) => redis.pttl(key),
    deleteIfEquals: async (key, value) => (await redis.eval(DELETE_IF_EQUALS, 1, key, value)) === 1,
    expireIfEquals: async (key, value, ttlMs) =>
      (await redis.eval(EXPIRE_IF_EQUALS, 1, key, value, Math.max(1, Math.round(ttlMs)))) === 1,
    async deletePrefix(prefix) {
      // SCAN patterns ignore ioredis' keyPrefix, and UNLINK would add it again: strip it from found keys.
      const nodes = isCluster ? redis.nodes('master') : [redis];
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
      const nodes = isCluster ? redis.nodes('master') : [redis];
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
  for (const name of Object.keys(store) as (keyof KvStore)[]) {
    const method = store[name];
    if (typeof method !== 'function') continue;
    (store as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      inFlight++;
      try {
        return await (method as (...a: unknown[]) => Promise<unknown>)(...args);
      } finally {
        inFlight--;
      }
    };
  }
  return store;
}

function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}
