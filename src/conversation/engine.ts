import type { TransactionManager } from '../db/transaction-manager.ts';
import type { Logger } from '../logger.ts';
import { phoneRef } from '../logger.ts';
import type { ApplicationRepository } from '../recruiting/applications.ts';
import type { CandidateRepository, CandidateRow } from '../recruiting/candidates.ts';
import type { Evaluation } from '../recruiting/evaluation.ts';
import type { InboundHandler, InboundMessage, OutboundMessage, StatusUpdate } from '../whatsapp/channel.ts';
import { buildContext } from './context.ts';
import type { ConversationLog, TranscriptLine } from './log.ts';
import { messageInput, rebuildSession, step } from './machine.ts';
import type { ConversationMetrics } from './metrics.ts';
import { phoneHash, type SessionStore, type StoredSession } from './sessions.ts';
import type { Context, CvExtractedInput, Effect, Input, Locale, OpenProcess, Reply, Session } from './types.ts';

export interface EngineDeps {
  openProcesses(): Promise<OpenProcess[]>;
  defaultLocale: Locale;
  tm: TransactionManager;
  candidates: CandidateRepository;
  applications: ApplicationRepository;
  log: ConversationLog;
  sessions: SessionStore;
  evaluation: Evaluation;
  logger: Logger;
  metrics?: ConversationMetrics;
  /** Hashes the CV text the same way the analysis cache does. */
  hashCv(text: string): string;
  /** After an erasure commits: drop what the cache holds about the candidate (CV analyses). */
  forgetCvAnalyses(cvHashes: string[]): Promise<void>;
  now?: () => Date;
}

/**
 * Runs the pure machine for each inbound message inside one transaction: the phone's conversation
 * row is locked (ordering across instances), the message is recorded once by its channel id, the
 * session is loaded (or rebuilt from Postgres), and every effect, reply and event is written before
 * commit. After commit the session is cached and the outbox delivers the replies.
 */
