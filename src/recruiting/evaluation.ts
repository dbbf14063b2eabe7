import type { CvAnalysis } from '../cv/analysis-service.ts';
import { emptyProfile } from '../cv/profile.ts';
import type { TransactionManager } from '../db/transaction-manager.ts';
import type { Logger } from '../logger.ts';
import type { ApplicationRepository, ApplicationRow } from './applications.ts';
import type { ProcessRow } from './processes.ts';
import { scoreApplication } from './scoring.ts';
import type { StatusChanges } from './status-changes.ts';

/**
 * Submission and automatic screening. A completed application becomes `submitted`; once its CV
 * analysis is in, the scoring rules set `shortlisted`, `review` or `rejected`. A knockout answer
 * rejects at once, analysis or not.
 */
export function createEvaluation(deps: {
  tm: TransactionManager;
  applications: ApplicationRepository;
  findProcess(id: string): Promise<ProcessRow | undefined>;
  statusChanges: StatusChanges;
  logger: Logger;
  onSubmitted?(app: ApplicationRow, at: Date): void;
}) {
  const { tm, applications, statusChanges } = deps;

  async function evaluate(applicationId: string, at: Date): Promise<void> {
    await tm.transactional(async () => {
      const app = await applications.lockById(applicationId);
      if (app?.status !== 'submitted') return;
      const process = await deps.findProcess(app.processId);
      if (!process) return;
      const analysis = app.analysisState === 'done' ? (app.analysis as CvAnalysis | null) : null;
      const result = scoreApplication({
        profile: analysis?.profile ?? emptyProfile(),
        flags: analysis?.flags ?? [],
        requirements: process.requirements,
        questions: process.questions,
        answers: app.answers,
        thresholds: process.thresholds,
      });
      if (!analysis && !result.knockout) return; // wait for the CV analysis
      await applications.update(app.id, { score: result.score, scoreBreakdown: result });
      const reason = result.knockout
        ? `knockout: ${result.knockout.questionId}`
        : (result.reasons[0] ?? `score ${result.score}`);
      await statusChanges.change(app.id, result.decision, { actor: 'system', reason, at, locked: app });
    });
  }

  return {
    /** Marks a completed application submitted and screens it if it can. */
    async submit(applicationId: string, at: Date): Promise<void> {
      await tm.transactional(async () => {
        const app = await applications.lockById(applicationId);
        if (!app) return;
        await statusChanges.change(app.id, 'submitted', { actor: 'system', reason: 'completed', at, locked: app });
        deps.onSubmitted?.(app, at);
        await evaluate(applicationId, at);
      });
    },
    evaluate,
  };
}
export type Evaluation = ReturnType<typeof createEvaluation>;
