/**
 * The conversation contract (DESIGN.md) as a pure function: (session, input, context) -> (session', effects).
 * No I/O and no clock: the engine loads the context, applies the effects in order inside the message's
 * transaction, and stores the returned session.
 */
import type { Question } from '../db/schema.ts';
import type { InboundMessage } from '../whatsapp/channel.ts';
import { asLocale, detectLocale, localeFromText } from './locale.ts';
import type { Command } from './parse.ts';
import { findProcessCode, parseChoice, parseCommand, parseEmail, parseName, parseNumber, parseYesNo } from './parse.ts';
import { clip, confirmPrompt, consentPrompt, LIMITS, processList, questionPrompt, statusText } from './prompts.ts';
import { CONSENT_VERSION, MAX_TEXT_ANSWER_CHARS, MIN_CV_CHARS, type Texts, textsFor } from './texts.ts';
import type {
  Context,
  CvExtractedInput,
  Effect,
  Input,
  Locale,
  MessageInput,
  OpenProcess,
  Reply,
  Session,
  Step,
  StepResult,
} from './types.ts';

/** After this many bad answers in a row the re-ask also points to "help". */
const STUCK_AFTER = 3;
const IN_APPLICATION: ReadonlySet<Step> = new Set(['name', 'email', 'cv', 'cv_processing', 'question']);

export function newSession(locale: Locale): Session {
  return { v: 1, locale, step: 'start', questionIndex: 0, reasks: 0 };
}

/** What Postgres knows, enough to rebuild a lost session (a `Context` is one). */
export type SessionSnapshot = Pick<Context, 'defaultLocale' | 'candidate' | 'current' | 'applications'>;

/** Derives the session from Postgres facts: the first thing still missing is where we are. */
export function rebuildSession(snapshot: SessionSnapshot): Session {
  const { candidate, current } = snapshot;
  const session = newSession(asLocale(candidate?.locale) ?? snapshot.defaultLocale);
  if (!candidate?.consented) return { ...session, step: candidate?.optedOut ? 'declined' : 'start' };
  if (current) {
    const withProcess = { ...session, processId: current.processId, processCode: current.processCode };
    if (!candidate.name) return { ...withProcess, step: 'name' };
    if (!candidate.email) return { ...withProcess, step: 'email' };
    // Saved as cv_processing while the CV is read; the turn that accepts it stores the text first, so a
    // session rebuilt for that turn (Redis lost it meanwhile) must still be waiting for it.
    if (current.step === 'cv_processing') return { ...withProcess, step: 'cv_processing' };
    if (!current.hasCv) return { ...withProcess, step: 'cv' };
    return { ...withProcess, step: 'question', questionIndex: firstUnanswered(current.questions, current.answers) };
  }
  const finished = snapshot.applications.filter((a) => a.status !== 'in_progress');
  const last = finished.at(-1);
  if (last) return { ...session, step: 'done', processCode: last.processCode };
  return { ...session, step: 'choose_process' };
}

/** The machine's view of an inbound message (routing fields dropped; the engine knows the sender). */
export function messageInput(message: InboundMessage): MessageInput {
  const input: MessageInput = { kind: 'message', type: message.type };
  if (message.text !== undefined) input.text = message.text;
  if (message.replyId !== undefined) input.replyId = message.replyId;
  if (message.media !== undefined) input.media = message.media;
  if (message.rawType !== undefined) input.rawType = message.rawType;
  return input;
}

export function step(session: Session, input: Input, context: Context): StepResult {
  const turn = new Turn({ ...session }, context);
  if (input.kind === 'cv_extracted') onCvExtracted(turn, input);
  else onMessage(turn, input);
  return turn.finish();
}

/** One call of `step`: the evolving session, the effects so far, and text waiting to lead the next reply. */
class Turn {
  readonly effects: Effect[] = [];
  private lead: string[] = [];
  /** Facts set during this turn, which the context (loaded before it) does not show yet. */
  readonly facts: {
    name?: string;
    email?: string;
    hasCv?: boolean;
    started?: boolean;
    answers: Record<string, unknown>;
  } = { answers: {} };

