import { and, asc, desc, eq, type SQL, sql } from 'drizzle-orm';
import type { DbAccess } from '../db/access.ts';
import {
  type ApplicationStatus,
  applicationStatusHistory,
  applications,
  candidates,
  processes,
  transcriptEntries,
} from '../db/schema.ts';

export type ApplicationRow = typeof applications.$inferSelect;
export type ApplicationUpdate = Partial<
  Pick<
    ApplicationRow,
    | 'step'
    | 'answers'
    | 'cvText'
    | 'cvHash'
    | 'analysis'
    | 'analysisState'
    | 'score'
    | 'scoreBreakdown'
    | 'submittedAt'
    | 'firstMessageAt'
  >
>;

export interface ApplicationListQuery {
  processId?: string;
  status?: ApplicationStatus;
  sort: 'score' | 'created';
  limit: number;
  offset: number;
}

export function createApplicationRepository(access: DbAccess) {
  function listWithProcess(where: SQL) {
    return access.db
      .select({
        application: applications,
        processCode: processes.code,
        processTitle: processes.title,
        questions: processes.questions,
      })
      .from(applications)
      .innerJoin(processes, eq(processes.id, applications.processId))
      .where(where)
      .orderBy(desc(applications.createdAt));
  }

  return {
    async insert(values: { candidateId: string; processId: string; firstMessageAt?: Date }): Promise<ApplicationRow> {
      const [row] = await access.db.insert(applications).values(values).returning();
      return row as ApplicationRow;
    },
    async findById(id: string): Promise<ApplicationRow | undefined> {
      const [row] = await access.db.select().from(applications).where(eq(applications.id, id));
      return row;
    },
    async lockById(id: string): Promise<ApplicationRow | undefined> {
      const [row] = await access.db.select().from(applications).where(eq(applications.id, id)).for('update');
      return row;
    },
    async findByCandidateAndProcess(candidateId: string, processId: string): Promise<ApplicationRow | undefined> {
      const [row] = await access.db
        .select()
        .from(applications)
        .where(and(eq(applications.candidateId, candidateId), eq(applications.processId, processId)));
      return row;
    },
    /** A candidate's applications with their process code, title and questions, newest first. */
    listForCandidate(candidateId: string) {
      return listWithProcess(eq(applications.candidateId, candidateId));
    },
    /** The same, by phone (so it can go out together with the candidate's own read). */
    listForPhone(phone: string) {
      return listWithProcess(
        sql`${applications.candidateId} = (select ${candidates.id} from ${candidates} where ${candidates.phone} = ${phone})`,
      );
    },
    async list(query: ApplicationListQuery) {
      const filters: SQL[] = [];
      if (query.processId) filters.push(eq(applications.processId, query.processId));
      if (query.status) filters.push(eq(applications.status, query.status));
      const where = filters.length ? and(...filters) : undefined;
      const order =
        query.sort === 'score'
          ? [sql`${applications.score} desc nulls last`, asc(applications.createdAt)]
          : [desc(applications.createdAt)];
      const [rows, [total]] = await Promise.all([
        access.db
          .select({
            id: applications.id,
            processId: applications.processId,
            candidateId: applications.candidateId,
            candidateName: candidates.name,
            status: applications.status,
            score: applications.score,
            analysisState: applications.analysisState,
            submittedAt: applications.submittedAt,
            createdAt: applications.createdAt,
            updatedAt: applications.updatedAt,
          })
          .from(applications)
          .innerJoin(candidates, eq(candidates.id, applications.candidateId))
          .where(where)
          .orderBy(...order)
          .limit(query.limit)
          .offset(query.offset),
        access.db.select({ n: sql<number>`count(*)::int` }).from(applications).where(where),
      ]);
      return { items: rows, total: total?.n ?? 0 };
    },
    async update(id: string, values: ApplicationUpdate): Promise<void> {
      await access.db
        .update(applications)
        .set({ ...values, updatedAt: new Date() })
        .where(eq(applications.id, id));
    },
    /** Sets one answer in one statement (no read first): jsonb concatenation keeps the others. */
    async saveAnswer(id: string, questionId: string, value: unknown): Promise<void> {
      await access.db
        .update(applications)
        .set({
          answers: sql`${applications.answers} || ${JSON.stringify({ [questionId]: value })}::jsonb`,
          updatedAt: new Date(),
        })
        .where(eq(applications.id, id));
    },
    /** Drops an in-progress application (restart); its transcript lines stay with the candidate. */
    async discard(id: string): Promise<void> {
      await access.db
        .update(transcriptEntries)
        .set({ applicationId: null })
        .where(eq(transcriptEntries.applicationId, id));
      await access.db.delete(applications).where(and(eq(applications.id, id), eq(applications.status, 'in_progress')));
    },
    /** Sets the status and appends the history row; the caller checked the transition and raises the event. */
    async changeStatus(
      id: string,
      change: { from: ApplicationStatus | null; to: ApplicationStatus; reason: string | null; actor: string; at: Date },
    ): Promise<void> {
      await access.db
        .update(applications)
        .set({
          status: change.to,
          updatedAt: change.at,
          ...(change.to === 'submitted' ? { submittedAt: change.at } : {}),
        })
        .where(eq(applications.id, id));
      await access.db.insert(applicationStatusHistory).values({
        applicationId: id,
        fromStatus: change.from,
        toStatus: change.to,
        reason: change.reason,
        actor: change.actor,
        at: change.at,
      });
    },
    async history(id: string) {
      return access.db
        .select()
        .from(applicationStatusHistory)
        .where(eq(applicationStatusHistory.applicationId, id))
        .orderBy(asc(applicationStatusHistory.at), asc(applicationStatusHistory.id));
    },
    async transcript(candidateId: string, applicationId: string) {
      return access.db
        .select({ direction: transcriptEntries.direction, body: transcriptEntries.body, at: transcriptEntries.at })
        .from(transcriptEntries)
        .where(
          and(
            eq(transcriptEntries.candidateId, candidateId),
            sql`(${transcriptEntries.applicationId} = ${applicationId} or ${transcriptEntries.applicationId} is null)`,
          ),
        )
        .orderBy(asc(transcriptEntries.id));
    },
    async countInProgressByStep() {
      return access.db
        .select({ step: applications.step, n: sql<number>`count(*)::int` })
        .from(applications)
        .where(eq(applications.status, 'in_progress'))
        .groupBy(applications.step);
    },
    /** Counts by process and status, for the funnel gauge. */
    async countByProcessAndStatus() {
      return access.db
        .select({ processCode: processes.code, status: applications.status, n: sql<number>`count(*)::int` })
        .from(applications)
        .innerJoin(processes, eq(processes.id, applications.processId))
        .groupBy(processes.code, applications.status);
    },
  };
}
export type ApplicationRepository = ReturnType<typeof createApplicationRepository>;
