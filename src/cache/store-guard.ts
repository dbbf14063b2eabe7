import type { Logger } from '../logger.ts';
import type { CacheMetrics } from './cache-metrics.ts';
import type { KvStore } from './kv-store.ts';

export interface StoreGuardOptions {
  logger?: Logger;
  metrics?: CacheMetrics;
  /** Consecutive failed reads that open the circuit (a failed write or delete opens it at once). */
  failureThreshold?: number;
  /** First wait before probing a store that failed; doubles per failed probe up to `retryMaxMs`. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Pending key deletes kept for replay; past this they collapse into their prefixes' invalidation. */
  maxPendingKeys?: number;
  now?: () => number;
}

/**
 * Circuit breaker and invalidation journal for one KvStore, shared by every CacheService on it.
 *
 * Closed: calls go to the store. Open (after `failureThreshold` failed reads, or one failed
 * write/delete): calls skip the store and the cache degrades to its factories. Once `retryAt`
 * passes, the next call starts a background probe (PING); when it answers, the journal of deletes
 * that could not be applied during the outage is replayed, and only then does the circuit close,
 * so a value that was invalidated during the outage is never served when the store returns.
 */
export class StoreGuard {
  private open = false;
  private failures = 0;
  private retryAt = 0;
  private retryDelay: number;
  private probing = false;
  private openedAt = 0;
  private readonly pendingKeys = new Set<string>();
  private readonly pendingPrefixes = new Set<string>();
  private readonly threshold: number;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private readonly maxPendingKeys: number;
  private readonly now: () => number;
  outages = 0;

  constructor(
    private readonly store: KvStore,
    private readonly options: StoreGuardOptions = {},
  ) {
    this.options = { ...options };
    this.threshold = options.failureThreshold ?? 3;
    this.retryMinMs = options.retryMinMs ?? 500;
    this.retryMaxMs = options.retryMaxMs ?? 10_000;
    this.maxPendingKeys = options.maxPendingKeys ?? 10_000;
    this.now = options.now ?? Date.now;
    this.retryDelay = this.retryMinMs;
  }

  adopt({ logger, metrics }: Pick<StoreGuardOptions, 'logger' | 'metrics'>): void {
    this.options.logger ??= logger;
    this.options.metrics ??= metrics;
  }

  /** Whether calls may go to the store now; when a retry is due, starts a probe in the background. */
  get usable(): boolean {
    if (!this.open) return true;
    if (!this.probing && this.now() >= this.retryAt) void this.probe();
    return false;
  }

  get available(): boolean {
    return !this.open;
  }

  get pendingInvalidations(): number {
    return this.pendingKeys.size + this.pendingPrefixes.size;
  }

  succeeded(): void {
    this.failures = 0;
  }

  /** A failed read: opens the circuit after `failureThreshold` in a row. */
  failed(err: unknown): void {
    if (++this.failures >= this.threshold) this.trip(err);
  }

  /** A delete (or an overwrite) that could not be applied: journal it and stop reading until it is. */
  invalidationFailed(err: unknown, what: { key: string } | { prefix: string }): void {
    this.journal(what);
    this.trip(err);
  }

  /** Journals a delete to replay when the store returns (the circuit is already open). */
  journal(what: { key: string } | { prefix: string }): void {
    if ('prefix' in what) {
      this.pendingPrefixes.add(what.prefix);
      for (const k of this.pendingKeys) if (k.startsWith(what.prefix)) this.pendingKeys.delete(k);
    } else if (![...this.pendingPrefixes].some((p) => what.key.startsWith(p))) {
      this.pendingKeys.add(what.key);
      if (this.pendingKeys.size > this.maxPendingKeys) this.collapseJournal();
    }
    this.options.metrics?.pendingInvalidations.set(this.pendingInvalidations);
  }

  private trip(err: unknown): void {
    if (this.open) return;
    this.open = true;
    this.openedAt = this.now();
    this.outages++;
    this.retryDelay = this.retryMinMs;
    this.retryAt = this.now() + this.retryDelay;
    this.options.metrics?.outages.inc();
    this.options.metrics?.storeAvailable.set(0);
    this.options.logger?.warn(
      { err: { message: err instanceof Error ? err.message : String(err) }, store: this.store.kind },
      'cache store unavailable; serving from factories until it returns',
    );
  }

  private async probe(): Promise<void> {
    this.probing = true;
    try {
      await this.store.ping();
      await this.replayJournal();
      this.open = false;
      this.failures = 0;
      this.options.metrics?.storeAvailable.set(1);
      this.options.logger?.info(
        { store: this.store.kind, outageMs: this.now() - this.openedAt },
        'cache store available again',
      );
    } catch {
      this.retryDelay = Math.min(this.retryDelay * 2, this.retryMaxMs);
      this.retryAt = this.now() + this.retryDelay * (0.8 + Math.random() * 0.4);
    } finally {
      this.probing = false;
    }
  }

  /** Applies the journal; loops because calls keep journaling while the circuit is still open. */
  private async replayJournal(): Promise<void> {
    while (this.pendingInvalidations > 0) {
      for (const prefix of [...this.pendingPrefixes]) {
        await this.store.deletePrefix(prefix);
        this.pendingPrefixes.delete(prefix);
      }
      const keys = [...this.pendingKeys].slice(0, 500);
      if (keys.length) await this.store.del(keys);
      for (const k of keys) this.pendingKeys.delete(k);
    }
    this.options.metrics?.pendingInvalidations.set(0);
  }

  /** Too many single keys: invalidate their whole prefixes (the part before the first ':') instead. */
  private collapseJournal(): void {
    for (const key of this.pendingKeys) {
      const cut = key.indexOf(':');
      this.pendingPrefixes.add(cut < 0 ? key : key.slice(0, cut + 1));
    }
    this.pendingKeys.clear();
  }
}

const guards = new WeakMap<KvStore, StoreGuard>();

/**
 * The one guard of a store: every CacheService on the store shares its circuit and journal. The
 * first caller's tuning wins; a logger or metrics missing so far are taken from later callers.
 */
export function guardFor(store: KvStore, options: StoreGuardOptions = {}): StoreGuard {
  let guard = guards.get(store);
  if (!guard) {
    guard = new StoreGuard(store, options);
    guards.set(store, guard);
  } else guard.adopt(options);
  return guard;
}
