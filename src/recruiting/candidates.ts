import { eq, sql } from 'drizzle-orm';
import type { DbAccess } from '../db/access.ts';
import { applications, candidates, inboundMessages, transcriptEntries } from '../db/schema.ts';

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
     * CV text, analysis, answers and transcript. Applications stay as anonymous rows (status counts).
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
