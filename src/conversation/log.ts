import { sql } from 'drizzle-orm';
import type { DbAccess } from '../db/access.ts';
import { rowsOf } from '../db/rows.ts';
import { candidates, conversations, inboundMessages, messageStatuses, transcriptEntries } from '../db/schema.ts';

export interface TranscriptLine {
  candidateId: string;
  applicationId: string | null;
  direction: 'in' | 'out';
  body: string;
  at: Date;
}

/** Inbound message ledger, transcript and delivery statuses: what the conversation writes besides domain rows. */
export function createConversationLog(access: DbAccess) {
  return {
    /**
     * Bumps the phone's conversation sequence and returns the new value. The upsert's row lock is
     * held until commit, so a phone's messages are processed one at a time across instances.
     */
    async advance(phoneHash: string): Promise<number> {
      const [row] = await access.db
        .insert(conversations)
        .values({ phoneHash, seq: 1 })
        .onConflictDoUpdate({
          target: conversations.phoneHash,
          set: { seq: sql`${conversations.seq} + 1`, updatedAt: new Date() },
        })
        .returning({ seq: conversations.seq });
      return row?.seq ?? 1;
    },
    /**
     * Records an inbound message by its channel id and, if it is new, bumps the phone's conversation
     * sequence (taking its row lock), in one statement. Returns the new sequence, or undefined for a
     * redelivery. The message row points at the phone's candidate, if there is one.
     */
    async recordAndAdvance(message: { id: string; type: string; sentAt: Date; phone: string }, phoneHash: string) {
      const result = await access.db.execute(sql`
        with recorded as (
          insert into ${inboundMessages} (id, candidate_id, type, sent_at)
          values (
            ${message.id},
            (select ${candidates.id} from ${candidates} where ${candidates.phone} = ${message.phone}),
            ${message.type},
            ${message.sentAt.toISOString()}::timestamptz
          )
          on conflict (id) do nothing
          returning id
        )
        insert into ${conversations} (phone_hash, seq)
        select ${phoneHash}, 1 from recorded
        on conflict (phone_hash) do update set seq = ${conversations.seq} + 1, updated_at = now()
        returning seq`);
      const [row] = rowsOf<{ seq: number | string }>(result);
      return row ? Number(row.seq) : undefined;
    },
    /** Appends transcript lines in one statement, in the order given. */
    async appendTranscript(entries: TranscriptLine | TranscriptLine[]) {
      const rows = Array.isArray(entries) ? entries : [entries];
      if (rows.length > 0) await access.db.insert(transcriptEntries).values(rows);
    },
    async recordStatus(status: { messageId: string; status: string; at: Date; error?: unknown }) {
      await access.db
        .insert(messageStatuses)
        .values({ messageId: status.messageId, status: status.status, at: status.at, error: status.error ?? null })
        .onConflictDoNothing();
    },
  };
}
export type ConversationLog = ReturnType<typeof createConversationLog>;