  constructor(
    public session: Session,
    readonly ctx: Context,
  ) {}

  get t(): Texts {
    return textsFor(this.session.locale);
  }

  emit(effect: Effect): void {
    this.effects.push(effect);
  }

  /** Queues a line that will open the next reply (one message instead of two on a cheap phone). */
  say(text: string): void {
    this.lead.push(text);
  }

  /** Sends `message` opened by the queued lines; if together they would pass WhatsApp's body limit, as two. */
  reply(message: Reply): void {
    const limit = message.kind === 'buttons' ? LIMITS.buttonsBody : LIMITS.textBody;
    const lead = this.lead.join('\n\n');
    this.lead = [];
    const merged = lead === '' ? message.text : `${lead}\n\n${message.text}`;
    if (Array.from(merged).length <= limit) {
      this.emit({ type: 'reply', message: { ...message, text: merged } });
      return;
    }
    if (lead !== '') this.emit({ type: 'reply', message: { kind: 'text', text: clip(lead, LIMITS.textBody) } });
    this.emit({ type: 'reply', message: { ...message, text: clip(message.text, limit) } });
  }

  goTo(step: Step): void {
    if (this.session.step !== step) this.session.reasks = 0;
    this.session.step = step;
  }

  finish(): StepResult {
    if (this.lead.length > 0)
      this.emit({ type: 'reply', message: { kind: 'text', text: clip(this.lead.join('\n\n'), LIMITS.textBody) } });
    return { session: this.session, effects: this.effects };
  }
}

function onMessage(turn: Turn, input: MessageInput) {
  const { session, ctx } = turn;
  if (session.step === 'start' || session.step === 'declined') {
    if (ctx.candidate?.consented) {
      // A stale or fresh session for someone we know: continue from what Postgres says.
      turn.session = rebuildSession(ctx);
      return onMessage(turn, input);
    }
    if (session.step === 'start' && isConsentTap(input)) {
      // A tap on the consent prompt whose session was lost (Redis down or flushed): it answers that prompt.
      const known = ctx.candidate?.locale;
      session.locale = detectLocale({ phone: ctx.phone, text: input.text, known, defaultLocale: ctx.defaultLocale });
      turn.goTo('consent');
      return onConsent(turn, input);
    }
    return onFirstContact(turn, input);
  }
  const command = input.type === 'text' ? parseCommand(input.text) : undefined;
  if (session.pending) {
    const pending = session.pending;
    session.pending = undefined;
    if (command === pending) return onCommand(turn, command);
    const answer = confirmationOf(input, pending);
    if (answer === true) return pending === 'delete' ? eraseCandidate(turn) : restartApplication(turn);
    turn.say(pending === 'delete' ? turn.t.notDeleted : turn.t.notRestarted);
    if (answer === false) return reprompt(turn);
  }
  if (command) return onCommand(turn, command);
  if (input.type === 'other') {
    if (session.step === 'done') return onDone(turn, input);
    return reask(turn, turn.t.unsupported);
  }
  switch (session.step) {
    case 'consent':
      return onConsent(turn, input);
    case 'choose_process':
      return onChooseProcess(turn, input);
    case 'name':
      return onName(turn, input);
    case 'email':
      return onEmail(turn, input);
    case 'cv':
      return onCv(turn, input);
    case 'cv_processing':
      return reprompt(turn);
    case 'question':
      return onQuestion(turn, input);
    case 'done':
      return onDone(turn, input);
  }
}

/** First message (or first after declining): pick the language, remember a process code, ask for consent. */
const isConsentTap = (input: MessageInput) => input.replyId === 'consent.accept' || input.replyId === 'consent.decline';

