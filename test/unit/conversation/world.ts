/** A tiny in-memory stand-in for the engine: applies the machine's effects and builds the next context. */

import { newSession, rebuildSession, step } from '../../../src/conversation/machine.ts';
import { LIMITS } from '../../../src/conversation/prompts.ts';
import type {
  ApplicationSummary,
  Context,
  CvFailureReason,
  Effect,
  Input,
  Locale,
  OpenProcess,
  Reply,
  Session,
  StepResult,
} from '../../../src/conversation/types.ts';
import type { ApplicationStatus, Question } from '../../../src/db/schema.ts';
import type { MediaRef } from '../../../src/whatsapp/channel.ts';

export const QUESTIONS: Question[] = [
  { id: 'q1', text: '¿Tienes permiso de trabajo?', type: 'yes_no', knockout: 'no' },
  { id: 'q2', text: '¿Cuántos años de experiencia tienes?', type: 'number', min: 2, max: 50, knockout: true },
  { id: 'q3', text: '¿Qué turno prefieres?', type: 'choice', options: ['Mañana', 'Tarde', 'Noche'] },
  { id: 'q4', text: 'Cuéntanos por qué quieres el puesto', type: 'text' },
];

export const DEV1: OpenProcess = { id: 'p-dev1', code: 'DEV1', title: 'Backend Developer', questions: QUESTIONS };
export const OPS2: OpenProcess = { id: 'p-ops2', code: 'OPS2', title: 'Operaciones logísticas', questions: [] };

export const LONG_CV = `Ana García. Desarrolladora backend con seis años de experiencia en Node.js, TypeScript y PostgreSQL. ${'Diseñé y operé APIs de alto tráfico, colas de mensajes y despliegues en contenedores. '.repeat(3)}`;

export const text = (t: string): Input => ({ kind: 'message', type: 'text', text: t });
export const tap = (replyId: string, title = replyId): Input => ({
  kind: 'message',
  type: 'interactive',
  replyId,
  text: title,
});
export const doc = (media: Partial<MediaRef> = {}): Input => ({
  kind: 'message',
  type: 'document',
  media: { id: 'media-1', mimeType: 'application/pdf', filename: 'cv.pdf', ...media },
});
export const sticker: Input = { kind: 'message', type: 'other', rawType: 'sticker' };

export const replies = (r: StepResult): Reply[] => r.effects.flatMap((e) => (e.type === 'reply' ? [e.message] : []));
export const replyText = (r: StepResult): string =>
  replies(r)
    .map((m) => m.text)
    .join('\n---\n');
export const facts = (r: StepResult): Effect[] => r.effects.filter((e) => e.type !== 'reply');
export const factTypes = (r: StepResult): string[] => facts(r).map((e) => e.type);

const length = (s: string) => Array.from(s).length;

/** Throws if a reply breaks a WhatsApp limit (button/list/row sizes, body length, non-empty text). */
export function checkLimits(reply: Reply): void {
  const fail = (what: string) => {
    throw new Error(`${what}: ${JSON.stringify(reply)}`);
  };
  if (reply.text.trim() === '') fail('empty text');
  if (reply.kind === 'buttons') {
    if (reply.buttons.length < 1 || reply.buttons.length > LIMITS.buttons) fail('button count');
    if (reply.buttons.some((b) => length(b.title) > LIMITS.buttonTitle || b.title === '')) fail('button title');
    if (new Set(reply.buttons.map((b) => b.id)).size !== reply.buttons.length) fail('duplicate button id');
    if (length(reply.text) > LIMITS.buttonsBody) fail('buttons body');
  } else if (reply.kind === 'list') {
    if (reply.rows.length < 1 || reply.rows.length > LIMITS.rows) fail('row count');
    if (length(reply.button) > LIMITS.listButton) fail('list button');
    if (reply.rows.some((r) => length(r.title) > LIMITS.rowTitle || r.title === '')) fail('row title');
    if (reply.rows.some((r) => r.description !== undefined && length(r.description) > LIMITS.rowDescription)) {
      fail('row description');
    }
    if (new Set(reply.rows.map((r) => r.id)).size !== reply.rows.length) fail('duplicate row id');
    if (length(reply.text) > LIMITS.listBody) fail('list body');
  } else if (length(reply.text) > LIMITS.textBody) fail('text body');
}

export interface WorldOptions {
  phone?: string;
  defaultLocale?: Locale;
  processes?: OpenProcess[];
}

interface App {
  id: string;
  process: OpenProcess;
  status: ApplicationStatus;
  answers: Record<string, unknown>;
  cvText?: string;
  cvPending?: boolean;
  step?: string;
}

/** Plays the engine's part: the state Postgres would hold, and the session Redis would. */
export class World {
  readonly phone: string;
  readonly defaultLocale: Locale;
  processes: OpenProcess[];
  candidate?: {
    consented: boolean;
    consentVersion?: string;
    optedOut: boolean;
    name?: string;
    email?: string;
    locale?: string;
  };
  apps: App[] = [];
  session?: Session;
  log: StepResult[] = [];
  private seq = 0;

  constructor(options: WorldOptions = {}) {
    this.phone = options.phone ?? '+34600111222';
    this.defaultLocale = options.defaultLocale ?? 'es';
    this.processes = options.processes ?? [DEV1, OPS2];
  }

  context(): Context {
    const current = this.apps.find((a) => a.status === 'in_progress');
    return {
      now: new Date('2025-03-01T10:00:00Z'),
      phone: this.phone,
      defaultLocale: this.defaultLocale,
      openProcesses: this.processes,
      candidate: this.candidate && { ...this.candidate },
      applications: this.apps.map(
        (a): ApplicationSummary => ({ processCode: a.process.code, processTitle: a.process.title, status: a.status }),
      ),
      current: current && {
        applicationId: current.id,
        processId: current.process.id,
        processCode: current.process.code,
        processTitle: current.process.title,
        questions: current.process.questions,
        hasCv: current.cvText !== undefined,
        answers: { ...current.answers },
        step: current.step,
      },
    };
  }

