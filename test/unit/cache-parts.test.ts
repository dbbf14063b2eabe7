import { describe, expect, test } from 'vitest';
import { LatencyHistogram } from '../../src/cache/latency.ts';
import { redisTargetFromUrl } from '../../src/cache/redis-client.ts';
import { TopKeys } from '../../src/cache/top-keys.ts';

describe('TopKeys (space-saving)', () => {
  test('finds the heavy hitters of a long tail in bounded memory', () => {
    const top = new TopKeys(50);
    // 3 hot keys among 5,000 cold ones, interleaved: every key above total/capacity (135) is kept.
    for (let i = 0; i < 5_000; i++) {
      top.record(`cold:${i}`);
      if (i % 5 === 0) top.record('hot:a');
      if (i % 10 === 0) top.record('hot:b');
      if (i % 20 === 0) top.record('hot:c');
    }
    const best = top.top(3);
    expect(best.map((k) => k.key)).toEqual(['hot:a', 'hot:b', 'hot:c']);
    // Counts overestimate by at most `error`, never underestimate.
    const a = best[0]!;
    expect(a.count).toBeGreaterThanOrEqual(1_000);
    expect(a.count - a.error).toBeLessThanOrEqual(1_000);
    expect(top.top(100)).toHaveLength(50);
  });

  test('counts exactly while under capacity', () => {
    const top = new TopKeys(10);
    for (const k of ['a', 'b', 'a', 'c', 'a', 'b']) top.record(k);
    expect(top.top(2)).toEqual([
      { key: 'a', count: 3, error: 0 },
      { key: 'b', count: 2, error: 0 },
    ]);
  });
});

describe('LatencyHistogram', () => {
  test('summarizes count, mean and bucket quantiles', () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 99; i++) h.observe(0.0002);
    h.observe(0.3);
    const s = h.summary();
    expect(s.count).toBe(100);
    expect(s.p50Ms).toBeGreaterThan(0.1);
    expect(s.p50Ms).toBeLessThanOrEqual(0.25);
    expect(s.p99Ms).toBeLessThanOrEqual(0.25);
    expect(s.meanMs).toBeCloseTo((99 * 0.2 + 300) / 100, 2);
    expect(new LatencyHistogram().summary()).toEqual({ count: 0, meanMs: 0, p50Ms: 0, p99Ms: 0 });
  });
});

describe('redisTargetFromUrl', () => {
  test('reads Sentinel and Cluster from one URL and leaves plain URLs alone', () => {
    expect(redisTargetFromUrl('redis://127.0.0.1:6379/0')).toBe('redis://127.0.0.1:6379/0');
    expect(redisTargetFromUrl('redis://:s%40cret@s1:26379,s2/2?sentinel=mymaster')).toEqual({
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      name: 'mymaster',
      password: 's@cret',
      db: 2,
      tls: false,
    });
    expect(redisTargetFromUrl('rediss://n1:7000,n2:7001?cluster=true')).toEqual({
      cluster: [
        { host: 'n1', port: 7000 },
        { host: 'n2', port: 7001 },
      ],
      password: undefined,
      tls: true,
    });
  });
});
