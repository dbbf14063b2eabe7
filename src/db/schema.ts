import { sql } from 'drizzle-orm';
import {
  bigserial,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { uuidv7 } from 'uuidv7';

const id = () =>
  uuid('id')
    .primaryKey()
    .$defaultFn(() => uuidv7());
const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();

export type ProcessStatus = 'draft' | 'open' | 'paused' | 'closed';
export type QuestionType = 'yes_no' | 'number' | 'text' | 'choice';
export interface Question {
  id: string;
  text: string;
  type: QuestionType;
  options?: string[];
  min?: number;
  max?: number;
  /** yes_no: the answer that rejects; number: below `min` rejects; choice: options that reject. */
  knockout?: boolean | string | string[];
}
export interface Requirements {
  skills: string[];
  minYears?: number;
  languages?: string[];
}
export interface Thresholds {
  shortlist: number;
  reject: number;
}
export interface Recruiter {
  name: string;
  phone?: string;
  webhookUrl?: string;
}

/** A job opening candidates apply to. */
export const processes = pgTable('processes', {
  id: id(),
  code: text('code').notNull().unique(),
  title: text('title').notNull(),
  description: text('description').notNull().default(''),
  requirements: jsonb('requirements').$type<Requirements>().notNull(),
  questions: jsonb('questions').$type<Question[]>().notNull().default([]),
  thresholds: jsonb('thresholds').$type<Thresholds>().notNull(),
  recruiters: jsonb('recruiters').$type<Recruiter[]>().notNull().default([]),
  /** Application statuses recruiters are notified about; null means all. */
  notifyOn: jsonb('notify_on').$type<string[] | null>(),
  status: text('status').$type<ProcessStatus>().notNull().default('draft'),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/** A phone number that talked to us. Personal fields are nulled on erasure. */
export const candidates = pgTable('candidates', {
  id: id(),
  phone: text('phone').notNull().unique(),
  name: text('name'),
  email: text('email'),
  locale: text('locale').notNull().default('es'),
  consentAt: timestamp('consent_at', { withTimezone: true }),
  consentVersion: text('consent_version'),
  optedOutAt: timestamp('opted_out_at', { withTimezone: true }),
  lastInboundAt: timestamp('last_inbound_at', { withTimezone: true }),
  /** Set when the candidate asked to be forgotten; the phone is replaced so the number may apply again. */
  erasedAt: timestamp('erased_at', { withTimezone: true }),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export type ApplicationStatus =
  | 'in_progress'
  | 'submitted'
  | 'shortlisted'
  | 'review'
  | 'rejected'
  | 'interview'
  | 'offer'
  | 'hired'
  | 'withdrawn';

export const applications = pgTable(
  'applications',
  {
    id: id(),
    candidateId: uuid('candidate_id')
      .notNull()
      .references(() => candidates.id, { onDelete: 'cascade' }),
    processId: uuid('process_id')
      .notNull()
      .references(() => processes.id),
    status: text('status').$type<ApplicationStatus>().notNull().default('in_progress'),
    /** Conversation step while in progress (the session is rebuilt from this). */
    step: text('step'),
    answers: jsonb('answers').$type<Record<string, unknown>>().notNull().default({}),
    cvText: text('cv_text'),
    cvHash: text('cv_hash'),
    analysis: jsonb('analysis'),
    analysisState: text('analysis_state').$type<'none' | 'pending' | 'done' | 'failed'>().notNull().default('none'),
    score: smallint('score'),
    scoreBreakdown: jsonb('score_breakdown'),
    firstMessageAt: timestamp('first_message_at', { withTimezone: true }),
    submittedAt: timestamp('submitted_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('applications_candidate_process_uq').on(t.candidateId, t.processId),
    index('applications_process_status_idx').on(t.processId, t.status),
    index('applications_score_idx').on(t.processId, t.score),
  ],
);

export const applicationStatusHistory = pgTable(
  'application_status_history',
  {
    id: id(),
    applicationId: uuid('application_id')
      .notNull()
      .references(() => applications.id, { onDelete: 'cascade' }),
    fromStatus: text('from_status'),
    toStatus: text('to_status').notNull(),
    reason: text('reason'),
    actor: text('actor').notNull().default('system'),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('status_history_application_idx').on(t.applicationId, t.at)],
);

/**
 * One row per phone that ever wrote (keyed by a hash, not the number). Each message's transaction
 * bumps `seq` with an upsert: the row lock orders a phone's messages across instances, and `seq`
 * tells whether the session cached in Redis is the latest (else it is rebuilt from Postgres).
 */
export const conversations = pgTable('conversations', {
  phoneHash: text('phone_hash').primaryKey(),
  seq: integer('seq').notNull().default(0),
  updatedAt: updatedAt(),
});

/** Every inbound WhatsApp message, once: the primary key is the channel's message id. */
export const inboundMessages = pgTable(
  'inbound_messages',
  {
    id: text('id').primaryKey(),
    candidateId: uuid('candidate_id').references(() => candidates.id, { onDelete: 'set null' }),
    type: text('type').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  (t) => [index('inbound_messages_candidate_idx').on(t.candidateId)],
);

/** The conversation, in and out, per candidate (and application when known). Erased with the candidate. */
export const transcriptEntries = pgTable(
  'transcript_entries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    candidateId: uuid('candidate_id')
      .notNull()
      .references(() => candidates.id, { onDelete: 'cascade' }),
    applicationId: uuid('application_id').references(() => applications.id, { onDelete: 'cascade' }),
    direction: text('direction').$type<'in' | 'out'>().notNull(),
    body: text('body').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('transcript_candidate_idx').on(t.candidateId, t.id)],
);

/** Delivery status callbacks for outbound messages (sent, delivered, read, failed). */
export const messageStatuses = pgTable(
  'message_statuses',
  {
    messageId: text('message_id').notNull(),
    status: text('status').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    error: jsonb('error'),
  },
  (t) => [primaryKey({ columns: [t.messageId, t.status] })],
);

export type OutboxState = 'pending' | 'delivered' | 'dead';

/** Events and outbound messages, written in the business transaction, delivered after commit. */
export const outbox = pgTable(
  'outbox',
  {
    id: id(),
    type: text('type').notNull(),
    payload: jsonb('payload').notNull(),
    state: text('state').$type<OutboxState>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    availableAt: timestamp('available_at', { withTimezone: true }).notNull().defaultNow(),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    lastError: text('last_error'),
    createdAt: createdAt(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
  },
  (t) => [
    index('outbox_pending_idx').on(t.availableAt).where(sql`${t.state} = 'pending'`),
    index('outbox_state_idx').on(t.state, t.createdAt),
  ],
);

/** One row per (event, handler) that succeeded, so a redelivered event never runs a handler twice. */
export const outboxHandled = pgTable(
  'outbox_handled',
  {
    eventId: uuid('event_id')
      .notNull()
      .references(() => outbox.id, { onDelete: 'cascade' }),
    handler: text('handler').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.eventId, t.handler] })],
);
