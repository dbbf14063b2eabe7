/**
 * The most accessed keys, approximately, in bounded memory: the Space-Saving algorithm
 * (Metwally et al.). It keeps `capacity` counters; a new key takes over the smallest counter and
 * inherits its count as `error`. Every key accessed more than total/capacity times is listed,
 * and each count overestimates the truth by at most its `error`.
 */
export interface TopKey {
  key: string;
  count: number;
  /** Upper bound of the overestimate in `count`. */
  error: number;
}

interface Counter {
  count: number;
  error: number;
}

export class TopKeys {
  private readonly counters = new Map<string, Counter>();
  /** Keys that held the minimum count at the last scan: eviction candidates, checked lazily. */
  private victims: string[] = [];
  private victimCount = 0;

  constructor(private readonly capacity = 100) {}

  record(key: string): void {
    const counter = this.counters.get(key);
    if (counter) {
      counter.count++;
      return;
    }
    if (this.counters.size < this.capacity) {
      this.counters.set(key, { count: 1, error: 0 });
      return;
    }
    const min = this.evictMin();
    this.counters.set(key, { count: min + 1, error: min });
  }

  top(n: number): TopKey[] {
    return [...this.counters]
      .map(([key, c]) => ({ key, count: c.count, error: c.error }))
      .sort((a, b) => b.count - a.count)
      .slice(0, n);
  }

  clear(): void {
    this.counters.clear();
    this.victims = [];
  }

  /** Removes one key holding the minimum count and returns that count. Amortized O(1). */
  private evictMin(): number {
    for (;;) {
      const candidate = this.victims.pop();
      if (candidate === undefined) {
        this.scanVictims();
        continue;
      }
      // Counts only grow: a candidate still at the scanned minimum is still a minimum.
      if (this.counters.get(candidate)?.count === this.victimCount) {
        this.counters.delete(candidate);
        return this.victimCount;
      }
    }
  }

  private scanVictims(): void {
    let min = Number.POSITIVE_INFINITY;
    for (const c of this.counters.values()) if (c.count < min) min = c.count;
    this.victimCount = min;
    this.victims = [];
    for (const [k, c] of this.counters) if (c.count === min) this.victims.push(k);
  }
}
