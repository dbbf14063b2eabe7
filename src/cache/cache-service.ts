import { performance } from 'node:perf_hooks';
import { type Logger, scrub } from '../logger.ts';
import { buildKey } from './cache-key.ts';
import { CACHE_OPERATIONS, type CacheMetrics, type CacheOperation } from './cache-metrics.ts';
import { decode, encode } from './codec.ts';
import { lockOrWait } from './fill-lock.ts';
import type { KvStore } from './kv-store.ts';
import { LatencyHistogram, type LatencySummary } from './latency.ts';
import { guardFor, type StoreGuard, type StoreGuardOptions } from './store-guard.ts';
import { type TopKey, TopKeys } from './top-keys.ts';

/** Runs `fn` after the surrounding transaction commits (and never if it rolls back). */
export type Deferrer = (fn: () => Promise<void>) => void;

export interface CacheServiceOptions {
  /** The domain namespace, e.g. 'analysis': letters, digits, '_', '.', '-'. Keys live under `prefix:`. */
  prefix: string;
  /** Default TTL of every write. */
  ttlSeconds: number;
  logger?: Logger;
  metrics?: CacheMetrics;
  /** TTL of the cross-instance fill lock; renewed while the factory runs, so a dead holder frees it within this. */
  lockTtlMs?: number;
  /** Returns a deferrer while the caller is inside a DB transaction (e.g. `() => tm.currentAfterCommit()`). */
  deferInvalidation?: () => Deferrer | undefined;
  /** Counters kept for the approximate top keys. */
  topKeysCapacity?: number;
  /** Circuit breaker tuning; only the first service created on a store sets it (they share one breaker). */
  breaker?: Omit<StoreGuardOptions, 'logger' | 'metrics'>;
}

export interface WriteOptions {
  /** Overrides the default TTL; `null` keeps the entry until deleted (explicitly forever). */
  ttlSeconds?: number | null;
}

export interface CachedOptions<A extends unknown[]> extends WriteOptions {
  /**
   * A string is a namespace: the key is `key(namespace, ...args)`. A function builds the whole
   * key from the arguments. Default namespace: the function name (the `Class.method` for the decorator).
   */
  key?: string | ((...args: A) => string);
}

export interface CacheServiceStats {
  prefix: string;
  ttlSeconds: number;
  hits: number;
  misses: number;
  /** hits / (hits + misses), 0 before any lookup. */
  hitRatio: number;
  coalesced: number;
  lockWaits: number;
  factoryCalls: number;
  factoryErrors: number;
  storeErrors: number;
  degraded: number;
  inFlight: number;
  latency: Partial<Record<CacheOperation, LatencySummary>>;
  topKeys: TopKey[];
  store: { kind: KvStore['kind']; available: boolean; outages: number; pendingInvalidations: number };
}

type Factory<T> = () => Promise<T> | T;

interface Flight {
  promise: Promise<unknown>;
  /** Set when the key is written or invalidated meanwhile: the result is returned, not cached. */
  stale: boolean;
}

const MISS: unique symbol = Symbol('miss');
type Found<T> = T | typeof MISS;

const PREFIX_PATTERN = /^[\w.-]+$/;

/**
 * A cache for one domain prefix over a KvStore (Redis or memory). Never throws a store error to
 * its caller: reads degrade to misses and `getOrSet` to the factory, behind a circuit breaker
 * shared by every service on the store. Semantics: README.md in this folder.
 */
export class CacheService {
  readonly prefix: string;
  readonly ttlSeconds: number;
  private readonly store: KvStore;
  private readonly ns: string;
  private readonly lockNs: string;
  private readonly lockTtlMs: number;
  private readonly guard: StoreGuard;
  private readonly deferInvalidation?: () => Deferrer | undefined;
  private readonly flights = new Map<string, Flight>();
  private readonly top: TopKeys;
  private readonly latency = new Map<CacheOperation, LatencyHistogram>();
  private readonly counts = {
    hits: 0,
    misses: 0,
    coalesced: 0,
    lockWaits: 0,
    factoryCalls: 0,
    factoryErrors: 0,
    storeErrors: 0,
    degraded: 0,
  };
  private readonly m?: ReturnType<typeof bindMetrics>;
  private readonly logger?: Logger;

