import type { KvStore } from './kv-store.ts';

interface Entry {
  value: string;
  expiresAt: number;
}

export interface MemoryStoreOptions {
  /** Most entries held; the least recently used go first. */
  maxEntries?: number;
  now?: () => number;
}

/** In-process KvStore with TTLs and LRU eviction: the embedded default when no Redis is configured. */
export function createMemoryStore({ maxEntries = 50_000, now = Date.now }: MemoryStoreOptions = {}): KvStore {
  const entries = new Map<string, Entry>();

  function read(key: string): Entry | undefined {
    const entry = entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    // Re-insert to mark as most recently used.
    entries.delete(key);
    entries.set(key, entry);
    return entry;
  }

  function write(key: string, value: string, ttlMs?: number) {
    entries.delete(key);
    entries.set(key, { value, expiresAt: ttlMs === undefined ? Number.POSITIVE_INFINITY : now() + ttlMs });
    while (entries.size > maxEntries) {
      const oldest = entries.keys().next().value as string;
      entries.delete(oldest);
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
      for (const k of keys) if (read(k) && entries.delete(k)) n++;
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
      return entries.delete(key);
    },
    async deletePrefix(prefix) {
      let n = 0;
      for (const k of [...entries.keys()]) if (k.startsWith(prefix) && entries.delete(k)) n++;
      return n;
    },
    async memoryBytes() {
      let bytes = 0;
      for (const [k, e] of entries) bytes += (k.length + e.value.length) * 2 + 48;
      return bytes;
    },
    async ping() {},
    async close() {
      entries.clear();
    },
  };
}
