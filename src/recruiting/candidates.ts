import { and, eq, ne, or, sql } from 'drizzle-orm';
import type { DbAccess } from '../db/access.ts';
import { applications, candidates, inboundMessages, outbox, transcriptEntries } from '../db/schema.ts';

export type CandidateRow = typeof candidates.$inferSelect;
export type CandidateUpdate = Partial<
  Pick<CandidateRow, 'name' | 'email' | 'locale' | 'consentAt' | 'consentVersion' | 'optedOutAt' | 'lastInboundAt'>
>;

export function createCandidateRepository(access: DbAccess) {
  return {
    async findByPhone(phone: string): Promise<CandidateRow | undefined> {
      const [row] = await access.db.select().from(candidates).where(eq(candidates.phone, phone));
      return row;
    },
    async findById(id: string): Promise<CandidateRow | undefined> {
      const [row] = await access.db.select().from(candidates).where(eq(candidates.id, id));
      return row;
    },
    /** The candidate of this phone, created on first contact. */
    async findOrCreate(phone: string, locale: string): Promise<CandidateRow> {
      await access.db.insert(candidates).values({ phone, locale }).onConflictDoNothing({ target: candidates.phone });
      const [row] = await access.db.select().from(candidates).where(eq(candidates.phone, phone));
      return row as CandidateRow;
    },
    async update(id: string, values: CandidateUpdate): Promise<void> {
      await access.db
        .update(candidates)
        .set({ ...values, updatedAt: new Date() })
        .where(eq(candidates.id, id));
    },
    /**
     * Erases a candidate's personal data: name, email, phone (replaced, so the number may apply again),
     * CV text, analysis, answers, transcript, and the payloads of finished outbox events that mention
     * them (sent messages, notifications). Applications stay as anonymous rows (status counts).
     * Pending events are left to their handlers, which skip erased candidates.
     */
    async erase(id: string): Promise<{ cvHashes: string[] } | undefined> {
      const [candidate] = await access.db.select().from(candidates).where(eq(candidates.id, id)).for('update');
      if (!candidate || candidate.erasedAt) return undefined;
      const hashes = await access.db
        .select({ cvHash: applications.cvHash })
        .from(applications)
        .where(eq(applications.candidateId, id));
      await access.db.delete(transcriptEntries).where(eq(transcriptEntries.candidateId, id));
      await access.db.update(inboundMessages).set({ candidateId: null }).where(eq(inboundMessages.candidateId, id));
      await access.db
        .update(applications)
        .set({ cvText: null, cvHash: null, analysis: null, answers: {}, scoreBreakdown: null, updatedAt: new Date() })
        .where(eq(applications.candidateId, id));
      const mentions = [id, candidate.phone, candidate.name, candidate.email]
        .filter((s): s is string => !!s && s.length >= 3)
        .map((s) => sql`strpos(${outbox.payload}::text, ${s}) > 0`);
      await access.db
        .update(outbox)
        .set({ payload: { erased: true } })
        .where(and(ne(outbox.state, 'pending'), or(...mentions)));
      await access.db
        .update(candidates)
        .set({
          phone: sql`'erased:' || ${candidates.id}`,
          name: null,
          email: null,
          consentAt: null,
          consentVersion: null,
          lastInboundAt: null,
          erasedAt: new Date(),
          updatedAt: new Date(),
        })
        .where(eq(candidates.id, id));
      return { cvHashes: hashes.map((h) => h.cvHash).filter((h): h is string => !!h) };
    },
  };
}
export type CandidateRepository = ReturnType<typeof createCandidateRepository>;
