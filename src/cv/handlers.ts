import type { ConversationEngine } from '../conversation/engine.ts';
import type { TransactionManager } from '../db/transaction-manager.ts';
import { AppError } from '../errors.ts';
import type { EventBus } from '../events/bus.ts';
import type { Logger } from '../logger.ts';
import type { ApplicationRepository } from '../recruiting/applications.ts';
import type { Evaluation } from '../recruiting/evaluation.ts';
import type { ProcessRow } from '../recruiting/processes.ts';
import type { Channel } from '../whatsapp/channel.ts';
import type { CvAnalysisService } from './analysis-service.ts';
import { AnalysisUnavailableError } from './errors.ts';
import type { CvExtractor } from './extract.ts';

/**
 * The slow CV work, after commit and outside any request: download + extract a document and
 * continue the conversation; then analyse the text (cached by content) and screen the application.
 * A failure that may pass (network, OpenAI down) throws, so the outbox retries it with backoff.
 */
export function subscribeCvHandlers(deps: {
  bus: EventBus;
  tm: TransactionManager;
  channel: Channel;
  extractor: CvExtractor;
  analysis: CvAnalysisService;
  /** Used when the main analyzer refuses for good (bad key, unusable output). */
  fallbackAnalysis?: CvAnalysisService;
  engine: ConversationEngine;
  applications: ApplicationRepository;
  evaluation: Evaluation;
  findProcess(id: string): Promise<ProcessRow | undefined>;
  hashCv(text: string): string;
  maxBytes: number;
  logger: Logger;
  now?: () => Date;
}): void {
  const { bus, tm, applications } = deps;
  const now = deps.now ?? (() => new Date());

  bus.subscribe('cv.document_received', 'cv.extract', async ({ payload }) => {
    const app = await applications.findById(payload.applicationId);
    if (app?.status !== 'in_progress' || app.cvText !== null) return; // restarted, erased or already read
    const extracted = await download(payload.media).then((data) =>
      data ? deps.extractor.extract(data) : ({ ok: false, reason: 'too_large' } as const),
    );
    if (!extracted.ok) {
      deps.logger.info({ applicationId: app.id, reason: extracted.reason }, 'CV document refused');
      await deps.engine.continueWith(payload.phone, {
        kind: 'cv_extracted',
        ok: false,
        reason: extracted.reason,
        applicationId: app.id,
      });
      return;
    }
    await deps.engine.continueWith(
      payload.phone,
      { kind: 'cv_extracted', ok: true, applicationId: app.id },
      async () => {
        const current = await applications.lockById(app.id);
        if (current?.status !== 'in_progress' || current.cvText !== null) return false;
        await applications.update(app.id, {
          cvText: extracted.text,
          cvHash: deps.hashCv(extracted.text),
          analysisState: 'pending',
        });
        tm.addEvent('cv.received', {
          applicationId: app.id,
          candidateId: app.candidateId,
          ...(extracted.hiddenText?.length ? { hiddenText: extracted.hiddenText.slice(0, 20) } : {}),
        });
        return true;
      },
    );
  });

  async function download(media: Parameters<Channel['downloadMedia']>[0]): Promise<Buffer | undefined> {
    try {
      return (await deps.channel.downloadMedia(media, deps.maxBytes)).data;
    } catch (err) {
      if (err instanceof AppError && err.code === 'payload_too_large') return undefined;
      throw err; // transient: the outbox retries
    }
  }

  bus.subscribe('cv.received', 'cv.analyze', async ({ payload }) => {
    const app = await applications.findById(payload.applicationId);
    if (!app?.cvText || app.analysisState === 'done') return;
    const process = await deps.findProcess(app.processId);
    if (!process) return;
    // Throws AnalysisUnavailableError while the analyzer is down: the application stays pending and is retried.
    const options = { hiddenText: payload.hiddenText };
    const analysis = await deps.analysis.analyze(app.cvText, process.requirements, options).catch((err) => {
      // Retrying cannot fix a refused key or an unusable answer: fall back to the offline analyzer
      // (the analysis names its analyzer, so the recruiter sees it). Anything else is retried later.
      if (err instanceof AnalysisUnavailableError && !err.retryable && deps.fallbackAnalysis) {
        deps.logger.warn(
          { applicationId: app.id, reason: err.reason },
          'CV analysis refused; using the offline analyzer',
        );
        return deps.fallbackAnalysis.analyze(app.cvText as string, process.requirements, options);
      }
      throw err;
    });
    await tm.transactional(async () => {
      const current = await applications.lockById(app.id);
      if (!current || current.cvHash !== app.cvHash) return; // restarted or erased meanwhile
      await applications.update(app.id, { analysis, analysisState: 'done' });
      tm.addEvent('cv.analyzed', { applicationId: app.id, cvHash: analysis.cvHash, ok: true });
      if (current.status === 'submitted') await deps.evaluation.evaluate(app.id, now());
    });
  });
}
