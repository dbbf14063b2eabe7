import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { TEXTS } from '../../../src/conversation/texts.ts';
import type { Input, Locale, StepResult } from '../../../src/conversation/types.ts';
import {
  DEV1,
  doc,
  factTypes,
  LONG_CV,
  QUESTIONS,
  reach,
  replies,
  replyText,
  STOPS,
  sticker,
  tap,
  text,
  World,
} from './world.ts';

describe('a whole application', () => {
  test.each([
    {
      locale: 'es' as const,
      phone: '+5215512345678',
      moves: ['Hola, vi el anuncio de DEV1', 'Sí', 'Ana María García', 'ana.garcia@example.com'],
      answers: [tap('answer.yes', 'Sí'), text('6 años'), tap('answer.opt.0', 'Mañana'), text('Me gusta el producto')],
      name: 'Ana',
    },
    {
      locale: 'en' as const,
      phone: '+447700900123',
      moves: ['Hello, I saw the DEV1 job', 'I accept', 'Ann Smith', 'ann.smith@example.co.uk'],
      answers: [text('yes'), text('six'), text('Noche'), text('I love the product')],
      name: 'Ann',
    },
  ])('from the first message to the closing one in $locale', ({ locale, phone, moves, answers, name }) => {
    const t = TEXTS[locale];
    const w = new World({ phone });
    const greeting = w.send(text(moves[0]!));
    expect(replies(greeting)[0]).toMatchObject({ kind: 'buttons', text: t.greeting });
    const consent = w.send(text(moves[1]!));
    expect(factTypes(consent)).toEqual(['record_consent', 'set_locale', 'start_application']);
    expect(replyText(consent)).toBe(`${t.consentThanks}\n\n${t.applyingTo('Backend Developer')}\n\n${t.askName}`);
    expect(replyText(w.send(text(moves[2]!)))).toBe(t.askEmail(name));
    expect(replyText(w.send(text(moves[3]!)))).toBe(t.askCv);
    expect(replyText(w.send(doc()))).toBe(t.cvReading);
    expect(replies(w.extractCv(true))[0]!.text).toBe(`${t.cvOk}\n\n${t.questionHeader(1, 4)}\n${QUESTIONS[0]!.text}`);
    let last: StepResult | undefined;
    for (const answer of answers) last = w.send(answer);
    expect(factTypes(last!)).toEqual(['save_answer', 'submit_application']);
    expect(replyText(last!)).toBe(t.completed(name, 'Backend Developer'));
    expect(w.candidate).toMatchObject({ consented: true, locale, email: moves[3] });
    expect(w.apps).toHaveLength(1);
    expect(w.apps[0]).toMatchObject({ status: 'submitted', cvText: 'extracted' });
    expect(Object.keys(w.apps[0]!.answers)).toEqual(['q1', 'q2', 'q3', 'q4']);
    // Every reply is in the conversation's language: none contains the other language's prompts.
    const other = TEXTS[locale === 'es' ? 'en' : 'es'];
    const all = w.log.flatMap(replies).map((r) => r.text);
    for (const phrase of [other.askCv, other.cvReading, other.askName, other.greeting]) {
      expect(all.some((s) => s.includes(phrase))).toBe(false);
    }
  });

  test('more than 10 open processes: 10 rows and an invitation to type the code', () => {
    const many = Array.from({ length: 12 }, (_, i) => ({
      id: `p${i}`,
      code: `JOB${i}`,
      title: `A very long process title number ${i}`,
      questions: [],
    }));
    const w = new World({ processes: many });
    w.send(text('hola'));
    const r = w.send(text('sí'));
    const list = replies(r).at(-1)!;
    expect(list.kind === 'list' && list.rows).toHaveLength(10);
    expect(list.text).toContain(TEXTS.es.moreProcesses);
    expect(factTypes(w.send(text('JOB11')))).toEqual(['start_application']);
  });

  test('a choice with more than 10 options is a numbered text; long options are clipped in list rows', () => {
    const options = Array.from({ length: 12 }, (_, i) => `Option ${i + 1}`);
    const long = 'An option that is much longer than twenty-four characters';
    const processes = [
      {
        ...DEV1,
        questions: [
          { id: 'c1', text: 'Pick one', type: 'choice' as const, options },
          { id: 'c2', text: 'Pick again', type: 'choice' as const, options: ['Short', long] },
        ],
      },
    ];
    const w = new World({ processes });
    for (const move of ['hola', 'sí', 'DEV1', 'Ana García', 'ana@example.com']) w.send(text(move));
    const first = replies(w.send(text(LONG_CV))).at(-1)!;
    expect(first.kind).toBe('text');
    expect(first.text).toContain('12. Option 12');
    const second = replies(w.send(text('12'))).at(-1)!;
    expect(second.kind === 'list' && second.rows[1]).toEqual({
      id: 'answer.opt.1',
      title: 'An option that is much …',
      description: long,
    });
    expect(factTypes(w.send(tap('answer.opt.1', 'An option that is much …')))).toEqual([
      'save_answer',
      'submit_application',
    ]);
    expect(w.apps[0]!.answers).toEqual({ c1: 'Option 12', c2: long });
  });

  test('a long status summary before a question goes as its own message', () => {
    const w = new World({ processes: [{ ...DEV1, questions: [{ ...QUESTIONS[0]!, text: 'q'.repeat(900) }] }] });
    for (const move of ['hola', 'sí', 'DEV1', 'Ana García', 'ana@example.com', LONG_CV, 'ayuda']) w.send(text(move));
    const r = w.log.at(-1)!;
    expect(replies(r).map((m) => m.kind)).toEqual(['text', 'buttons']);
    expect(replies(r)[0]!.text).toBe(TEXTS.es.help);
  });
});