function onFirstContact(turn: Turn, input: MessageInput) {
  const { ctx, session } = turn;
  const text = input.type === 'text' ? input.text : undefined;
  const command = parseCommand(text);
  if (command === 'english' || command === 'spanish') session.locale = command === 'english' ? 'en' : 'es';
  else if (session.step === 'start')
    session.locale = detectLocale({
      phone: ctx.phone,
      text,
      known: ctx.candidate?.locale,
      defaultLocale: ctx.defaultLocale,
    });
  else session.locale = localeFromText(text) ?? session.locale;
  if (command === 'delete') {
    turn.reply({ kind: 'text', text: turn.t.nothingStored });
    return;
  }
  session.preselectedCode = findProcessCode(text, codesOf(ctx.openProcesses));
  turn.goTo('consent');
  turn.reply(consentPrompt(turn.t));
}

function onConsent(turn: Turn, input: MessageInput) {
  const answer =
    input.replyId === 'consent.accept'
      ? true
      : input.replyId === 'consent.decline'
        ? false
        : input.type === 'text'
          ? parseYesNo(input.text)
          : undefined;
  if (answer === true) return acceptConsent(turn);
  if (answer === false) return declineConsent(turn);
  const code = input.type === 'text' ? findProcessCode(input.text, codesOf(turn.ctx.openProcesses)) : undefined;
  if (code) turn.session.preselectedCode = code;
  reask(turn, turn.t.consentHint);
}

function acceptConsent(turn: Turn) {
  const { session, ctx } = turn;
  turn.emit({ type: 'record_consent', version: CONSENT_VERSION, at: ctx.now.toISOString() });
  turn.emit({ type: 'set_locale', locale: session.locale });
  turn.say(turn.t.consentThanks);
  const code = session.preselectedCode;
  session.preselectedCode = undefined;
  const preselected = code ? ctx.openProcesses.find((p) => p.code === code) : undefined;
  if (preselected) return chooseProcess(turn, preselected.code);
  advance(turn);
}

function declineConsent(turn: Turn) {
  turn.emit({ type: 'opt_out', at: turn.ctx.now.toISOString() });
  turn.session = { ...newSession(turn.session.locale), step: 'declined' };
  turn.reply({ kind: 'text', text: turn.t.declined });
}

function onChooseProcess(turn: Turn, input: MessageInput) {
  const code = findProcessCode(input.replyId ?? input.text, knownCodes(turn.ctx));
  if (code) return chooseProcess(turn, code);
  reask(turn, turn.t.unknownProcess);
}

/** The candidate picked `code`: refuse a finished or closed one, resume an in-progress one, else start it. */
function chooseProcess(turn: Turn, code: string) {
  const { ctx, session, t } = turn;
  const applied = ctx.applications.find((a) => a.processCode === code && a.status !== 'in_progress');
  if (applied) {
    turn.say(t.alreadyApplied(applied.processTitle, t.statusLabels[applied.status]));
    return offerProcesses(turn);
  }
  if (ctx.current?.processCode === code) {
    session.processId = ctx.current.processId;
    session.processCode = code;
    turn.say(t.applyingTo(ctx.current.processTitle));
    return advance(turn);
  }
  const process = ctx.openProcesses.find((p) => p.code === code);
  if (!process) {
    turn.say(t.unknownProcess);
    return offerProcesses(turn);
  }
  turn.emit({ type: 'start_application', processId: process.id, processCode: process.code });
  turn.facts.started = true;
  session.processId = process.id;
  session.processCode = process.code;
  turn.say(t.applyingTo(process.title));
  advance(turn);
}

/**
 * Lists the open processes the candidate has not finished (or says there are none). From `done` the
 * step stays `done`, the home of a returning candidate, where a code or a list tap picks another process.
 */
function offerProcesses(turn: Turn) {
  const { ctx, t, session } = turn;
  const finished = new Set(ctx.applications.filter((a) => a.status !== 'in_progress').map((a) => a.processCode));
  const available = ctx.openProcesses.filter((p) => !finished.has(p.code));
  session.processId = undefined;
  session.questionIndex = 0;
  if (session.step !== 'done') {
    turn.goTo(finished.size > 0 && available.length === 0 ? 'done' : 'choose_process');
    if (session.step === 'choose_process') session.processCode = undefined;
  }
  if (available.length === 0) {
    turn.reply({ kind: 'text', text: finished.size > 0 ? t.noOtherProcesses : t.noOpenProcesses });
    return;
  }
  turn.reply(processList(t, available, finished.size > 0 ? t.otherProcesses : t.chooseProcess));
}

