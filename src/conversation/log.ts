import { eq, sql } from 'drizzle-orm';
import type { DbAccess } from '../db/access.ts';
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
     * Records an inbound message by its channel id; false when it was already recorded (a redelivery).
     * With `phone`, the row points at that phone's candidate, if any (looked up in the same statement).
     */
    async recordInbound(message: {
      id: string;
      type: string;
      sentAt: Date;
      candidateId?: string | null;
      phone?: string;
    }): Promise<boolean> {
      const candidateId =
        message.phone !== undefined
          ? sql`(select ${candidates.id} from ${candidates} where ${candidates.phone} = ${message.phone})`
          : (message.candidateId ?? null);
      const rows = await access.db
        .insert(inboundMessages)
        .values({ id: message.id, type: message.type, sentAt: message.sentAt, candidateId })
        .onConflictDoNothing({ target: inboundMessages.id })
        .returning({ id: inboundMessages.id });
      return rows.length === 1;
    },
    async isRecorded(id: string): Promise<boolean> {
      const rows = await access.db
        .select({ id: inboundMessages.id })
        .from(inboundMessages)
        .where(eq(inboundMessages.id, id));
      return rows.length === 1;
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
