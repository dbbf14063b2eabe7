/**
 * The key-value store under the cache, sessions and locks: Redis in production, an in-process
 * map on a laptop. Values are strings; serialization belongs to the layer above.
 * Keys passed in are relative: each store applies its own key prefix.
 */
export interface KvStore {
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<string | null>;
  mget(keys: string[]): Promise<(string | null)[]>;
  /** Writes a value; `ttlMs` undefined means no expiry. With `nx`, only when absent; returns whether written. */
  set(key: string, value: string, options?: { ttlMs?: number; nx?: boolean }): Promise<boolean>;
  del(keys: string[]): Promise<number>;
  exists(key: string): Promise<boolean>;
  /** Sets a TTL on an existing key; false when the key does not exist. */
  expire(key: string, ttlMs: number): Promise<boolean>;
  /** Remaining TTL in ms: -1 without expiry, -2 when absent. */
  pttl(key: string): Promise<number>;
  /** Deletes the key only if it holds `value` (lock release); returns whether it did. */
  deleteIfEquals(key: string, value: string): Promise<boolean>;
  /** Sets a new TTL only if the key holds `value` (lock renewal); returns whether it did. */
  expireIfEquals(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Deletes every key that starts with `prefix`, in batches; returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /** Bytes the store holds (Redis `used_memory`, or an estimate for the memory store). */
  memoryBytes(): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