export function createConversationEngine(deps: EngineDeps) {
  const { tm, candidates, applications, log, sessions, logger, metrics } = deps;
  const now = deps.now ?? (() => new Date());

  async function handleMessage(message: InboundMessage): Promise<'processed' | 'duplicate'> {
    // Cache reads happen before the transaction, so no Redis round trip holds a connection (and a
    // cache miss never queries the root database while PGlite's one connection is in a transaction);
    // the session is validated against the sequence once the lock is held.
    const prefetched = await prefetch(message.from);
    const outcome = await tm.transactional(
      async () => {
        const seq = await log.recordAndAdvance(
          { id: message.id, type: message.type, sentAt: message.timestamp, phone: message.from },
          phoneHash(message.from),
        );
        if (seq === undefined) return 'duplicate' as const;
        await runTurn(message.from, messageInput(message), seq, prefetched, message);
        return 'processed' as const;
      },
      { name: 'inbound-message' },
    );
    metrics?.messages.inc({ outcome });
    if (outcome === 'duplicate')
      logger.info({ messageId: message.id, phone: phoneRef(message.from) }, 'duplicate message skipped');
    return outcome;
  }

  /**
   * Feeds a system input (the CV extraction result) to the phone's conversation, under the same
   * lock. `beforeTurn` runs once the lock is held; returning false skips the turn (stale input).
   */
  async function continueWith(
    phone: string,
    input: CvExtractedInput,
    beforeTurn?: () => Promise<boolean>,
  ): Promise<void> {
    const prefetched = await prefetch(phone);
    await tm.transactional(
      async () => {
        const seq = await log.advance(phoneHash(phone));
        if (!(await candidates.findByPhone(phone))) return; // erased meanwhile
        if (beforeTurn && !(await beforeTurn())) return;
        await runTurn(phone, input, seq, prefetched);
      },
      { name: 'conversation-continue' },
    );
  }

  /** The cache reads of a turn, done before its transaction starts. */
  async function prefetch(phone: string): Promise<Prefetched> {
    const [stored, openProcesses] = await Promise.all([
      // A session that cannot be read is rebuilt from Postgres.
      sessions.peek(phoneHash(phone)).catch(() => undefined),
      deps.openProcesses(),
    ]);
    return { stored, openProcesses };
  }

  /**
   * One step of the machine for a phone whose conversation row is locked (`seq` is its new sequence).
   * Everything is read only once the lock is held: a message committed meanwhile (on this instance or
   * another) may have created or changed the candidate.
   */
  async function runTurn(phone: string, input: Input, seq: number, prefetched: Prefetched, message?: InboundMessage) {
    const hash = phoneHash(phone);
    const at = now();
    const { stored, openProcesses } = prefetched;
    const [found, rows] = await Promise.all([candidates.findByPhone(phone), applications.listForPhone(phone)]);
    let candidate = found;
    const cached = sessions.current(stored, seq - 1);
    const context = buildContext({ phone, now: at, defaultLocale: deps.defaultLocale, openProcesses, candidate, rows });
    if (!cached && seq > 1) metrics?.sessionsRebuilt.inc();
    const session = cached ?? rebuildSession(context);
    const result = step(session, input, context);

    const state: TurnState = { phone, candidate, context, session: result.session, erased: false, lines: [] };
    if (message?.text) transcript(state, 'in', message.text, at);
    for (const effect of result.effects) await apply(state, effect, at);
    await flushTranscript(state);
    candidate = state.candidate;
    // The 24-hour window opens with each message (also for a candidate created by this one's consent).
    if (candidate && message && !state.erased && opensWindow(candidate.lastInboundAt, message.timestamp))
      await candidates.update(candidate.id, { lastInboundAt: message.timestamp });

    if (
      candidate &&
      !state.erased &&
      context.current &&
      result.session.step !== 'done' &&
      result.session.step !== context.current.step
    ) {
      await applications.update(context.current.applicationId, { step: result.session.step });
    }
    if (state.erased) {
      tm.afterCommit(() => sessions.forget(hash));
    } else {
      const saved = result.session;
      tm.afterCommit(() => sessions.save(hash, seq, saved));
    }
  }

  interface Prefetched {
    stored: StoredSession | undefined;
    openProcesses: OpenProcess[];
  }

  interface TurnState {
    phone: string;
    candidate: CandidateRow | undefined;
    context: Context;
    session: Session;
    erased: boolean;
    /** Set by this turn: the application it started, or null once it discarded the current one. */
    applicationId?: string | null;
    /** Transcript lines of this turn, written in one statement (before effects that need them on disk). */
    lines: TranscriptLine[];
  }

  function currentApplicationId(state: TurnState): string | undefined {
    if (state.applicationId !== undefined) return state.applicationId ?? undefined;
    return state.context.current?.applicationId;
  }

  async function ensureCandidate(state: TurnState): Promise<CandidateRow> {
    state.candidate ??= await candidates.findOrCreate(state.phone, state.session.locale);
    return state.candidate;
  }

  function transcript(state: TurnState, direction: 'in' | 'out', body: string, at: Date) {
    if (!state.candidate || state.erased) return;
    state.lines.push({
      candidateId: state.candidate.id,
      applicationId: currentApplicationId(state) ?? null,
      direction,
      body,
      at,
    });
  }

  async function flushTranscript(state: TurnState) {
    const lines = state.lines.splice(0);
    await log.appendTranscript(lines);
  }

  async function apply(state: TurnState, effect: Effect, at: Date): Promise<void> {
    switch (effect.type) {
      case 'reply': {
        const message = toOutbound(effect.message, state.phone);
        tm.addEvent('whatsapp.send', {
          message,
          ...(state.candidate && !state.erased ? { candidateId: state.candidate.id } : {}),
          ...(currentApplicationId(state) ? { applicationId: currentApplicationId(state) } : {}),
        });
        transcript(state, 'out', effect.message.text, at);
        return;
      }
      case 'record_consent': {
        const c = await ensureCandidate(state);
        await candidates.update(c.id, {
          consentAt: new Date(effect.at),
          consentVersion: effect.version,
          optedOutAt: null,
          locale: state.session.locale,
        });
        return;
      }
      case 'opt_out': {
        const c = await ensureCandidate(state);
        await candidates.update(c.id, { optedOutAt: new Date(effect.at) });
        return;
      }
      case 'set_locale':
        if (state.candidate) await candidates.update(state.candidate.id, { locale: effect.locale });
        return;
      case 'set_name':
        await candidates.update((await ensureCandidate(state)).id, { name: effect.name });
        return;
      case 'set_email':
        await candidates.update((await ensureCandidate(state)).id, { email: effect.email });
        return;
      case 'start_application': {
        const c = await ensureCandidate(state);
        const app = await applications.insert({ candidateId: c.id, processId: effect.processId, firstMessageAt: at });
        state.applicationId = app.id;
        tm.addEvent('application.started', { applicationId: app.id, candidateId: c.id, processId: effect.processId });
        return;
      }
      case 'save_answer': {
        const id = requireApplication(state, effect.type);
        await applications.saveAnswer(id, effect.questionId, effect.value);
        return;
      }
      case 'store_cv_text': {
        const id = requireApplication(state, effect.type);
        const c = await ensureCandidate(state);
        await applications.update(id, {
          cvText: effect.text,
          cvHash: deps.hashCv(effect.text),
          analysisState: 'pending',
        });
        tm.addEvent('cv.received', { applicationId: id, candidateId: c.id });
        return;
      }
      case 'fetch_cv_document': {
        const id = requireApplication(state, effect.type);
        const c = await ensureCandidate(state);
        await applications.update(id, { step: 'cv_processing' });
        tm.addEvent('cv.document_received', {
          applicationId: id,
          candidateId: c.id,
          phone: state.phone,
          media: effect.media,
        });
        return;
      }
      case 'submit_application': {
        const id = requireApplication(state, effect.type);
        await applications.update(id, { step: null });
        await deps.evaluation.submit(id, at);
        return;
      }
      case 'restart_application': {
        const id = currentApplicationId(state);
        await flushTranscript(state); // discard detaches the application's lines, these included
        if (id) await applications.discard(id);
        state.applicationId = null; // not the context's any more: it is gone
        return;
      }
      case 'erase_candidate': {
        if (!state.candidate) return;
        state.lines.length = 0; // erased with the rest
        const erased = await candidates.erase(state.candidate.id);
        state.erased = true;
        if (erased?.cvHashes.length) {
          const hashes = erased.cvHashes;
          tm.afterCommit(() => deps.forgetCvAnalyses(hashes));
        }
        return;
      }
    }
  }

  function requireApplication(state: TurnState, what: string): string {
    const id = currentApplicationId(state);
    if (!id) throw new Error(`conversation effect ${what} without an application in progress`);
    return id;
  }

  const handler: InboundHandler = {
    async onMessages(messages) {
      // In order: a delivery may hold several messages of one phone.
      for (const message of messages) await handleMessage(message);
    },
    async onStatuses(statuses: StatusUpdate[]) {
      await tm.transactional(async () => {
        for (const s of statuses) {
          await log.recordStatus({ messageId: s.messageId, status: s.status, at: s.timestamp, error: s.error });
        }
      });
    },
  };

  return { handler, handleMessage, continueWith };
}
export type ConversationEngine = ReturnType<typeof createConversationEngine>;

/**
 * Whether a message moves the recorded last inbound time: only forwards (a late delivery of an older
 * message must not shorten the window), and not for a minute after the last write (one statement
 * less per message mid-conversation; the window then closes at most a minute early, never late).
 */
export function opensWindow(last: Date | null, sentAt: Date): boolean {
  return last === null || sentAt.getTime() - last.getTime() >= WINDOW_WRITE_GRANULARITY_MS;
}
const WINDOW_WRITE_GRANULARITY_MS = 60_000;

function toOutbound(reply: Reply, to: string): OutboundMessage {
  return { ...reply, to } as OutboundMessage;
}