function onName(turn: Turn, input: MessageInput) {
  const name = input.type === 'text' ? parseName(input.text) : undefined;
  if (!name) return reask(turn, turn.t.nameHint);
  turn.emit({ type: 'set_name', name });
  turn.facts.name = name;
  advance(turn);
}

function onEmail(turn: Turn, input: MessageInput) {
  const email = input.type === 'text' ? parseEmail(input.text) : undefined;
  if (!email) return reask(turn, turn.t.emailHint);
  turn.emit({ type: 'set_email', email });
  turn.facts.email = email;
  advance(turn);
}

const CV_TYPES = new Set([
  'application/pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'text/plain',
]);

function isReadableCv(media: { mimeType?: string; filename?: string }): boolean {
  const mime = media.mimeType?.split(';')[0]?.trim().toLowerCase();
  if (mime && mime !== 'application/octet-stream') return CV_TYPES.has(mime);
  const extension = media.filename?.match(/\.([a-z0-9]+)$/i)?.[1]?.toLowerCase();
  // Nothing to judge by: let the extractor decide (it reports `unsupported`).
  return extension === undefined || ['pdf', 'docx', 'txt'].includes(extension);
}

function onCv(turn: Turn, input: MessageInput) {
  const { t } = turn;
  if (input.type === 'document') {
    if (!input.media || !isReadableCv(input.media)) return reask(turn, t.cvWrongType);
    turn.emit({ type: 'fetch_cv_document', media: input.media });
    turn.goTo('cv_processing');
    turn.reply({ kind: 'text', text: t.cvReading });
    return;
  }
  if (input.type !== 'text') return reask(turn);
  const text = (input.text ?? '').trim();
  if (text.length < MIN_CV_CHARS) return reask(turn, t.cvTooShort(text.length));
  turn.emit({ type: 'store_cv_text', text });
  turn.facts.hasCv = true;
  turn.say(t.cvOk);
  advance(turn);
}

function onCvExtracted(turn: Turn, input: CvExtractedInput) {
  const { session, ctx, t } = turn;
  if (session.step !== 'cv_processing') return;
  if (input.applicationId && ctx.current && input.applicationId !== ctx.current.applicationId) return;
  if (input.ok) {
    turn.facts.hasCv = true;
    turn.say(t.cvOk);
    // With a delete/restart confirmation open, only move on; the next prompt comes after the answer.
    return advance(turn, { prompt: !session.pending });
  }
  turn.goTo('cv');
  turn.say(t.cvFailed[input.reason]);
  turn.reply({ kind: 'text', text: t.cvRetry });
}

function onQuestion(turn: Turn, input: MessageInput) {
  const question = processOf(turn)?.questions[turn.session.questionIndex];
  if (!question) return advance(turn);
  const parsed = parseAnswer(turn.t, question, input);
  if ('hint' in parsed) return reask(turn, parsed.hint);
  turn.emit({ type: 'save_answer', questionId: question.id, value: parsed.value });
  turn.facts.answers[question.id] = parsed.value;
  advance(turn);
}

type Parsed = { value: boolean | number | string } | { hint: string };

function parseAnswer(t: Texts, question: Question, input: MessageInput): Parsed {
  const typed = input.type === 'text' ? input.text : undefined;
  switch (question.type) {
    case 'yes_no': {
      const value = input.replyId === 'answer.yes' ? true : input.replyId === 'answer.no' ? false : parseYesNo(typed);
      return value === undefined ? { hint: t.yesNoHint } : { value };
    }
    case 'number': {
      const value = parseNumber(typed);
      const { min, max } = numberBounds(question);
      if (value === undefined) return { hint: t.numberHint() };
      if (value < min || value > max) return { hint: t.numberHint(min, max) };
      return { value };
    }
    case 'choice': {
      const options = question.options ?? [];
      if (options.length === 0) break;
      const index = parseChoice(options, typed, input.replyId);
      return index === undefined ? { hint: t.choiceHint } : { value: options[index]! };
    }
    case 'text':
      break;
  }
  const text = typed?.trim() ?? '';
  if (text === '') return { hint: t.textEmpty };
  if (text.length > MAX_TEXT_ANSWER_CHARS) return { hint: t.textTooLong(MAX_TEXT_ANSWER_CHARS) };
  return { value: text };
}

