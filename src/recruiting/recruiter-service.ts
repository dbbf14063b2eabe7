import type { CacheService } from '../cache/cache-service.ts';
import type { OpenProcess } from '../conversation/types.ts';
import type { ApplicationStatus, ProcessStatus, Question } from '../db/schema.ts';
import type { TransactionManager } from '../db/transaction-manager.ts';
import { AppError, conflict, notFound } from '../errors.ts';
import type { CreateProcessInput, UpdateProcessInput } from '../http/admin-schemas.ts';
import type { ApplicationListQuery, ApplicationRepository } from './applications.ts';
import type { CandidateRepository } from './candidates.ts';
import type { ProcessRepository, ProcessRow } from './processes.ts';
import type { RecruiterDecision } from './status.ts';
import type { StatusChanges } from './status-changes.ts';

const PROCESS_TRANSITIONS: Record<ProcessStatus, readonly ProcessStatus[]> = {
  draft: ['open', 'closed'],
  open: ['paused', 'closed'],
  paused: ['open', 'closed'],
  closed: [],
};

function withQuestionIds(questions: CreateProcessInput['questions']): Question[] {
  const used = new Set(questions.map((q) => q.id).filter(Boolean));
  let n = 0;
  return questions.map((q) => {
    if (q.id) return q as Question;
    let id: string;
    do id = `q${++n}`;
    while (used.has(id));
    return { ...q, id } as Question;
  });
}

/**
 * What recruiters do through the admin API: define processes, read ranked applications with the
 * reasons behind each score, decide, and erase a candidate. Every write is one transaction that
 * raises its events; cached process data is invalidated after commit.
 */
export function createRecruiterService(deps: {
  tm: TransactionManager;
  processes: ProcessRepository;
  applications: ApplicationRepository;
  candidates: CandidateRepository;
  statusChanges: StatusChanges;
  processCache: CacheService;
  /** After an erasure commits: forget the sessions and cached analyses of the candidate. */
  onErased(erased: { phone: string; cvHashes: string[] }): Promise<void>;
  now?: () => Date;
}) {
  const { tm, processes, applications, candidates, processCache: cache } = deps;
  const now = deps.now ?? (() => new Date());

  async function requireProcess(id: string): Promise<ProcessRow> {
    const process = await cache.getOrSet(cache.key('id', id), async () => (await processes.findById(id)) ?? null);
    if (!process) throw notFound('Process');
    return process;
  }

  return {
    async createProcess(input: CreateProcessInput): Promise<ProcessRow> {
      return tm.transactional(async () => {
        if (await processes.findByCode(input.code)) throw conflict(`A process with code ${input.code} already exists`);
        const row = await processes.insert({ ...input, questions: withQuestionIds(input.questions) });
        tm.addEvent('process.created', { processId: row.id, code: row.code });
        await cache.invalidatePrefix();
        return row;
      });
    },

    async updateProcess(id: string, patch: UpdateProcessInput): Promise<ProcessRow> {
      return tm.transactional(async () => {
        const current = await processes.lockById(id);
        if (!current) throw notFound('Process');
        const { status, questions, ...rest } = patch;
        if (status && status !== current.status && !PROCESS_TRANSITIONS[current.status].includes(status)) {
          throw new AppError('invalid_transition', `A ${current.status} process cannot become ${status}`, {
            from: current.status,
            allowed: PROCESS_TRANSITIONS[current.status],
          });
        }
        const row = await processes.update(id, {
          ...rest,
          ...(questions ? { questions: withQuestionIds(questions) } : {}),
          ...(status ? { status } : {}),
        });
        if (status && status !== current.status) {
          tm.addEvent('process.status_changed', {
            processId: id,
            from: current.status,
            to: status,
            at: now().toISOString(),
          });
        }
        await cache.invalidatePrefix();
        return row as ProcessRow;
      });
    },

    getProcess: requireProcess,

    listProcesses(query: { status?: ProcessStatus; limit: number; offset: number }) {
      return cache.getOrSet(cache.key('list', query), () => processes.list(query));
    },

    /** Open processes for the conversation (cached; invalidated by any process change). */
    async openProcesses(): Promise<OpenProcess[]> {
      return cache.getOrSet(cache.key('open'), async () =>
        (await processes.listOpen()).map((p) => ({ id: p.id, code: p.code, title: p.title, questions: p.questions })),
      );
    },

    findProcess: (id: string) => requireProcess(id).catch(() => undefined),

    listApplications: (query: ApplicationListQuery) => applications.list(query),

    async getApplication(id: string) {
      const app = await applications.findById(id);
      if (!app) throw notFound('Application');
      const [process, candidate, history, transcript] = await Promise.all([
        processes.findById(app.processId),
        candidates.findById(app.candidateId),
        applications.history(id),
        applications.transcript(app.candidateId, id),
      ]);
      const questions = process?.questions ?? [];
      return {
        id: app.id,
        status: app.status,
        score: app.score,
        scoreBreakdown: app.scoreBreakdown,
        process: process ? { id: process.id, code: process.code, title: process.title } : null,
        candidate: candidate
          ? {
              id: candidate.id,
              name: candidate.name,
              email: candidate.email,
              phone: candidate.erasedAt ? null : candidate.phone,
              locale: candidate.locale,
              consentAt: candidate.consentAt,
              erased: candidate.erasedAt !== null,
            }
          : null,
        answers: questions.map((q) => ({
          questionId: q.id,
          question: q.text,
          type: q.type,
          answer: app.answers[q.id] ?? null,
        })),
        analysisState: app.analysisState,
        analysis: app.analysis,
        statusHistory: history.map((h) => ({
          from: h.fromStatus,
          to: h.toStatus,
          reason: h.reason,
          actor: h.actor,
          at: h.at,
        })),
        transcript,
        submittedAt: app.submittedAt,
        createdAt: app.createdAt,
        updatedAt: app.updatedAt,
      };
    },

    async decide(id: string, decision: { status: RecruiterDecision; note?: string }) {
      await deps.statusChanges.change(id, decision.status as ApplicationStatus, {
        actor: 'recruiter',
        reason: decision.note ?? null,
        at: now(),
      });
    },

    async eraseCandidate(id: string): Promise<void> {
      await tm.transactional(async () => {
        const candidate = await candidates.findById(id);
        if (!candidate || candidate.erasedAt) throw notFound('Candidate');
        const erased = await candidates.erase(id);
        const phone = candidate.phone;
        const cvHashes = erased?.cvHashes ?? [];
        tm.afterCommit(() => deps.onErased({ phone, cvHashes }));
      });
    },
  };
}
export type RecruiterService = ReturnType<typeof createRecruiterService>;