  /** Redis lost the session: rebuild it from "Postgres". */
  forgetSession(): void {
    this.session = undefined;
  }

  send(input: Input): StepResult {
    const ctx = this.context();
    const session = this.session ?? (this.candidate ? rebuildSession(ctx) : newSession(this.defaultLocale));
    const result = step(session, input, ctx);
    // The session must survive a JSON round trip (it lives in Redis).
    this.session = JSON.parse(JSON.stringify(result.session)) as Session;
    for (const reply of replies(result)) checkLimits(reply);
    for (const effect of result.effects) this.apply(effect);
    const current = this.apps.find((a) => a.status === 'in_progress');
    if (current) current.step = this.session.step;
    this.log.push(result);
    return result;
  }

  private apply(effect: Effect): void {
    const current = this.apps.find((a) => a.status === 'in_progress');
    const candidate = () => {
      this.candidate ??= { consented: false, optedOut: false };
      return this.candidate;
    };
    switch (effect.type) {
      case 'reply':
        return;
      case 'record_consent':
        if (this.candidate?.consented) throw new Error('consent recorded twice');
        Object.assign(candidate(), { consented: true, optedOut: false, consentVersion: effect.version });
        return;
      case 'opt_out':
        this.candidate = { consented: false, optedOut: true };
        return;
      case 'set_locale':
        candidate().locale = effect.locale;
        return;
      case 'set_name':
        candidate().name = effect.name;
        return;
      case 'set_email':
        candidate().email = effect.email;
        return;
      case 'start_application': {
        if (current) throw new Error('start_application with an application in progress');
        if (!this.candidate?.consented) throw new Error('start_application without consent');
        const process = this.processes.find((p) => p.id === effect.processId);
        if (!process) throw new Error(`unknown process ${effect.processId}`);
        this.apps.push({ id: `app-${++this.seq}`, process, status: 'in_progress', answers: {} });
        return;
      }
      case 'save_answer':
        this.inProgress(current).answers[effect.questionId] = effect.value;
        return;
      case 'store_cv_text':
        this.inProgress(current).cvText = effect.text;
        return;
      case 'fetch_cv_document':
        this.inProgress(current).cvPending = true;
        return;
      case 'submit_application': {
        const app = this.inProgress(current);
        if (!app.cvText) throw new Error('submitted without a CV');
        const missing = app.process.questions.filter((q) => app.answers[q.id] === undefined);
        if (missing.length > 0) throw new Error(`submitted with unanswered ${missing.map((q) => q.id)}`);
        if (!this.candidate?.name || !this.candidate.email) throw new Error('submitted without name or email');
        app.status = 'submitted';
        return;
      }
      case 'restart_application':
        if (!current) throw new Error('restart_application without an application in progress');
        this.apps = this.apps.filter((a) => a !== current);
        return;
      case 'erase_candidate':
        this.candidate = undefined;
        this.apps = [];
        return;
    }
  }

  private inProgress(app: App | undefined): App {
    if (!app) throw new Error('no application in progress');
    return app;
  }

  /** The engine finished extracting the pending CV document. */
  extractCv(ok: true | CvFailureReason): StepResult {
    const current = this.apps.find((a) => a.status === 'in_progress');
    if (current && ok === true) current.cvText = 'extracted';
    if (current) current.cvPending = false;
    return this.send(
      ok === true ? { kind: 'cv_extracted', ok: true } : { kind: 'cv_extracted', ok: false, reason: ok },
    );
  }
}

/** The points of the conversation the tables start from. */
export const STOPS = [
  'consent',
  'choose_process',
  'name',
  'email',
  'cv',
  'cv_processing',
  'q_yes_no',
  'q_number',
  'q_choice',
  'q_text',
  'done',
] as const;
export type Stop = (typeof STOPS)[number];

const SCRIPT: Record<Locale, ((w: World) => StepResult)[]> = {
  es: [
    (w) => w.send(text('hola')),
    (w) => w.send(tap('consent.accept', 'Acepto')),
    (w) => w.send(tap('DEV1', 'Backend Developer')),
    (w) => w.send(text('Ana García')),
    (w) => w.send(text('ana@example.com')),
    (w) => w.send(doc()),
    (w) => w.extractCv(true),
    (w) => w.send(text('sí')),
    (w) => w.send(text('5')),
    (w) => w.send(text('2')),
    (w) => w.send(text('Porque me gusta el equipo')),
  ],
  en: [
    (w) => w.send(text('hello')),
    (w) => w.send(tap('consent.accept', 'I accept')),
    (w) => w.send(tap('DEV1', 'Backend Developer')),
    (w) => w.send(text('Ann Smith')),
    (w) => w.send(text('ann@example.com')),
    (w) => w.send(doc()),
    (w) => w.extractCv(true),
    (w) => w.send(text('yes')),
    (w) => w.send(text('5')),
    (w) => w.send(text('2')),
    (w) => w.send(text('I like the team')),
  ],
};

/** A world whose conversation stands at `stop`, in `locale` (es: a Spanish phone, en: a UK one). */
export function reach(stop: Stop, locale: Locale = 'es'): World {
  const world = new World({ phone: locale === 'es' ? '+34600111222' : '+447700900123' });
  for (const move of SCRIPT[locale].slice(0, STOPS.indexOf(stop) + 1)) move(world);
  return world;
}
