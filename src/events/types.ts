import type { ApplicationStatus, ProcessStatus } from '../db/schema.ts';
import type { MediaRef, OutboundMessage } from '../whatsapp/channel.ts';

/**
 * Every event type and its payload. Payloads travel as JSON (outbox `payload jsonb`), so times
 * are ISO strings. Add a type here (or augment this interface with `declare module`) to publish it.
 */
export interface EventMap {
  'process.created': { processId: string; code: string };
  'process.status_changed': { processId: string; from: ProcessStatus; to: ProcessStatus; at: string };
  'application.started': { applicationId: string; candidateId: string; processId: string };
  /** A CV document arrived: download, extract and continue the conversation (after commit). */
  'cv.document_received': { applicationId: string; candidateId: string; phone: string; media: MediaRef };
  /** `hiddenText`: what the extractor found but a reader cannot see (flagged by the analysis, never scored). */
  'cv.received': { applicationId: string; candidateId: string; hiddenText?: string[] };
  'cv.analyzed': { applicationId: string; cvHash: string; ok: boolean };
  'application.status_changed': {
    applicationId: string;
    processId: string;
    candidateId: string;
    from: ApplicationStatus | null;
    to: ApplicationStatus;
    reason: string | null;
    /** Who changed it: the scoring rules, a recruiter, or the candidate. */
    actor: 'system' | 'recruiter' | 'candidate';
    at: string;
  };
  /** Outbound WhatsApp messages go through the outbox like every event. */
  'whatsapp.send': {
    message: OutboundMessage;
    candidateId?: string;
    applicationId?: string;
    /** Recruiters never write to us, so on the Cloud API they get templates. */
    recipient?: 'candidate' | 'recruiter';
  };
  /** One signed POST of a notification to one receiver; `eventId` is the notified event's id (for dedupe). */
  'notify.webhook': { url: string; eventId: string; body: Record<string, unknown> };
}

export type EventType = keyof EventMap;

/** What a handler receives. */
export interface DeliveredEvent<K extends EventType = EventType> {
  /** The outbox id (uuid v7): handlers and receivers dedupe on it. */
  id: string;
  type: K;
  payload: EventMap[K];
  createdAt: Date;
  /** 1 on the first delivery, more on redeliveries. */
  attempts: number;
}

/** A handler must be idempotent per (event id, handler name): a redelivery after a crash may run it again. */
export type EventHandler<K extends EventType = EventType> = (event: DeliveredEvent<K>) => Promise<void> | void;
