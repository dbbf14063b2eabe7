import type { Server } from 'node:http';
import type { Express } from 'express';
import type { KvStore } from './cache/kv-store.ts';
import { createMemoryStore } from './cache/memory-store.ts';
import { createRedisConnection, createRedisStore } from './cache/redis-store.ts';
import type { Config } from './config.ts';
import { createDbClient, type DbClient } from './db/client.ts';
import { migrateDatabase } from './db/migrate.ts';
import { createApp } from './http/app.ts';
import { createHealthRouter } from './http/health.ts';
import type { Logger } from './logger.ts';
import { createHttpMetrics, createMetricsRegistry } from './observability/metrics.ts';

export interface App {
  config: Config;
  http: Express;
  db: DbClient;
  kv: KvStore;
  /** Stops background work and closes pools (the HTTP server is closed by the caller first). */
  close(): Promise<void>;
  /** Marks the instance as shutting down: readiness answers 503 so load balancers drain it. */
  beginShutdown(): void;
}

/** Ready-made backends to use instead of building them from Config (tests share a throwaway database). */
export interface Overrides {
  db?: DbClient;
  kv?: KvStore;
}

/** The one composition root: builds every component from Config and wires them together. */
export async function compose(config: Config, logger: Logger, overrides: Overrides = {}): Promise<App> {
  const db = overrides.db ?? createDbClient(config.db, logger);
  await migrateDatabase(db);

  const kv = overrides.kv ?? createKvStore(config, logger);
  if (kv.kind === 'redis') {
    // Start even when Redis is down: readiness reports it and the connection keeps retrying.
    await kv
      .ping()
      .catch((err: Error) => logger.warn({ err: { message: err.message } }, 'redis not reachable at start-up'));
  }

  const registry = createMetricsRegistry();
  const httpMetrics = createHttpMetrics(registry);
  let shuttingDown = false;

  const health = createHealthRouter({
    registry,
    metricsToken: config.metrics.token,
    isShuttingDown: () => shuttingDown,
    checks: {
      database: async () => {
        await db.ping();
        return { ok: true, kind: db.kind };
      },
      kv: async () => {
        await kv.ping();
        return { ok: true, kind: kv.kind };
      },
    },
  });

  const http = createApp({ logger, metrics: httpMetrics, routers: [health] });

  return {
    config,
    http,
    db,
    kv,
    beginShutdown: () => {
      shuttingDown = true;
    },
    async close() {
      await kv.close();
      await db.close();
    },
  };
}

function createKvStore(config: Config, logger: Logger): KvStore {
  if (config.kv.kind === 'memory') return createMemoryStore();
  const redis = createRedisConnection(config.kv.url, config.kv.keyPrefix, logger);
  redis.connect().catch(() => {
    // The retry strategy keeps reconnecting; the error listener logs it.
  });
  return createRedisStore(redis, config.kv.keyPrefix);
}

/** Closes the server gracefully: stop accepting, let in-flight requests finish, drop idle keep-alives. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
