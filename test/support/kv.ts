import { randomBytes } from 'node:crypto';
import type { KvStore } from '../../src/cache/kv-store.ts';
import { createMemoryStore } from '../../src/cache/memory-store.ts';
import { createRedisConnection, createRedisStore } from '../../src/cache/redis-store.ts';

export type KvBackend = 'memory' | 'redis';

/** Backends every KV contract suite runs on: memory always, Redis when TEST_REDIS_URL is set. */
export const kvBackends: KvBackend[] = process.env.TEST_REDIS_URL ? ['redis', 'memory'] : ['memory'];

/** A key prefix of this test run's own, so runs never see each other's keys. */
export function testPrefix(): string {
  return `test:${process.pid}:${randomBytes(4).toString('hex')}:`;
}

export interface TestKv {
  store: KvStore;
  prefix: string;
  /** Deletes every key under the prefix and closes the connection. */
  destroy(): Promise<void>;
}

export async function createTestKv(backend: KvBackend, prefix = testPrefix()): Promise<TestKv> {
  if (backend === 'memory') {
    const store = createMemoryStore();
    return { store, prefix, destroy: () => store.close() };
  }
  const url = process.env.TEST_REDIS_URL;
  if (!url) throw new Error('TEST_REDIS_URL is not set');
  const redis = createRedisConnection(url, prefix);
  await redis.connect();
  const store = createRedisStore(redis, prefix);
  return {
    store,
    prefix,
    async destroy() {
      await store.deletePrefix('');
      await store.close();
    },
  };
}
