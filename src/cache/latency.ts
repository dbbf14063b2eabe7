/** Bucket upper bounds in seconds, shared by the Prometheus histogram and the in-process summary. */
export const LATENCY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export interface LatencySummary {
  count: number;
  meanMs: number;
  /** Estimated from the buckets (linear inside a bucket). */
  p50Ms: number;
  p99Ms: number;
}

/** A fixed-bucket latency histogram kept in process for `stats()` (Prometheus has its own). */
export class LatencyHistogram {
  private readonly counts = new Array<number>(LATENCY_BUCKETS.length + 1).fill(0);
  private count = 0;
  private sum = 0;
  private max = 0;

  observe(seconds: number): void {
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > (LATENCY_BUCKETS[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.count++;
    this.sum += seconds;
    if (seconds > this.max) this.max = seconds;
  }

  summary(): LatencySummary {
    const ms = (s: number) => Math.round(s * 1e6) / 1e3;
    return {
      count: this.count,
      meanMs: this.count ? ms(this.sum / this.count) : 0,
      p50Ms: ms(this.quantile(0.5)),
      p99Ms: ms(this.quantile(0.99)),
    };
  }

  private quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = q * this.count;
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      const inBucket = this.counts[i] as number;
      if (seen + inBucket >= rank && inBucket > 0) {
        const lower = i === 0 ? 0 : (LATENCY_BUCKETS[i - 1] as number);
        const upper = Math.min(LATENCY_BUCKETS[i] ?? this.max, this.max);
        return lower + (Math.max(upper, lower) - lower) * ((rank - seen) / inBucket);
      }
      seen += inBucket;
    }
    return this.max;
  }
}