/**
 * The accepted range of a number question. With `knockout`, `min` is the threshold below which the
 * application is rejected (a valid answer), so it does not bound the input.
 */
export function numberBounds(question: Question): { min: number; max: number } {
  const min = question.min !== undefined && !question.knockout ? question.min : Math.min(0, question.min ?? 0);
  return { min, max: question.max ?? 1_000_000 };
}

/** A returning candidate after submitting: a code picks another process; anything else shows where they stand. */
function onDone(turn: Turn, input: MessageInput) {
  const { ctx, t } = turn;
  const code = input.type === 'other' ? undefined : findProcessCode(input.replyId ?? input.text, knownCodes(ctx));
  if (code) return chooseProcess(turn, code);
  const last =
    ctx.applications.find((a) => a.processCode === turn.session.processCode && a.status !== 'in_progress') ??
    ctx.applications.filter((a) => a.status !== 'in_progress').at(-1);
  if (last) turn.say(t.applicationSent(last.processTitle, t.statusLabels[last.status]));
  offerProcesses(turn);
}

function onCommand(turn: Turn, command: Command) {
  const { session, t, ctx } = turn;
  switch (command) {
    case 'help':
      turn.say(t.help);
      return reprompt(turn);
    case 'status':
      turn.say(statusText(t, ctx.applications));
      return reprompt(turn);
    case 'english':
    case 'spanish':
      session.locale = command === 'english' ? 'en' : 'es';
      turn.emit({ type: 'set_locale', locale: session.locale });
      turn.say(turn.t.languageSwitched);
      return reprompt(turn);
    case 'delete':
      session.pending = 'delete';
      turn.reply(confirmPrompt(t, 'delete'));
      return;
    case 'restart':
      return askRestart(turn);
  }
}

/** Restart asks first inside an application; a finished one is never restarted, another process is offered. */
function askRestart(turn: Turn) {
  const { session, t, ctx } = turn;
  if (IN_APPLICATION.has(session.step)) {
    session.pending = 'restart';
    turn.reply(confirmPrompt(t, 'restart'));
    return;
  }
  if (session.step === 'done') {
    const last = ctx.applications.find((a) => a.processCode === session.processCode && a.status !== 'in_progress');
    if (last) turn.say(t.finishedNoRestart(last.processTitle, t.statusLabels[last.status]));
    return offerProcesses(turn);
  }
  reprompt(turn);
}

function restartApplication(turn: Turn) {
  // The application may have been submitted while the question was open (a CV finished reading).
  if (!IN_APPLICATION.has(turn.session.step)) return askRestart(turn);
  turn.emit({ type: 'restart_application' });
  turn.say(turn.t.restarted);
  turn.session.processCode = undefined;
  offerProcesses(turn);
}

function eraseCandidate(turn: Turn) {
  turn.emit({ type: 'erase_candidate' });
  turn.session = newSession(turn.session.locale);
  turn.reply({ kind: 'text', text: turn.t.deleted });
}

/** A bad answer: say what is expected (the prompt alone when it says it best), ask again, do not advance. */
function reask(turn: Turn, hint?: string) {
  turn.session.reasks += 1;
  const stuck = turn.session.reasks >= STUCK_AFTER ? turn.t.stuck : undefined;
  const lead = [hint, stuck].filter(Boolean).join(' ');
  if (lead) turn.say(lead);
  reprompt(turn);
}

