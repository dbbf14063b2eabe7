import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.ts';
import { decode, encode } from './codec.ts';
import type { KvStore } from './kv-store.ts';
import { createRedisStore, redisOptions, watchConnection } from './redis-store.ts';

type HostPort = { host: string; port: number };

/** Where Redis is: a URL, a Sentinel group, or Cluster seed nodes. */
export type RedisTarget =
  | string
  | { sentinels: HostPort[]; name: string; password?: string; sentinelPassword?: string; db?: number; tls?: boolean }
  | { cluster: HostPort[]; password?: string; tls?: boolean };

export interface RedisClientOptions {
  /** Prefix of every key (ioredis `keyPrefix`), e.g. 'war:'. */
  keyPrefix?: string;
  logger?: Logger;
  /** A command without a reply after this long fails (a hung Redis must not hang callers). Default 2000. */
  commandTimeoutMs?: number;
}

/**
 * A thin typed layer over ONE multiplexed ioredis connection (standalone, Sentinel or Cluster):
 * JSON values that round-trip Date, Buffer, BigInt, Map and Set (see codec.ts), key prefixing,
 * auto-pipelining, fail-fast while disconnected and reconnect with backoff. Errors reach the
 * caller; CacheService (over `store`, the same connection) is the layer that absorbs them.
 */
export interface RedisClient {
  readonly connection: Redis | Cluster;
  /** KvStore over the same connection, for CacheService and other KvStore users. */
  readonly store: KvStore;
  readonly keyPrefix: string;
  get<T>(key: string): Promise<T | undefined>;
  mget<T>(keys: string[]): Promise<(T | undefined)[]>;
  /** Writes a value; without `ttlMs` it never expires. */
  set<T>(key: string, value: T, options?: { ttlMs?: number }): Promise<void>;
  delete(...keys: string[]): Promise<number>;
  exists(key: string): Promise<boolean>;
  expire(key: string, ttlMs: number): Promise<boolean>;
  /** Remaining TTL in ms: -1 without expiry, -2 when absent. */
  ttl(key: string): Promise<number>;
  /** A second connection with the same settings, for blocking or subscribe commands only. */
  duplicate(): Redis | Cluster;
  /** Resolves once connected; rejects if the first attempt fails (reconnecting continues in the background). */
  connect(): Promise<void>;
  close(): Promise<void>;
}

/** Builds the client and starts connecting in the background (the app starts even when Redis is down). */
export function createRedisClient(
  target: RedisTarget | Redis | Cluster,
  options: RedisClientOptions = {},
): RedisClient {
  const keyPrefix = options.keyPrefix ?? '';
  const connection =
    target instanceof Redis || target instanceof Cluster
      ? target
      : watchConnection(openConnection(target, keyPrefix, options.commandTimeoutMs ?? 2_000), options.logger);
  const ownsConnection = connection !== target;
  // With a caller's instance its own keyPrefix rules; SCAN in deletePrefix needs to know it.
  const effectivePrefix = ownsConnection ? keyPrefix : connectionPrefix(connection);
  const store = createRedisStore(connection, effectivePrefix);
  const connect = () =>
    new Promise<void>((resolve, reject) => {
      if (connection.status === 'ready') return resolve();
      const settle = (err?: Error) => {
        connection.off('ready', settle);
        connection.off('error', settle);
        if (err) reject(err);
        else resolve();
      };
      connection.once('ready', settle);
      connection.once('error', settle);
      // A lazy connection waits for its first connect(); afterwards ioredis reconnects by itself.
      if (connection.status === 'wait') connection.connect().catch(() => {});
    });
  if (ownsConnection) connect().catch(() => {});

  return {
    connection,
    store,
    keyPrefix: effectivePrefix,
    async get<T>(key: string) {
      const raw = await store.get(key);
      return raw === null ? undefined : decode<T>(raw);
    },
    async mget<T>(keys: string[]) {
      const raws = await store.mget(keys);
      return raws.map((raw) => (raw === null ? undefined : decode<T>(raw)));
    },
    async set<T>(key: string, value: T, { ttlMs }: { ttlMs?: number } = {}) {
      await store.set(key, encode(value), { ttlMs });
    },
    delete: (...keys) => store.del(keys),
    exists: (key) => store.exists(key),
    expire: (key, ttlMs) => store.expire(key, ttlMs),
    ttl: (key) => store.pttl(key),
    duplicate: () => watchConnection(connection.duplicate(), options.logger),
    connect,
    close: () => store.close(),
  };
}

function openConnection(target: RedisTarget, keyPrefix: string, commandTimeout: number): Redis | Cluster {
  const base: RedisOptions = { ...redisOptions(keyPrefix), commandTimeout };
  if (typeof target === 'string') {
    const parsed = redisTargetFromUrl(target);
    if (typeof parsed !== 'string') return openConnection(parsed, keyPrefix, commandTimeout);
    return new Redis(target, base);
  }
  if ('sentinels' in target) {
    return new Redis({
      ...base,
      sentinels: target.sentinels,
      name: target.name,
      password: target.password,
      sentinelPassword: target.sentinelPassword,
      db: target.db ?? 0,
      ...(target.tls ? { tls: {}, enableTLSForSentinelMode: true } : {}),
    });
  }
  const { keyPrefix: _k, retryStrategy, enableOfflineQueue, lazyConnect, enableAutoPipelining, ...nodeOptions } = base;
  return new Cluster(target.cluster, {
    keyPrefix,
    lazyConnect,
    enableOfflineQueue,
    enableAutoPipelining,
    clusterRetryStrategy: (attempt) => retryStrategy?.(attempt) ?? 2_000,
    redisOptions: { ...nodeOptions, password: target.password, ...(target.tls ? { tls: {} } : {}) },
  });
}

/**
 * Reads Sentinel and Cluster from a redis URL, so one REDIS_URL covers every topology:
 * `redis://[:pw@]h1:26379,h2:26379/0?sentinel=mymaster` and `redis://[:pw@]h1:7000,h2:7001?cluster=true`.
 * Any other URL is returned unchanged (ioredis parses it).
 */
export function redisTargetFromUrl(url: string): RedisTarget {
  const match = /^(rediss?):\/\/(?:([^@/]*)@)?([^/?#]+)(?:\/(\d+))?\/?(?:\?([^#]*))?$/.exec(url);
  if (!match) return url;
  const [, scheme, auth, hosts = '', db, query] = match;
  const params = new URLSearchParams(query ?? '');
  const sentinel = params.get('sentinel');
  const cluster = params.get('cluster');
  if (!sentinel && cluster !== 'true' && cluster !== '1') return url;
  const password = auth ? decodeURIComponent(auth.slice(auth.indexOf(':') + 1)) || undefined : undefined;
  const nodes = hosts.split(',').map((hp) => {
    const cut = hp.lastIndexOf(':');
    return cut < 0
      ? { host: hp, port: sentinel ? 26379 : 6379 }
      : { host: hp.slice(0, cut), port: Number(hp.slice(cut + 1)) };
  });
  const tls = scheme === 'rediss';
  if (sentinel) return { sentinels: nodes, name: sentinel, password, db: db ? Number(db) : 0, tls };
  return { cluster: nodes, password, tls };
}

function connectionPrefix(connection: Redis | Cluster): string {
  const prefix = connection.options.keyPrefix;
  return typeof prefix === 'string' ? prefix : '';
}
