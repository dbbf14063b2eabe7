import { textsFor } from '../conversation/texts.ts';
import type { Locale } from '../conversation/types.ts';
import type { ApplicationStatus, ProcessStatus } from '../db/schema.ts';
import type { TransactionManager } from '../db/transaction-manager.ts';
import type { Logger } from '../logger.ts';
import type { ApplicationRepository } from '../recruiting/applications.ts';
import type { CandidateRepository } from '../recruiting/candidates.ts';
import type { ProcessRow } from '../recruiting/processes.ts';
import { CANDIDATE_NOTIFIED } from '../recruiting/status.ts';
import type { EventBus } from './bus.ts';
import type { EventMap } from './types.ts';
import { postSignedWebhook } from './webhook.ts';

/** What recruiters hear about when a process does not say: decisions and screening results, not every step. */
export const DEFAULT_NOTIFY_ON: readonly ApplicationStatus[] = [
  'shortlisted',
  'review',
  'rejected',
  'interview',
  'offer',
  'hired',
  'withdrawn',
];

export interface NotifierDeps {
  bus: EventBus;
  tm: TransactionManager;
  applications: ApplicationRepository;
  candidates: CandidateRepository;
  findProcess(id: string): Promise<ProcessRow | undefined>;
  webhook: { url?: string; secret?: string; timeoutMs?: number };
  locale: Locale;
  logger: Logger;
  /** Called for every notification queued (the simulator shows them). */
  onNotification?(n: { channel: 'whatsapp' | 'webhook'; to: string; text: string }): void;
}

/**
 * Turns status changes into notifications. Each recipient gets its own outbox event (a WhatsApp
 * message or a signed webhook POST), so one failing receiver is retried alone and never makes the
 * others hear twice. Webhooks carry the original event id in `X-Event-Id` for the receiver to dedupe.
 */
export function subscribeNotifier(deps: NotifierDeps): void {
  const { bus, tm } = deps;
  const texts = textsFor(deps.locale);

  function queue(process: ProcessRow, eventId: string, text: string, body: Record<string, unknown>) {
    for (const recruiter of process.recruiters) {
      if (recruiter.phone) {
        tm.addEvent('whatsapp.send', { message: { kind: 'text', to: recruiter.phone, text }, recipient: 'recruiter' });
        deps.onNotification?.({ channel: 'whatsapp', to: recruiter.name, text });
      }
      if (recruiter.webhookUrl) {
        tm.addEvent('notify.webhook', { url: recruiter.webhookUrl, eventId, body });
        deps.onNotification?.({ channel: 'webhook', to: recruiter.name, text });
      }
    }
    if (deps.webhook.url) {
      tm.addEvent('notify.webhook', { url: deps.webhook.url, eventId, body });
      deps.onNotification?.({ channel: 'webhook', to: 'default webhook', text });
    }
  }

  bus.subscribe('application.status_changed', 'notifier.recruiters', async (event) => {
    const p: EventMap['application.status_changed'] = event.payload;
    const process = await deps.findProcess(p.processId);
    if (!process || !(process.notifyOn ?? DEFAULT_NOTIFY_ON).includes(p.to)) return;
    const app = await deps.applications.findById(p.applicationId);
    const candidate = await deps.candidates.findById(p.candidateId);
    const candidateName = candidate?.name ?? 'anonymous';
    const text = texts.recruiterApplicationNotice({
      title: process.title,
      code: process.code,
      candidate: candidateName,
      status: p.to,
      score: app?.score,
    });
    const body = {
      eventId: event.id,
      type: event.type,
      occurredAt: p.at,
      process: { id: process.id, code: process.code, title: process.title },
      application: { id: p.applicationId, from: p.from, to: p.to, reason: p.reason, score: app?.score ?? null },
      candidate: { id: p.candidateId, name: candidate?.name ?? null },
    };
    await tm.transactional(async () => queue(process, event.id, text, body));
  });

  bus.subscribe('application.status_changed', 'notifier.candidate', async (event) => {
    const p = event.payload;
    if (p.actor !== 'recruiter' || !CANDIDATE_NOTIFIED.includes(p.to)) return;
    const [process, candidate] = await Promise.all([
      deps.findProcess(p.processId),
      deps.candidates.findById(p.candidateId),
    ]);
    if (!process || !candidate || candidate.erasedAt || candidate.optedOutAt) return;
    const locale = candidate.locale === 'en' ? 'en' : 'es';
    const text = textsFor(locale).decisionNotice(process.title, p.to);
    await tm.transactional(async () => {
      tm.addEvent('whatsapp.send', {
        message: { kind: 'text', to: candidate.phone, text },
        candidateId: candidate.id,
        applicationId: p.applicationId,
      });
    });
  });

  bus.subscribe('process.status_changed', 'notifier.process', async (event) => {
    const p: EventMap['process.status_changed'] = event.payload;
    const process = await deps.findProcess(p.processId);
    if (!process) return;
    const text = texts.recruiterProcessNotice({
      title: process.title,
      code: process.code,
      status: p.to as ProcessStatus,
    });
    const body = {
      eventId: event.id,
      type: event.type,
      occurredAt: p.at,
      process: { id: process.id, code: process.code, title: process.title, from: p.from, to: p.to },
    };
    await tm.transactional(async () => queue(process, event.id, text, body));
  });

  bus.subscribe('notify.webhook', 'notifier.webhook', async ({ payload }) => {
    await postSignedWebhook({
      url: payload.url,
      secret: deps.webhook.secret,
      eventId: payload.eventId,
      body: payload.body,
      timeoutMs: deps.webhook.timeoutMs,
    });
  });
}
