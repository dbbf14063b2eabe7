import { createHash } from 'node:crypto';
import type { CacheService } from '../cache/cache-service.ts';
import type { Session } from './types.ts';

export interface StoredSession {
  /** The conversation sequence this session was saved at (see `conversations.seq`). */
  seq: number;
  session: Session;
}

/** A phone's key: a hash, so phone numbers never appear in Redis keys or the cache's top-keys report. */
export function phoneHash(phone: string): string {
  return createHash('sha256').update(phone).digest('hex').slice(0, 32);
}

/**
 * Conversation sessions in the cache (`sessions` prefix) with a sliding TTL. A stored session is
 * used only when it was saved at the sequence right before the current message; anything else
 * (lost, expired, stale after a crash or an outage) is rebuilt from Postgres by the engine.
 */
export function createSessionStore(cache: CacheService, ttlSeconds: number) {
  return {
    /** The stored session whatever its sequence (read before the lock; `current` validates it). */
    peek(hash: string): Promise<StoredSession | undefined> {
      return cache.get<StoredSession>(hash);
    },
    /** The session if it was saved at `expectedSeq`, else undefined (rebuild it from Postgres). */
    current(stored: StoredSession | undefined, expectedSeq: number): Session | undefined {
      return stored && stored.seq === expectedSeq ? stored.session : undefined;
    },
    async save(hash: string, seq: number, session: Session): Promise<void> {
      await cache.set<StoredSession>(hash, { seq, session }, { ttlSeconds });
    },
    async forget(hash: string): Promise<void> {
      await cache.delete(hash);
    },
  };
}
export type SessionStore = ReturnType<typeof createSessionStore>;