/** A candidate who does whatever the current step asks, to check every state can still reach the end. */
function cooperate(w: World): StepResult | undefined {
  const s = w.session;
  if (!s) return w.send(text('hola'));
  if (s.pending) return w.send(tap(`${s.pending}.cancel`));
  switch (s.step) {
    case 'start':
    case 'declined':
      return w.send(text('hola'));
    case 'consent':
      return w.send(tap('consent.accept'));
    case 'choose_process': {
      const finished = new Set(w.apps.map((a) => a.process.code));
      const open = w.processes.find((p) => !finished.has(p.code));
      return open ? w.send(tap(open.code)) : undefined;
    }
    case 'name':
      return w.send(text('Ana García'));
    case 'email':
      return w.send(text('ana@example.com'));
    case 'cv':
      return w.send(text(LONG_CV));
    case 'cv_processing':
      return w.extractCv(true);
    case 'question': {
      const app = w.apps.find((a) => a.status === 'in_progress');
      const q = app?.process.questions[s.questionIndex];
      if (!q) return w.send(text('hola'));
      const answer = { yes_no: 'sí', number: '5', choice: '1', text: 'Porque sí' }[q.type];
      return w.send(text(answer));
    }
    case 'done':
      return undefined;
  }
}

const INPUTS: Input[] = [
  ...[
    'hola',
    'hello',
    'sí',
    'no',
    'quizás',
    'DEV1',
    'ops2',
    'XYZ9',
    'Ana García',
    'ana@example.com',
    'bad@',
    LONG_CV,
    '5',
    '100',
    'tres',
    'Tarde',
    '2',
    'ayuda',
    'estado',
    'reiniciar',
    'borrar',
    'english',
    'español',
    'cancelar',
    '',
  ].map(text),
  ...[
    'consent.accept',
    'consent.decline',
    'DEV1',
    'OPS2',
    'answer.yes',
    'answer.no',
    'answer.opt.0',
    'answer.opt.5',
    'delete.confirm',
    'delete.cancel',
    'restart.confirm',
    'restart.cancel',
  ].map((id) => tap(id)),
  doc(),
  doc({ mimeType: 'image/png', filename: 'cv.png' }),
  sticker,
  { kind: 'message', type: 'interactive' },
  { kind: 'message', type: 'document' },
];

type Action = { input: Input } | { cv: true | 'scanned' } | { forget: true };
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...INPUTS).map((input) => ({ input })) },
  { weight: 1, arbitrary: fc.constantFrom<true | 'scanned'>(true, 'scanned').map((cv) => ({ cv })) },
  { weight: 1, arbitrary: fc.constant({ forget: true as const }) },
);

function play(w: World, a: Action): void {
  if ('forget' in a) {
    w.forgetSession();
    return;
  }
  const pendingBefore = w.session?.pending;
  const hadCurrent = w.apps.some((x) => x.status === 'in_progress');
  const r = 'cv' in a ? w.extractCv(a.cv) : w.send(a.input);
  if ('input' in a) expect(replies(r).length).toBeGreaterThan(0);
  const types = factTypes(r);
  if (types.includes('erase_candidate')) expect(pendingBefore).toBe('delete');
  if (types.includes('restart_application')) {
    expect(pendingBefore).toBe('restart');
    expect(hadCurrent).toBe(true);
  }
  if (types.includes('start_application')) expect(hadCurrent && !types.includes('restart_application')).toBe(false);
  expect(types.filter((x) => x === 'submit_application').length).toBeLessThanOrEqual(1);
}

describe('any sequence of messages', () => {
  test('never throws, always answers a message, keeps within WhatsApp limits and the engine invariants', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...STOPS),
        fc.constantFrom<Locale>('es', 'en'),
        fc.array(action, { maxLength: 30 }),
        (stop, locale, actions) => {
          const w = reach(stop, locale);
          for (const a of actions) play(w, a);
          // A finished application is never reopened: at most one application per process.
          const codes = w.apps.map((x) => x.process.code);
          expect(new Set(codes).size).toBe(codes.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('from wherever it stands, a cooperative candidate finishes in a few messages', () => {
    fc.assert(
      fc.property(fc.constantFrom(...STOPS), fc.array(action, { maxLength: 25 }), (stop, actions) => {
        const w = reach(stop);
        for (const a of actions) play(w, a);
        for (let i = 0; i < 20 && cooperate(w); i++);
        expect(w.session?.step).toBe('done');
        expect(w.apps.some((x) => x.status === 'submitted')).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