  constructor(store: KvStore, options: CacheServiceOptions) {
    if (!PREFIX_PATTERN.test(options.prefix)) {
      throw new TypeError(`cache prefix must match ${PREFIX_PATTERN}: ${JSON.stringify(options.prefix)}`);
    }
    this.store = store;
    this.prefix = options.prefix;
    this.ttlSeconds = options.ttlSeconds;
    this.ttlMs(options.ttlSeconds);
    this.ns = `${options.prefix}:`;
    // '#' cannot occur in a prefix, so lock keys never fall under any service's `prefix:` namespace.
    this.lockNs = `${options.prefix}#lock:`;
    this.lockTtlMs = options.lockTtlMs ?? 5_000;
    this.deferInvalidation = options.deferInvalidation;
    this.logger = options.logger;
    this.top = new TopKeys(options.topKeysCapacity ?? 100);
    this.guard = guardFor(store, { logger: options.logger, metrics: options.metrics, ...options.breaker });
    for (const op of CACHE_OPERATIONS) this.latency.set(op, new LatencyHistogram());
    if (options.metrics) this.m = bindMetrics(options.metrics, options.prefix);
  }

  /** A key from parts: see buildKey (objects are hashed independently of key order). */
  key(...parts: unknown[]): string {
    return buildKey(parts);
  }

  async get<T>(key: string): Promise<T | undefined> {
    const start = performance.now();
    this.top.record(key);
    const found = await this.read<T>(key, 'get');
    this.countLookup(found !== MISS);
    this.observe('get', start);
    return found === MISS ? undefined : found;
  }

  async set<T>(key: string, value: T, options: WriteOptions = {}): Promise<void> {
    const ttlMs = this.ttlMs(options.ttlSeconds);
    const text = encode(value);
    const defer = this.deferInvalidation?.();
    if (defer) defer(() => this.write(key, text, ttlMs));
    else await this.write(key, text, ttlMs);
  }

  /** Deletes a key; inside a transaction, after it commits. A delete the store cannot apply is journaled. */
  async delete(key: string): Promise<void> {
    const defer = this.deferInvalidation?.();
    if (defer) defer(() => this.deleteNow(key));
    else await this.deleteNow(key);
  }

  /** Deletes every key of this prefix (SCAN + UNLINK in batches on Redis); inside a transaction, after commit. */
  async invalidatePrefix(): Promise<void> {
    const defer = this.deferInvalidation?.();
    if (defer) defer(() => this.invalidateNow());
    else await this.invalidateNow();
  }

  /** Sliding TTL: gives an existing entry a new TTL. Returns whether the entry existed. */
  async touch(key: string, ttlSeconds: number): Promise<boolean> {
    const start = performance.now();
    const ttlMs = this.ttlMs(ttlSeconds) as number;
    let touched = false;
    if (!this.guard.usable) this.countDegraded('touch');
    else {
      try {
        touched = await this.store.expire(this.ns + key, ttlMs);
        this.guard.succeeded();
      } catch (err) {
        this.storeFailed('touch', err);
      }
    }
    this.observe('touch', start);
    return touched;
  }

  /**
   * The cached value, or the factory's (then cached). Concurrent calls for one key run the factory
   * once per process, and once across processes through a lock in the store; a factory that throws
   * caches nothing and rejects every caller waiting on it with its error.
   */
  async getOrSet<T>(key: string, factory: Factory<T>, options: WriteOptions = {}): Promise<T> {
    const start = performance.now();
    const ttlMs = this.ttlMs(options.ttlSeconds);
    this.top.record(key);
    let flight = this.flights.get(key);
    if (!flight) {
      const found = await this.read<T>(key, 'get_or_set');
      if (found !== MISS) {
        this.countLookup(true);
        this.observe('get_or_set', start);
        return found;
      }
      flight = this.flights.get(key);
    }
    this.countLookup(false);
    if (flight) this.count('coalesced');
    else flight = this.startFlight(key, factory, ttlMs);
    try {
      return (await flight.promise) as T;
    } finally {
      this.observe('get_or_set', start);
    }
  }

  /** Wraps an async function so calls with equal arguments share one cached result. */
  cached<A extends unknown[], R>(fn: (...args: A) => Promise<R> | R, options: CachedOptions<A> = {}) {
    const keyOf = this.keyBuilder(options.key, fn.name);
    const service = this;
    return function cachedCall(this: unknown, ...args: A): Promise<R> {
      return service.getOrSet(keyOf(this, args), () => fn.apply(this, args), { ttlSeconds: options.ttlSeconds });
    };
  }

