import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KvStore } from './kv-store.ts';

const POLL_MIN_MS = 5;
const POLL_MAX_MS = 100;

/** What a caller who missed gets from the lock: the value someone else stored, or the duty to fill. */
export type LockOutcome =
  | { kind: 'value'; raw: string }
  /** This caller holds the lock and must run the factory, then `release()`. */
  | { kind: 'locked'; release: () => void }
  /** The store went away while waiting: run the factory without the lock. */
  | { kind: 'unavailable' };

export interface FillLockOptions {
  ttlMs: number;
  /** Whether the store may be called now (the circuit breaker); checked before every poll. */
  usable: () => boolean;
  /** Called once when this caller starts waiting for another holder. */
  onWait?: () => void;
}

/**
 * The cross-process half of single-flight: `SET lockKey token NX PX ttl`; the holder renews the TTL
 * (compare-and-PEXPIRE) every ttl/3 while its factory runs and releases with compare-and-delete.
 * Others poll (5 ms doubling to 100 ms) for the value or the lock's end. A holder that dies stops
 * renewing, so its lock expires within `ttlMs` and a waiter takes over.
 */
export async function lockOrWait(
  store: KvStore,
  valueKey: string,
  lockKey: string,
  { ttlMs, usable, onWait }: FillLockOptions,
): Promise<LockOutcome> {
  const token = randomUUID();
  let delay = POLL_MIN_MS;
  let waited = false;
  for (;;) {
    if (await store.set(lockKey, token, { nx: true, ttlMs })) {
      const release = holdLock(store, lockKey, token, ttlMs);
      // Another instance may have filled the key between our miss and our lock.
      const raw = await store.get(valueKey).catch((err: unknown) => {
        release();
        throw err;
      });
      if (raw === null) return { kind: 'locked', release };
      release();
      return { kind: 'value', raw };
    }
    if (!waited) {
      waited = true;
      onWait?.();
    }
    let holder: string | null;
    do {
      await sleep(delay * (0.75 + Math.random() / 2));
      delay = Math.min(delay * 2, POLL_MAX_MS, ttlMs / 2);
      if (!usable()) return { kind: 'unavailable' };
      const [raw, lock] = await store.mget([valueKey, lockKey]);
      if (raw != null) return { kind: 'value', raw };
      holder = lock ?? null;
    } while (holder !== null);
    // The holder released without a value (its factory failed) or died: try to take over.
  }
}

/** Renews the lock until the returned release function is called; release deletes it if still ours. */
function holdLock(store: KvStore, lockKey: string, token: string, ttlMs: number): () => void {
  const renewal = setInterval(() => {
    store.expireIfEquals(lockKey, token, ttlMs).catch(() => {});
  }, ttlMs / 3);
  renewal.unref();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    clearInterval(renewal);
    store.deleteIfEquals(lockKey, token).catch(() => {});
  };
}
