import type { CacheService, CacheServiceStats } from './cache-service.ts';
import type { KvStore } from './kv-store.ts';

export interface CacheStatsReport {
  store: {
    kind: KvStore['kind'];
    /** Redis `used_memory` summed over masters, or the memory store's bytes; null when the store did not answer. */
    memoryBytes: number | null;
    available: boolean;
    outages: number;
    pendingInvalidations: number;
  };
  hits: number;
  misses: number;
  hitRatio: number;
  prefixes: Record<string, CacheServiceStats>;
  /** The most accessed keys over all prefixes, as `prefix:key` (approximate counts, see TopKeys). */
  topKeys: { key: string; count: number }[];
}

/** The JSON served at `GET /api/cache/stats`: every service's stats, totals, store memory and top keys. */
export async function collectCacheStats(
  services: readonly CacheService[],
  store: KvStore,
  { topN = 10 }: { topN?: number } = {},
): Promise<CacheStatsReport> {
  const perService = services.map((s) => s.stats(topN));
  const memoryBytes = await store.memoryBytes().catch(() => null);
  const hits = perService.reduce((n, s) => n + s.hits, 0);
  const misses = perService.reduce((n, s) => n + s.misses, 0);
  const guardView = perService[0]?.store;
  return {
    store: {
      kind: store.kind,
      memoryBytes,
      available: guardView?.available ?? memoryBytes !== null,
      outages: guardView?.outages ?? 0,
      pendingInvalidations: guardView?.pendingInvalidations ?? 0,
    },
    hits,
    misses,
    hitRatio: hits + misses ? Math.round((hits / (hits + misses)) * 1e4) / 1e4 : 0,
    prefixes: Object.fromEntries(perService.map((s) => [s.prefix, s])),
    topKeys: perService
      .flatMap((s) => s.topKeys.map((k) => ({ key: `${s.prefix}:${k.key}`, count: k.count })))
      .sort((a, b) => b.count - a.count)
      .slice(0, topN),
  };
}
