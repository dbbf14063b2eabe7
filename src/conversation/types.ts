import type { ExtractFailureReason } from '../cv/parse.ts';
import type { ApplicationStatus, Question } from '../db/schema.ts';
import type { Button, InboundType, ListRow, MediaRef } from '../whatsapp/channel.ts';

export type Locale = 'es' | 'en';

/**
 * Where the conversation stands. `start`: nothing handled yet (or no consent on record);
 * `declined`: consent refused, the chat ended; `done`: the last application was submitted.
 */
export type Step =
  | 'start'
  | 'consent'
  | 'declined'
  | 'choose_process'
  | 'name'
  | 'email'
  | 'cv'
  | 'cv_processing'
  | 'question'
  | 'done';

/** A yes/no the candidate still owes us before a destructive command runs. */
export type PendingConfirmation = 'delete' | 'restart';

/** Small JSON: stored in Redis with a TTL, rebuildable from Postgres (`rebuildSession`). */
export interface Session {
  v: 1;
  locale: Locale;
  step: Step;
  /** The application's process (set once it started). */
  processId?: string;
  processCode?: string;
  /** A code seen before consent (e.g. "hola DEV1"), applied right after consent. */
  preselectedCode?: string;
  /** Index of the current screening question (step `question`). */
  questionIndex: number;
  pending?: PendingConfirmation;
  /** Bad answers in a row at the current step. */
  reasks: number;
}

/** Why a CV document could not be read (the extractor's refusals). */
export type CvFailureReason = ExtractFailureReason;

/** What the candidate sent, as the transport normalized it (`InboundMessage` without routing fields). */
export interface MessageInput {
  kind: 'message';
  type: InboundType;
  text?: string;
  replyId?: string;
  media?: MediaRef;
  rawType?: string;
}

/** The engine's report after it downloaded and extracted a CV document (`fetch_cv_document`). */
export type CvExtractedInput =
  | { kind: 'cv_extracted'; ok: true; applicationId?: string }
  | { kind: 'cv_extracted'; ok: false; reason: CvFailureReason; applicationId?: string };

export type Input = MessageInput | CvExtractedInput;

export interface OpenProcess {
  id: string;
  code: string;
  title: string;
  questions: Question[];
}

export interface ApplicationSummary {
  processCode: string;
  processTitle: string;
  status: ApplicationStatus;
  score?: number;
}

/** The candidate's in-progress application, as Postgres has it. */
export interface CurrentApplication {
  applicationId: string;
  processId: string;
  processCode: string;
  processTitle: string;
  /** The process's questions (given even if the process closed meanwhile, so the candidate can finish). */
  questions: Question[];
  hasCv: boolean;
  /** Answers by question id. */
  answers: Record<string, unknown>;
  /** `applications.step` as last saved (only `cv_processing` is read: it is not derivable). */
  step?: string | null;
}

export interface CandidateFacts {
  consented: boolean;
  optedOut: boolean;
  name?: string | null;
  email?: string | null;
  locale?: string | null;
}

/** Everything the machine may know besides the session; time comes from here, never from a clock. */
export interface Context {
  now: Date;
  /** E.164 with a leading `+`. */
  phone: string;
  defaultLocale: Locale;
  openProcesses: OpenProcess[];
  candidate?: CandidateFacts;
  /** Every application of the candidate, in progress or not (for "status" and returning candidates). */
  applications: ApplicationSummary[];
  current?: CurrentApplication;
}

/** An outbound message without its recipient (the engine adds `to`). */
export type Reply =
  | { kind: 'text'; text: string }
  | { kind: 'buttons'; text: string; buttons: Button[] }
  | { kind: 'list'; text: string; button: string; rows: ListRow[] };

/** Plain facts for the engine to apply, in order, within the message's transaction. */
export type Effect =
  | { type: 'reply'; message: Reply }
  | { type: 'record_consent'; version: string; at: string }
  /** Consent declined: store nothing but the phone's opt-out. */
  | { type: 'opt_out'; at: string }
  | { type: 'set_locale'; locale: Locale }
  | { type: 'set_name'; name: string }
  | { type: 'set_email'; email: string }
  | { type: 'start_application'; processId: string; processCode: string }
  | { type: 'save_answer'; questionId: string; value: boolean | number | string }
  /** Pasted CV text (at least MIN_CV_CHARS). */
  | { type: 'store_cv_text'; text: string }
  /** Download + extract after commit, then feed `cv_extracted` back. */
  | { type: 'fetch_cv_document'; media: MediaRef }
  /** All steps done: score the application and set its status. */
  | { type: 'submit_application' }
  /** Discard the in-progress application (answers, CV); the candidate's name and email stay. */
  | { type: 'restart_application' }
  /** Confirmed "delete": erase the candidate's personal data, keep anonymous counts. */
  | { type: 'erase_candidate' };

export interface StepResult {
  session: Session;
  effects: Effect[];
}
