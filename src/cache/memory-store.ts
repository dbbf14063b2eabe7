import type { KvStore } from './kv-store.ts';

interface Entry {
  value: string;
  expiresAt: number;
  bytes: number;
}

export interface MemoryStoreOptions {
  /** Most entries held; the least recently used go first. */
  maxEntries?: number;
  /** Most bytes held (estimated: UTF-16 key and value plus overhead); least recently used go first. */
  maxBytes?: number;
  now?: () => number;
}

/** Rough per-entry overhead of the Map slot and the Entry object. */
const ENTRY_OVERHEAD = 64;

/** In-process KvStore with TTLs and LRU eviction: the embedded default when no Redis is configured. */
export function createMemoryStore({
  maxEntries = 50_000,
  maxBytes = 256 * 1024 * 1024,
  now = Date.now,
}: MemoryStoreOptions = {}): KvStore {
  // A Map iterates in insertion order; re-inserting on access keeps the least recently used first.
  const entries = new Map<string, Entry>();
  let bytes = 0;

  function remove(key: string): boolean {
    const entry = entries.get(key);
    if (!entry) return false;
    entries.delete(key);
    bytes -= entry.bytes;
    return true;
  }

  function read(key: string): Entry | undefined {
    const entry = entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now()) {
      remove(key);
      return undefined;
    }
    entries.delete(key);
    entries.set(key, entry);
    return entry;
  }

  function write(key: string, value: string, ttlMs?: number) {
    remove(key);
    const entry = {
      value,
      expiresAt: ttlMs === undefined ? Number.POSITIVE_INFINITY : now() + ttlMs,
      bytes: (key.length + value.length) * 2 + ENTRY_OVERHEAD,
    };
    entries.set(key, entry);
    bytes += entry.bytes;
    evict();
  }

  function evict() {
    // Expired entries at the cold end go first, then the least recently used past the bounds.
    const t = now();
    for (const [k, e] of entries) {
      const over = entries.size > maxEntries || bytes > maxBytes;
      if (!over && e.expiresAt > t) break;
      remove(k);
    }
  }

  return {
    kind: 'memory',
    async get(key) {
      return read(key)?.value ?? null;
    },
    async mget(keys) {
      return keys.map((k) => read(k)?.value ?? null);
    },
    async set(key, value, options = {}) {
      if (options.nx && read(key)) return false;
      write(key, value, options.ttlMs);
      return true;
    },
    async del(keys) {
      let n = 0;
      for (const k of keys) if (read(k) && remove(k)) n++;
      return n;
    },
    async exists(key) {
      return read(key) !== undefined;
    },
    async expire(key, ttlMs) {
      const entry = read(key);
      if (!entry) return false;
      entry.expiresAt = now() + ttlMs;
      return true;
    },
    async pttl(key) {
      const entry = read(key);
      if (!entry) return -2;
      return entry.expiresAt === Number.POSITIVE_INFINITY ? -1 : Math.max(0, entry.expiresAt - now());
    },
    async deleteIfEquals(key, value) {
      if (read(key)?.value !== value) return false;
      return remove(key);
    },
    async expireIfEquals(key, value, ttlMs) {
      const entry = read(key);
      if (entry?.value !== value) return false;
      entry.expiresAt = now() + ttlMs;
      return true;
    },
    async deletePrefix(prefix) {
      let n = 0;
      for (const k of [...entries.keys()]) if (k.startsWith(prefix) && remove(k)) n++;
      return n;
    },
    async memoryBytes() {
      return bytes;
    },
    async ping() {},
    async close() {
      entries.clear();
      bytes = 0;
    },
  };
}
