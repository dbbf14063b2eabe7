import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { KvStore } from './kv-store.ts';
import { LATENCY_BUCKETS } from './latency.ts';

export const CACHE_OPERATIONS = [
  'get',
  'set',
  'delete',
  'touch',
  'invalidate_prefix',
  'get_or_set',
  'factory',
] as const;
export type CacheOperation = (typeof CACHE_OPERATIONS)[number];

/**
 * Prometheus metrics of every CacheService sharing a registry. Labels are the cache prefix
 * (a handful of domains) and the operation: never a key. With `store`, `cache_memory_bytes` is
 * read from it at scrape time (Redis `used_memory`, or the memory store's bytes).
 */
export function createCacheMetrics(registry: Registry, { store }: { store?: KvStore } = {}) {
  const registers = [registry];
  const metrics = {
    hits: new Counter({
      name: 'cache_hits_total',
      help: 'Cache lookups answered from the store',
      labelNames: ['prefix'] as const,
      registers,
    }),
    misses: new Counter({
      name: 'cache_misses_total',
      help: 'Cache lookups the store could not answer',
      labelNames: ['prefix'] as const,
      registers,
    }),
    duration: new Histogram({
      name: 'cache_operation_duration_seconds',
      help: 'Cache operation duration (get_or_set includes the factory on a miss; factory is the factory alone)',
      labelNames: ['prefix', 'op'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    storeErrors: new Counter({
      name: 'cache_store_errors_total',
      help: 'Store calls that failed and were absorbed',
      labelNames: ['prefix', 'op'] as const,
      registers,
    }),
    degraded: new Counter({
      name: 'cache_degraded_total',
      help: 'Operations that skipped the store because its circuit was open',
      labelNames: ['prefix', 'op'] as const,
      registers,
    }),
    factoryCalls: new Counter({
      name: 'cache_factory_calls_total',
      help: 'Factory calls made on cache misses',
      labelNames: ['prefix'] as const,
      registers,
    }),
    factoryErrors: new Counter({
      name: 'cache_factory_errors_total',
      help: 'Factory calls that threw (nothing cached)',
      labelNames: ['prefix'] as const,
      registers,
    }),
    coalesced: new Counter({
      name: 'cache_coalesced_total',
      help: 'getOrSet calls that joined a factory call already running in this process',
      labelNames: ['prefix'] as const,
      registers,
    }),
    lockWaits: new Counter({
      name: 'cache_lock_waits_total',
      help: 'getOrSet misses that waited for another instance holding the fill lock',
      labelNames: ['prefix'] as const,
      registers,
    }),
    outages: new Counter({ name: 'cache_outages_total', help: 'Times the cache store circuit opened', registers }),
    storeAvailable: new Gauge({
      name: 'cache_store_available',
      help: '1 while the cache store circuit is closed, 0 while open',
      registers,
    }),
    pendingInvalidations: new Gauge({
      name: 'cache_pending_invalidations',
      help: 'Deletes journaled during an outage, replayed when the store returns',
      registers,
    }),
  };
  metrics.storeAvailable.set(1);
  if (store) {
    new Gauge({
      name: 'cache_memory_bytes',
      help: 'Memory held by the cache store (Redis used_memory, or the memory store estimate)',
      registers,
      async collect() {
        const bytes = await store.memoryBytes().catch(() => undefined);
        if (bytes !== undefined) this.set(bytes);
      },
    });
  }
  return metrics;
}
export type CacheMetrics = ReturnType<typeof createCacheMetrics>;