  stats(topN = 10): CacheServiceStats {
    const { hits, misses } = this.counts;
    const latency: Partial<Record<CacheOperation, LatencySummary>> = {};
    for (const [op, h] of this.latency) {
      const s = h.summary();
      if (s.count) latency[op] = s;
    }
    return {
      prefix: this.prefix,
      ttlSeconds: this.ttlSeconds,
      ...this.counts,
      hitRatio: hits + misses ? Math.round((hits / (hits + misses)) * 1e4) / 1e4 : 0,
      inFlight: this.flights.size,
      latency,
      // Keys may embed identifiers: mask emails and phone-like numbers before they leave the process.
      topKeys: this.top.top(topN).map((k) => ({ ...k, key: scrub(k.key) })),
      store: {
        kind: this.store.kind,
        available: this.guard.available,
        outages: this.guard.outages,
        pendingInvalidations: this.guard.pendingInvalidations,
      },
    };
  }

  private keyBuilder<A extends unknown[]>(
    key: CachedOptions<A>['key'],
    name: string,
  ): (self: unknown, args: A) => string {
    if (typeof key === 'function') return (self, args) => key.apply(self, args);
    const namespace = key ?? name;
    if (!namespace) throw new TypeError('cached(): anonymous function needs a `key` option');
    return (_self, args) => buildKey([namespace, ...args]);
  }

  private async read<T>(key: string, op: CacheOperation): Promise<Found<T>> {
    if (!this.guard.usable) {
      this.countDegraded(op);
      return MISS;
    }
    let raw: string | null;
    try {
      raw = await this.store.get(this.ns + key);
    } catch (err) {
      this.storeFailed(op, err);
      return MISS;
    }
    this.guard.succeeded();
    return raw === null ? MISS : this.decodeOrMiss<T>(raw);
  }

  private decodeOrMiss<T>(raw: string): Found<T> {
    try {
      return decode<T>(raw);
    } catch (err) {
      // A value this codec did not write (or a truncated one): treat as absent; the next fill overwrites it.
      this.counts.storeErrors++;
      this.logger?.warn({ err: { message: (err as Error).message }, prefix: this.prefix }, 'undecodable cache value');
      return MISS;
    }
  }

  private async write(key: string, text: string, ttlMs: number | undefined): Promise<void> {
    const start = performance.now();
    this.markStale(key);
    const full = this.ns + key;
    if (!this.guard.usable) {
      // The old value may still sit in the store: it must go before the store is trusted again.
      this.countDegraded('set');
      this.guard.journal({ key: full });
    } else {
      try {
        await this.store.set(full, text, { ttlMs });
        this.guard.succeeded();
      } catch (err) {
        this.invalidationFailed('set', err, { key: full });
      }
    }
    this.observe('set', start);
  }

  private async deleteNow(key: string): Promise<void> {
    const start = performance.now();
    this.markStale(key);
    const full = this.ns + key;
    if (!this.guard.usable) {
      this.countDegraded('delete');
      this.guard.journal({ key: full });
    } else {
      try {
        await this.store.del([full]);
        this.guard.succeeded();
      } catch (err) {
        this.invalidationFailed('delete', err, { key: full });
      }
    }
    this.observe('delete', start);
  }

  private async invalidateNow(): Promise<void> {
    const start = performance.now();
    for (const flight of this.flights.values()) flight.stale = true;
    this.flights.clear();
    if (!this.guard.usable) {
      this.countDegraded('invalidate_prefix');
      this.guard.journal({ prefix: this.ns });
    } else {
      try {
        await this.store.deletePrefix(this.ns);
        this.guard.succeeded();
      } catch (err) {
        this.invalidationFailed('invalidate_prefix', err, { prefix: this.ns });
      }
    }
    this.observe('invalidate_prefix', start);
  }

  private startFlight<T>(key: string, factory: Factory<T>, ttlMs: number | undefined): Flight {
    const flight: Flight = { promise: Promise.resolve(), stale: false };
    flight.promise = this.fill(key, factory, ttlMs, flight).finally(() => {
      if (this.flights.get(key) === flight) this.flights.delete(key);
    });
    this.flights.set(key, flight);
    return flight;
  }