/** Asks again for what the current step needs. */
function reprompt(turn: Turn) {
  const { session, t } = turn;
  switch (session.step) {
    case 'start':
    case 'declined':
    case 'consent':
      turn.goTo('consent');
      return turn.reply(consentPrompt(t));
    case 'choose_process':
      return offerProcesses(turn);
    case 'name':
      return turn.reply({ kind: 'text', text: t.askName });
    case 'email':
      return turn.reply({ kind: 'text', text: t.askEmail(firstName(knownName(turn))) });
    case 'cv':
      return turn.reply({ kind: 'text', text: t.askCv });
    case 'cv_processing':
      return turn.reply({ kind: 'text', text: t.cvStillReading });
    case 'question':
      return askQuestion(turn);
    case 'done':
      return offerProcesses(turn);
  }
}

/** Moves to the first thing still missing (process, name, email, CV, next question) and asks for it; submits at the end. */
function advance(turn: Turn, options: { prompt?: boolean } = {}) {
  const prompt = options.prompt ?? true;
  const { session, t } = turn;
  if (!session.processId) return offerProcesses(turn);
  const process = processOf(turn);
  if (!process) {
    turn.say(t.processClosed(session.processCode ?? ''));
    session.processCode = undefined;
    return offerProcesses(turn);
  }
  const next = nextMissing(turn, process);
  if (next === 'submit') {
    turn.emit({ type: 'submit_application' });
    turn.goTo('done');
    session.processId = undefined;
    session.questionIndex = 0;
    turn.reply({ kind: 'text', text: t.completed(firstName(knownName(turn)), process.title) });
    return;
  }
  if (typeof next === 'number') {
    if (session.step !== 'question' || session.questionIndex !== next) session.reasks = 0;
    session.step = 'question';
    session.questionIndex = next;
  } else {
    turn.goTo(next);
  }
  if (prompt) reprompt(turn);
}

function nextMissing(turn: Turn, process: OpenProcess): Step | number | 'submit' {
  const { ctx, facts } = turn;
  const current = facts.started ? undefined : ctx.current?.processId === process.id ? ctx.current : undefined;
  if (!knownName(turn)) return 'name';
  if (!(facts.email ?? ctx.candidate?.email)) return 'email';
  if (!(facts.hasCv ?? current?.hasCv)) return 'cv';
  const index = firstUnanswered(process.questions, { ...current?.answers, ...facts.answers });
  return index < process.questions.length ? index : 'submit';
}

function askQuestion(turn: Turn) {
  const process = processOf(turn);
  const question = process?.questions[turn.session.questionIndex];
  if (!process || !question) return advance(turn);
  turn.reply(questionPrompt(turn.t, question, turn.session.questionIndex, process.questions.length));
}

/** The session's process: the in-progress application's (even if closed since), else an open one. */
function processOf(turn: Turn): OpenProcess | undefined {
  const { session, ctx } = turn;
  if (!session.processId) return undefined;
  const current = ctx.current;
  if (current && current.processId === session.processId) {
    return {
      id: current.processId,
      code: current.processCode,
      title: current.processTitle,
      questions: current.questions,
    };
  }
  return ctx.openProcesses.find((p) => p.id === session.processId);
}

function confirmationOf(input: MessageInput, pending: string): boolean | undefined {
  if (input.replyId === `${pending}.confirm`) return true;
  if (input.replyId === `${pending}.cancel`) return false;
  if (input.type !== 'text' || input.text === undefined) return undefined;
  if (/^\s*(cancel|cancelar)\s*[.!]*\s*$/i.test(input.text)) return false;
  return parseYesNo(input.text);
}

function firstUnanswered(questions: Question[], answers: Record<string, unknown>): number {
  const index = questions.findIndex((q) => answers[q.id] === undefined || answers[q.id] === null);
  return index === -1 ? questions.length : index;
}

function knownName(turn: Turn): string | undefined {
  return turn.facts.name ?? turn.ctx.candidate?.name ?? undefined;
}

function firstName(name: string | undefined): string | undefined {
  return name?.split(' ')[0];
}

function codesOf(processes: OpenProcess[]): string[] {
  return processes.map((p) => p.code);
}

/** Codes a candidate may name: open processes and those they applied to (to say "already applied"). */
function knownCodes(ctx: Context): string[] {
  return [...codesOf(ctx.openProcesses), ...ctx.applications.map((a) => a.processCode)];
}
