import { createHash } from 'node:crypto';
import type { CacheService } from '../cache/cache-service.ts';
import type { Session } from './types.ts';

interface StoredSession {
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
    async load(hash: string, expectedSeq: number): Promise<Session | undefined> {
      const stored = await cache.get<StoredSession>(hash);
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