  private async fill<T>(key: string, factory: Factory<T>, ttlMs: number | undefined, flight: Flight): Promise<T> {
    const full = this.ns + key;
    let release: (() => void) | undefined;
    if (this.guard.usable) {
      try {
        const outcome = await lockOrWait(this.store, full, this.lockNs + key, {
          ttlMs: this.lockTtlMs,
          usable: () => this.guard.usable,
          onWait: () => this.count('lockWaits'),
        });
        if (outcome.kind === 'value') {
          const value = this.decodeOrMiss<T>(outcome.raw);
          if (value !== MISS) return value;
        } else if (outcome.kind === 'locked') release = outcome.release;
      } catch (err) {
        // The store failed while locking: go on without the lock (in-process single-flight still holds).
        this.storeFailed('get_or_set', err);
      }
    }
    try {
      const value = await this.callFactory(factory);
      if (!flight.stale) await this.fillWrite(full, value, ttlMs);
      return value;
    } finally {
      release?.();
    }
  }

  private async callFactory<T>(factory: Factory<T>): Promise<T> {
    const start = performance.now();
    this.count('factoryCalls');
    try {
      return await factory();
    } catch (err) {
      this.count('factoryErrors');
      throw err;
    } finally {
      this.observe('factory', start);
    }
  }

  /** Writes a freshly computed value. Unlike `set`, a failure journals nothing: the key held no value. */
  private async fillWrite(full: string, value: unknown, ttlMs: number | undefined): Promise<void> {
    if (!this.guard.usable) return;
    let text: string;
    try {
      text = encode(value);
    } catch (err) {
      // A circular structure or a function: the caller still gets its value, it just is not cached.
      this.logger?.warn({ err: { message: (err as Error).message }, prefix: this.prefix }, 'uncacheable value');
      return;
    }
    try {
      await this.store.set(full, text, { ttlMs });
      this.guard.succeeded();
    } catch (err) {
      this.storeFailed('get_or_set', err);
    }
  }

  private markStale(key: string): void {
    const flight = this.flights.get(key);
    if (!flight) return;
    flight.stale = true;
    this.flights.delete(key);
  }

  private ttlMs(ttlSeconds: number | null | undefined): number | undefined {
    if (ttlSeconds === null) return undefined;
    const seconds = ttlSeconds ?? this.ttlSeconds;
    if (typeof seconds !== 'number' || !(seconds > 0) || !Number.isFinite(seconds)) {
      throw new RangeError(`cache TTL must be a positive number of seconds (or null for none): ${seconds}`);
    }
    return Math.max(1, Math.round(seconds * 1000));
  }

  private countLookup(hit: boolean): void {
    if (hit) {
      this.counts.hits++;
      this.m?.hits.inc();
    } else {
      this.counts.misses++;
      this.m?.misses.inc();
    }
  }

  private count(what: 'coalesced' | 'lockWaits' | 'factoryCalls' | 'factoryErrors'): void {
    this.counts[what]++;
    this.m?.[what].inc();
  }

  private countDegraded(op: CacheOperation): void {
    this.counts.degraded++;
    this.m?.degraded[op].inc();
  }

  private storeFailed(op: CacheOperation, err: unknown): void {
    this.counts.storeErrors++;
    this.m?.storeErrors[op].inc();
    this.guard.failed(err);
  }

  /** A write or delete the store did not apply: journal it and open the circuit until it is replayed. */
  private invalidationFailed(op: CacheOperation, err: unknown, what: { key: string } | { prefix: string }): void {
    this.counts.storeErrors++;
    this.m?.storeErrors[op].inc();
    this.guard.invalidationFailed(err, what);
  }

  private observe(op: CacheOperation, start: number): void {
    const seconds = (performance.now() - start) / 1000;
    this.latency.get(op)?.observe(seconds);
    this.m?.duration[op].observe(seconds);
  }
}

function bindMetrics(metrics: CacheMetrics, prefix: string) {
  const perOp = <M>(bind: (op: CacheOperation) => M) =>
    Object.fromEntries(CACHE_OPERATIONS.map((op) => [op, bind(op)])) as Record<CacheOperation, M>;
  return {
    hits: metrics.hits.labels(prefix),
    misses: metrics.misses.labels(prefix),
    coalesced: metrics.coalesced.labels(prefix),
    lockWaits: metrics.lockWaits.labels(prefix),
    factoryCalls: metrics.factoryCalls.labels(prefix),
    factoryErrors: metrics.factoryErrors.labels(prefix),
    duration: perOp((op) => metrics.duration.labels(prefix, op)),
    storeErrors: perOp((op) => metrics.storeErrors.labels(prefix, op)),
    degraded: perOp((op) => metrics.degraded.labels(prefix, op)),
  };
}
