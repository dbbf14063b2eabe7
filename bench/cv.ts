/**
 * CV benchmark, one JSON line:
 * - warm extraction of a 2-page PDF through the isolated worker (target p50 < 50 ms), against parsing the same
 *   file in-process (the baseline: what the isolation costs);
 * - analysis cache hit p99 (target < 2 ms on Redis), against a bare GET of the same key;
 * - the service's peak RSS while a 1 GiB decompression bomb is parsed, against its RSS just before.
 * Redis from REDIS_URL or TEST_REDIS_URL; the memory store otherwise.
 */
import { performance } from 'node:perf_hooks';
import { CacheService } from '../src/cache/cache-service.ts';
import type { KvStore } from '../src/cache/kv-store.ts';
import { createMemoryStore } from '../src/cache/memory-store.ts';
import { createRedisClient } from '../src/cache/redis-client.ts';
import { createCvAnalysisService } from '../src/cv/analysis-service.ts';
import { createOfflineAnalyzer } from '../src/cv/analyzer-offline.ts';
import { createCvExtractor } from '../src/cv/extract.ts';
import { parseCv } from '../src/cv/parse.ts';
import { createLogger } from '../src/logger.ts';
import { buildBombPdf, buildCvPdf, sampleCvText } from '../test/fakes/cv-files.ts';

const logger = createLogger({ level: 'silent' });
const limits = { maxBytes: 5 * 1024 * 1024, maxPages: 10, maxChars: 20_000 };

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return Number(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!.toFixed(3));
}

async function time(runs: number, fn: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return samples;
}

async function benchExtraction() {
  const pdf = await buildCvPdf(2);
  const extractor = createCvExtractor(limits);
  try {
    await time(20, () => extractor.extract(pdf)); // warm-up (worker start, JIT)
    const isolated = await time(200, () => extractor.extract(pdf));
    await time(20, () => parseCv(pdf, { ...limits, minLetters: 100 }));
    const inProcess = await time(200, () => parseCv(pdf, { ...limits, minLetters: 100 }));
    return {
      extract_2page_pdf_p50_ms: percentile(isolated, 50),
      extract_2page_pdf_p99_ms: percentile(isolated, 99),
      baseline_in_process_parse_p50_ms: percentile(inProcess, 50),
    };
  } finally {
    await extractor.close();
  }
}

async function benchCacheHit() {
  const url = process.env.REDIS_URL ?? process.env.TEST_REDIS_URL;
  const prefix = `bench:cv:${process.pid}:`;
  let store: KvStore;
  if (url) {
    // As compose.ts builds it: one RedisClient connection, CacheService over its store.
    const client = createRedisClient(url, { keyPrefix: prefix, logger });
    await client.connect();
    store = client.store;
  } else {
    store = createMemoryStore();
  }
  try {
    const requirements = { skills: ['TypeScript', 'PostgreSQL', 'Kubernetes'], minYears: 5 };
    const cache = new CacheService(store, { prefix: 'analysis', ttlSeconds: 600 });
    const service = createCvAnalysisService({ analyzer: createOfflineAnalyzer(), cache, logger });
    await service.analyze(sampleCvText, requirements); // fills the cache
    const key = `analysis:${service.cacheKey(sampleCvText, requirements)}`;
    await time(1_000, () => service.analyze(sampleCvText, requirements)); // warm-up (JIT)
    const hits = await time(2_000, () => service.analyze(sampleCvText, requirements));
    const gets = await time(2_000, () => store.get(key));
    return {
      kv: store.kind,
      analysis_cache_hit_p50_ms: percentile(hits, 50),
      analysis_cache_hit_p99_ms: percentile(hits, 99),
      baseline_kv_get_p50_ms: percentile(gets, 50),
      baseline_kv_get_p99_ms: percentile(gets, 99),
    };
  } finally {
    await store.deletePrefix('');
    await store.close();
  }
}

async function benchBomb() {
  const bomb = buildBombPdf();
  const extractor = createCvExtractor(limits);
  try {
    await extractor.extract(await buildCvPdf(1)); // worker ready
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 5);
    const start = performance.now();
    const result = await extractor.extract(bomb);
    const elapsed = performance.now() - start;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    return {
      bomb_bytes: bomb.length,
      bomb_result: result.ok ? 'ok' : result.reason,
      bomb_killed_after_ms: Math.round(elapsed),
      service_rss_before_bomb_mb: Math.round(rssBefore / 2 ** 20),
      service_rss_peak_during_bomb_mb: Math.round(peak / 2 ** 20),
    };
  } finally {
    await extractor.close();
  }
}

const figures = {
  bench: 'cv',
  ...(await benchCacheHit()),
  ...(await benchExtraction()),
  ...(await benchBomb()),
};
console.log(JSON.stringify(figures));
