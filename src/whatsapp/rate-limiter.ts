/**
 * Token buckets keyed by a string (a recipient, a sender number), in process memory. `reserve()` takes a
 * token now or books the next free one and says how long to wait for it; a wait longer than `maxWaitMs`
 * books nothing and is refused, so callers never queue unboundedly.
 */
export interface RateLimiterOptions {
  /** Burst size. */
  capacity: number;
  refillPerSecond: number;
  /** Buckets idle this long are forgotten (they would be full again anyway). */
  idleMs?: number;
  now?: () => number;
}

export type Reservation = { ok: true; waitMs: number } | { ok: false; retryAfterMs: number };

export interface RateLimiter {
  reserve(key: string, maxWaitMs: number): Reservation;
  /** Buckets currently held (for tests and memory checks). */
  size(): number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export function createRateLimiter({
  capacity,
  refillPerSecond,
  idleMs = 10 * 60_000,
  now = Date.now,
}: RateLimiterOptions): RateLimiter {
  if (capacity < 1 || refillPerSecond <= 0) throw new Error('rate limiter: capacity >= 1 and refillPerSecond > 0');
  const buckets = new Map<string, Bucket>();
  const msPerToken = 1000 / refillPerSecond;
  let lastSweep = now();

  function sweep(t: number) {
    if (t - lastSweep < idleMs) return;
    lastSweep = t;
    for (const [key, b] of buckets) if (t - b.updatedAt > idleMs && b.tokens >= 0) buckets.delete(key);
  }

  return {
    reserve(key, maxWaitMs) {
      const t = now();
      sweep(t);
      const bucket = buckets.get(key) ?? { tokens: capacity, updatedAt: t };
      bucket.tokens = Math.min(capacity, bucket.tokens + (t - bucket.updatedAt) / msPerToken);
      bucket.updatedAt = t;
      buckets.set(key, bucket);
      // Tokens may go negative: each negative token is a send booked for later.
      const waitMs = bucket.tokens >= 1 ? 0 : Math.ceil((1 - bucket.tokens) * msPerToken);
      if (waitMs > maxWaitMs) return { ok: false, retryAfterMs: waitMs };
      bucket.tokens -= 1;
      return { ok: true, waitMs };
    },
    size: () => buckets.size,
  };
}
