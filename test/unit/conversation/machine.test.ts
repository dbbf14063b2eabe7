import { describe, expect, test } from 'vitest';
import { messageInput, newSession, numberBounds, rebuildSession, step } from '../../../src/conversation/machine.ts';
import { CONSENT_VERSION, TEXTS } from '../../../src/conversation/texts.ts';
import type { Context, CvFailureReason, Input, Locale, Reply, Session } from '../../../src/conversation/types.ts';
import {
  DEV1,
  doc,
  facts,
  factTypes,
  LONG_CV,
  OPS2,
  QUESTIONS,
  reach,
  replies,
  replyText,
  STOPS,
  type Stop,
  sticker,
  tap,
  text,
  World,
} from './world.ts';

const es = TEXTS.es;
const en = TEXTS.en;
const lastReply = (r: ReturnType<World['send']>): Reply => replies(r).at(-1)!;

/** What each stop asks for, to recognise a re-prompt in the given language. */
function expectPrompt(reply: Reply, stop: Stop, locale: Locale = 'es'): void {
  const t = TEXTS[locale];
  switch (stop) {
    case 'consent':
      expect(reply).toMatchObject({ kind: 'buttons' });
      expect(reply.kind === 'buttons' && reply.buttons.map((b) => b.id)).toEqual(['consent.accept', 'consent.decline']);
      expect(reply.text).toContain(t.greeting);
      return;
    case 'choose_process':
      expect(reply.kind === 'list' && reply.rows.map((r) => r.id)).toEqual(['DEV1', 'OPS2']);
      expect(reply.text).toContain(t.chooseProcess);
      return;
    case 'name':
      expect(reply.text).toContain(t.askName);
      return;
    case 'email':
      expect(reply.text).toContain(t.askEmail(locale === 'es' ? 'Ana' : 'Ann'));
      return;
    case 'cv':
      expect(reply.text).toContain(t.askCv);
      return;
    case 'cv_processing':
      expect(reply.text).toContain(t.cvStillReading);
      return;
    case 'q_yes_no':
      expect(reply.kind === 'buttons' && reply.buttons.map((b) => b.id)).toEqual(['answer.yes', 'answer.no']);
      expect(reply.text).toContain(QUESTIONS[0]!.text);
      return;
    case 'q_number':
      expect(reply.text).toContain(QUESTIONS[1]!.text);
      return;
    case 'q_choice':
      expect(reply.kind === 'list' && reply.rows.map((r) => r.id)).toEqual([
        'answer.opt.0',
        'answer.opt.1',
        'answer.opt.2',
      ]);
      expect(reply.text).toContain(QUESTIONS[2]!.text);
      return;
    case 'q_text':
      expect(reply.text).toContain(QUESTIONS[3]!.text);
      return;
    case 'done':
      expect(reply.kind === 'list' && reply.rows.map((r) => r.id)).toEqual(['OPS2']);
      expect(reply.text).toContain(t.otherProcesses);
      return;
  }
}

const sessionOf = (w: World): Session => w.session!;
const position = (w: World) => ({ step: w.session!.step, questionIndex: w.session!.questionIndex });

describe('first contact', () => {
  test('an unknown number gets a greeting that says it is an automated assistant and asks consent with buttons', () => {
    const w = new World();
    const r = w.send(text('hola'));
    expect(factTypes(r)).toEqual([]);
    expect(replies(r)).toHaveLength(1);
    expectPrompt(lastReply(r), 'consent');
    expect(lastReply(r).text).toMatch(/asistente automático/);
    expect(sessionOf(w).step).toBe('consent');
  });

  test.each([
    ['+34600111222', 'hola', 'es'],
    ['+447700900123', 'hello', 'en'],
    ['+12025550123', 'hola', 'es'],
    ['+12025550123', 'DEV1', 'en'],
    ['+4915112345678', 'ok', 'es'],
    ['+34600111222', 'english', 'en'],
    ['+447700900123', 'español', 'es'],
  ])('phone %s saying %j is answered in %s', (phone, first, locale) => {
    const w = new World({ phone });
    const r = w.send(text(first));
    expect(sessionOf(w).locale).toBe(locale);
    expectPrompt(lastReply(r), 'consent', locale as Locale);
  });

  test.each([
    ['a sticker', sticker],
    ['a document', doc()],
    ['an old button', tap('answer.yes')],
    ['help', text('ayuda')],
    ['status', text('estado')],
    ['restart', text('reiniciar')],
  ])('%s as first message also gets the greeting', (_, input) => {
    const w = new World();
    const r = w.send(input);
    expectPrompt(lastReply(r), 'consent');
    expect(factTypes(r)).toEqual([]);
  });

  test('"delete" as first message says nothing is stored and stores nothing', () => {
    const w = new World();
    const r = w.send(text('borrar'));
    expect(replyText(r)).toBe(es.nothingStored);
    expect(factTypes(r)).toEqual([]);
  });

  test('a process code anywhere in the first message preselects it after consent', () => {
    const w = new World();
    w.send(text('hola, quiero aplicar a DEV1'));
    const r = w.send(tap('consent.accept'));
    expect(facts(r)).toEqual([
      { type: 'record_consent', version: CONSENT_VERSION, at: '2025-03-01T10:00:00.000Z' },
      { type: 'set_locale', locale: 'es' },
      { type: 'start_application', processId: 'p-dev1', processCode: 'DEV1' },
    ]);
    expect(replyText(r)).toContain(es.applyingTo('Backend Developer'));
    expectPrompt(lastReply(r), 'name');
    expect(sessionOf(w)).toMatchObject({ step: 'name', processCode: 'DEV1' });
    expect(sessionOf(w).preselectedCode).toBeUndefined();
  });

  test('a preselected process that closed before consent falls back to the list', () => {
    const w = new World();
    w.send(text('hola DEV1'));
    w.processes = [OPS2];
    const r = w.send(tap('consent.accept'));
    expect(factTypes(r)).toEqual(['record_consent', 'set_locale']);
    expect(lastReply(r)).toMatchObject({ kind: 'list', rows: [{ id: 'OPS2' }] });
  });
});

describe('consent', () => {
  test.each([
    ['the accept button', tap('consent.accept', 'Acepto')],
    ['"sí"', text('sí')],
    ['"si"', text('si')],
    ['"acepto"', text('Acepto')],
    ['"yes"', text('yes')],
    ['"accept"', text('accept')],
  ])('%s records consent with its text version and time', (_, input) => {
    const w = reach('consent');
    const r = w.send(input);
    expect(facts(r)[0]).toEqual({ type: 'record_consent', version: CONSENT_VERSION, at: '2025-03-01T10:00:00.000Z' });
    expect(sessionOf(w).step).toBe('choose_process');
    expectPrompt(lastReply(r), 'choose_process');
  });

  test.each([
    ['the decline button', tap('consent.decline', 'No acepto')],
    ['"no"', text('no')],
    ['"No acepto"', text('No acepto')],
  ])('%s ends the chat, storing only the opt-out', (_, input) => {
    const w = reach('consent');
    const r = w.send(input);
    expect(facts(r)).toEqual([{ type: 'opt_out', at: '2025-03-01T10:00:00.000Z' }]);
    expect(replyText(r)).toBe(es.declined);
    expect(sessionOf(w)).toEqual({ ...newSession('es'), step: 'declined' });
  });

  test('after declining, writing again offers consent again (and nothing else)', () => {
    const w = reach('consent');
    w.send(text('no'));
    const r = w.send(text('hola otra vez'));
    expect(factTypes(r)).toEqual([]);
    expectPrompt(lastReply(r), 'consent');
  });

  test('a code typed while consent is pending is remembered', () => {
    const w = reach('consent');
    w.send(text('OPS2'));
    const r = w.send(text('sí'));
    expect(facts(r).at(-1)).toEqual({ type: 'start_application', processId: 'p-ops2', processCode: 'OPS2' });
  });

  test('a returning candidate who consented before is not asked again', () => {
    const w = reach('done');
    w.session = newSession('es');
    const r = w.send(text('hola'));
    expect(factTypes(r)).toEqual([]);
    expect(replyText(r)).not.toContain(es.greeting);
    expectPrompt(lastReply(r), 'done');
  });
});

describe('the happy path, one step at a time', () => {
  test.each<[string, Stop, Input, unknown[], Stop | 'cv_processing' | 'done']>([
    [
      'process from the list',
      'choose_process',
      tap('DEV1', 'Backend Developer'),
      [{ type: 'start_application', processId: 'p-dev1', processCode: 'DEV1' }],
      'name',
    ],
    [
      'process typed in a sentence',
      'choose_process',
      text('me interesa ops2'),
      [{ type: 'start_application', processId: 'p-ops2', processCode: 'OPS2' }],
      'name',
    ],
    ['name', 'name', text('  Ana   García '), [{ type: 'set_name', name: 'Ana García' }], 'email'],
    [
      'email in a sentence',
      'email',
      text('Mi correo es Ana@Example.com'),
      [{ type: 'set_email', email: 'ana@example.com' }],
      'cv',
    ],
    [
      'a PDF',
      'cv',
      doc(),
      [{ type: 'fetch_cv_document', media: { id: 'media-1', mimeType: 'application/pdf', filename: 'cv.pdf' } }],
      'cv_processing',
    ],
    [
      'a DOCX',
      'cv',
      doc({ mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', filename: 'cv.docx' }),
      [{ type: 'fetch_cv_document', media: expect.objectContaining({ filename: 'cv.docx' }) }],
      'cv_processing',
    ],
    [
      'a TXT by extension',
      'cv',
      doc({ mimeType: 'application/octet-stream', filename: 'CV.TXT' }),
      [{ type: 'fetch_cv_document', media: expect.objectContaining({ filename: 'CV.TXT' }) }],
      'cv_processing',
    ],
    [
      'a document without type or name',
      'cv',
      doc({ mimeType: undefined, filename: undefined }),
      [{ type: 'fetch_cv_document', media: { id: 'media-1' } }],
      'cv_processing',
    ],
    ['pasted CV text', 'cv', text(LONG_CV), [{ type: 'store_cv_text', text: LONG_CV.trim() }], 'q_yes_no'],
    [
      'yes button',
      'q_yes_no',
      tap('answer.yes', 'Sí'),
      [{ type: 'save_answer', questionId: 'q1', value: true }],
      'q_number',
    ],
    ['typed "no"', 'q_yes_no', text('No'), [{ type: 'save_answer', questionId: 'q1', value: false }], 'q_number'],
    [
      'typed "sí, tengo"',
      'q_yes_no',
      text('Sí, tengo'),
      [{ type: 'save_answer', questionId: 'q1', value: true }],
      'q_number',
    ],
    ['a number', 'q_number', text('6 años'), [{ type: 'save_answer', questionId: 'q2', value: 6 }], 'q_choice'],
    [
      'a decimal with a comma',
      'q_number',
      text('3,5'),
      [{ type: 'save_answer', questionId: 'q2', value: 3.5 }],
      'q_choice',
    ],
    ['a number in words', 'q_number', text('tres'), [{ type: 'save_answer', questionId: 'q2', value: 3 }], 'q_choice'],
    [
      'below a knockout min (valid: scoring rejects it)',
      'q_number',
      text('1'),
      [{ type: 'save_answer', questionId: 'q2', value: 1 }],
      'q_choice',
    ],
    [
      'a list row',
      'q_choice',
      tap('answer.opt.1', 'Tarde'),
      [{ type: 'save_answer', questionId: 'q3', value: 'Tarde' }],
      'q_text',
    ],
    [
      'an option typed',
      'q_choice',
      text('noche'),
      [{ type: 'save_answer', questionId: 'q3', value: 'Noche' }],
      'q_text',
    ],
    ['an option number', 'q_choice', text('1'), [{ type: 'save_answer', questionId: 'q3', value: 'Mañana' }], 'q_text'],
    [
      'the last answer submits',
      'q_text',
      text(' Me gusta el equipo '),
      [{ type: 'save_answer', questionId: 'q4', value: 'Me gusta el equipo' }, { type: 'submit_application' }],
      'done',
    ],
  ])('%s', (_, stop, input, expected, next) => {
    const w = reach(stop);
    const r = w.send(input);
    expect(facts(r)).toEqual(expected);
    const expectedStep = next.startsWith('q_') ? 'question' : next;
    expect(sessionOf(w).step).toBe(expectedStep);
    expect(sessionOf(w).reasks).toBe(0);
    if (next === 'done') expect(lastReply(r).text).toBe(es.completed('Ana', 'Backend Developer'));
    else if (next === 'cv_processing') expect(lastReply(r).text).toBe(es.cvReading);
    else expectPrompt(lastReply(r), next as Stop);
  });

  test('the question header counts questions', () => {
    const r = reach('q_yes_no').send(text('sí'));
    expect(lastReply(r).text).toBe(`${es.questionHeader(2, 4)}\n${QUESTIONS[1]!.text}`);
  });

  test('a process without questions is submitted right after the CV', () => {
    const w = reach('choose_process');
    w.send(tap('OPS2'));
    w.send(text('Ana García'));
    w.send(text('ana@example.com'));
    const r = w.send(text(LONG_CV));
    expect(factTypes(r)).toEqual(['store_cv_text', 'submit_application']);
    expect(lastReply(r).text).toContain(es.completed('Ana', 'Operaciones logísticas'));
    expect(sessionOf(w).step).toBe('done');
  });

  test('what is already known is skipped: a second application goes from the process to the CV', () => {
    const w = reach('done');
    const r = w.send(tap('OPS2', 'Operaciones logísticas'));
    expect(factTypes(r)).toEqual(['start_application']);
    expectPrompt(lastReply(r), 'cv');
  });
});

describe('bad answers re-ask with a hint and do not advance', () => {
  test.each<[string, Stop, Input, string]>([
    ['"maybe" to consent', 'consent', text('quizás'), es.consentHint],
    ['a sticker at consent', 'consent', sticker, es.unsupported],
    ['an unknown code', 'choose_process', text('XYZ9'), es.unknownProcess],
    ['a stale list row', 'choose_process', tap('GONE1', 'Old job'), es.unknownProcess],
    ['a sticker at process choice', 'choose_process', sticker, es.unsupported],
    ['an email as name', 'name', text('ana@example.com'), es.nameHint],
    ['digits as name', 'name', text('12345'), es.nameHint],
    ['a greeting as name', 'name', text('hola'), es.nameHint],
    ['a document as name', 'name', doc(), es.nameHint],
    ['a button as name', 'name', tap('answer.yes', 'Sí'), es.nameHint],
    ['a sticker as name', 'name', sticker, es.unsupported],
    ['an email without @', 'email', text('ana.example.com'), es.emailHint],
    ['an email without domain', 'email', text('ana@'), es.emailHint],
    ['an email without TLD', 'email', text('ana@example'), es.emailHint],
    ['two emails', 'email', text('ana@example.com o ana@work.com'), es.emailHint],
    ['a too-short pasted CV', 'cv', text('Soy programadora con 5 años de experiencia'), es.cvTooShort(42)],
    ['an image sent as document', 'cv', doc({ mimeType: 'image/jpeg', filename: 'cv.jpg' }), es.cvWrongType],
    ['a legacy .doc', 'cv', doc({ mimeType: 'application/msword', filename: 'cv.doc' }), es.cvWrongType],
    [
      'an unknown binary with a bad extension',
      'cv',
      doc({ mimeType: 'application/octet-stream', filename: 'cv.exe' }),
      es.cvWrongType,
    ],
    ['a sticker as CV', 'cv', sticker, es.unsupported],
    ['a stale button as CV', 'cv', tap('answer.yes', 'Sí'), es.askCv],
    ['"maybe" to yes/no', 'q_yes_no', text('maybe'), es.yesNoHint],
    ['"quizás" to yes/no', 'q_yes_no', text('quizás'), es.yesNoHint],
    ['"no sé" to yes/no', 'q_yes_no', text('no sé'), es.yesNoHint],
    ['a list row to yes/no', 'q_yes_no', tap('answer.opt.0', 'Mañana'), es.yesNoHint],
    ['words to a number', 'q_number', text('muchos'), es.numberHint()],
    ['two numbers', 'q_number', text('2 o 3'), es.numberHint()],
    ['a number above max', 'q_number', text('100'), es.numberHint(0, 50)],
    ['a negative number', 'q_number', text('-3'), es.numberHint(0, 50)],
    ['a yes button to a number', 'q_number', tap('answer.yes', 'Sí'), es.numberHint()],
    ['an option out of range', 'q_choice', text('7'), es.choiceHint],
    ['an unknown option', 'q_choice', text('madrugada'), es.choiceHint],
    ['a stale row id', 'q_choice', tap('answer.opt.9', 'x'), es.choiceHint],
    ['an over-long text answer', 'q_text', text('a'.repeat(1001)), es.textTooLong(1000)],
    ['a document as text answer', 'q_text', doc(), es.textEmpty],
    ['a blank text answer', 'q_text', text('   '), es.textEmpty],
    ['a sticker to a question', 'q_text', sticker, es.unsupported],
  ])('%s', (_, stop, input, hint) => {
    const w = reach(stop);
    const before = position(w);
    const r = w.send(input);
    expect(factTypes(r)).toEqual([]);
    expect(position(w)).toEqual(before);
    expect(sessionOf(w).reasks).toBe(1);
    expect(lastReply(r).text.startsWith(hint)).toBe(true);
    expectPrompt(lastReply(r), stop);
  });

  test('the third bad answer in a row also points to help; a good one resets the count', () => {
    const w = reach('email');
    w.send(text('nope'));
    w.send(text('nope'));
    const third = w.send(text('nope'));
    expect(lastReply(third).text).toContain(`${es.emailHint} ${es.stuck}`);
    w.send(text('ana@example.com'));
    expect(sessionOf(w)).toMatchObject({ step: 'cv', reasks: 0 });
  });

  test('numbers are bounded by min/max unless min is a knockout threshold', () => {
    expect(numberBounds({ id: 'a', text: '', type: 'number', min: 2, max: 50, knockout: true })).toEqual({
      min: 0,
      max: 50,
    });
    expect(numberBounds({ id: 'a', text: '', type: 'number', min: 18, max: 70 })).toEqual({ min: 18, max: 70 });
    expect(numberBounds({ id: 'a', text: '', type: 'number' })).toEqual({ min: 0, max: 1_000_000 });
    const w = new World({
      processes: [{ ...DEV1, questions: [{ id: 'age', text: 'Edad', type: 'number', min: 18, max: 70 }] }],
    });
    for (const move of ['hola', 'sí', 'DEV1', 'Ana García', 'ana@example.com', LONG_CV]) w.send(text(move));
    const r = w.send(text('16'));
    expect(factTypes(r)).toEqual([]);
    expect(lastReply(r).text).toContain(es.numberHint(18, 70));
  });
});

const APPLICATION_STOPS: Stop[] = [
  'name',
  'email',
  'cv',
  'cv_processing',
  'q_yes_no',
  'q_number',
  'q_choice',
  'q_text',
];

describe.each(STOPS)('global commands at %s', (stop) => {
  test('help explains the commands and asks again', () => {
    const w = reach(stop);
    const before = sessionOf(w);
    const r = w.send(text('ayuda'));
    expect(factTypes(r)).toEqual([]);
    expect(replyText(r)).toContain(es.help);
    expectPrompt(lastReply(r), stop);
    expect(sessionOf(w)).toEqual(before);
  });

  test('status answers from the context and asks again', () => {
    const w = reach(stop);
    const before = sessionOf(w);
    const r = w.send(text('estado'));
    expect(factTypes(r)).toEqual([]);
    const expected =
      stop === 'consent' || stop === 'choose_process'
        ? es.noApplications
        : `${es.statusHeader}\n${es.statusLine('Backend Developer', 'DEV1', stop === 'done' ? 'recibida' : 'en curso')}`;
    expect(replyText(r)).toContain(expected);
    expectPrompt(lastReply(r), stop);
    expect(sessionOf(w)).toEqual(before);
  });

  test('"english" switches the language, persists it and asks again in English', () => {
    const w = reach(stop);
    const r = w.send(text('english'));
    expect(facts(r)).toEqual([{ type: 'set_locale', locale: 'en' }]);
    expect(sessionOf(w).locale).toBe('en');
    expect(replyText(r)).toContain(en.languageSwitched);
    if (stop === 'email') expect(lastReply(r).text).toContain(en.askEmail('Ana'));
    else expectPrompt(lastReply(r), stop, 'en');
  });

  test('"español" switches an English conversation to Spanish', () => {
    const w = reach(stop, 'en');
    const r = w.send(text('español'));
    expect(facts(r)).toEqual([{ type: 'set_locale', locale: 'es' }]);
    expect(replyText(r)).toContain(es.languageSwitched);
    if (stop === 'email') expect(lastReply(r).text).toContain(es.askEmail('Ann'));
    else expectPrompt(lastReply(r), stop, 'es');
  });

  test('delete asks to confirm; the confirm button erases the candidate', () => {
    const w = reach(stop);
    const ask = w.send(text('borrar'));
    expect(factTypes(ask)).toEqual([]);
    expect(lastReply(ask)).toMatchObject({
      kind: 'buttons',
      text: es.deleteConfirm,
      buttons: [{ id: 'delete.confirm' }, { id: 'delete.cancel' }],
    });
    expect(sessionOf(w).pending).toBe('delete');
    const done = w.send(tap('delete.confirm', es.deleteYes));
    expect(facts(done)).toEqual([{ type: 'erase_candidate' }]);
    expect(replyText(done)).toBe(es.deleted);
    expect(sessionOf(w)).toEqual(newSession('es'));
    expect(w.candidate).toBeUndefined();
  });

  test('delete then cancel keeps everything and asks again', () => {
    const w = reach(stop);
    const before = sessionOf(w);
    w.send(text('delete'));
    const r = w.send(tap('delete.cancel', es.cancel));
    expect(factTypes(r)).toEqual([]);
    expect(replyText(r)).toContain(es.notDeleted);
    expectPrompt(lastReply(r), stop);
    expect(sessionOf(w)).toEqual(before);
  });

  test('restart never discards a finished application and asks before discarding one in progress', () => {
    const w = reach(stop);
    const r = w.send(text('reiniciar'));
    expect(factTypes(r)).toEqual([]);
    if (APPLICATION_STOPS.includes(stop)) {
      expect(sessionOf(w).pending).toBe('restart');
      expect(lastReply(r)).toMatchObject({
        kind: 'buttons',
        text: es.restartConfirm,
        buttons: [{ id: 'restart.confirm' }, { id: 'restart.cancel' }],
      });
      const confirmed = w.send(tap('restart.confirm', es.restartYes));
      expect(facts(confirmed)).toEqual([{ type: 'restart_application' }]);
      expect(replyText(confirmed)).toContain(es.restarted);
      expect(sessionOf(w)).toEqual({ ...newSession('es'), step: 'choose_process' });
      expectPrompt(lastReply(confirmed), 'choose_process');
    } else {
      expect(sessionOf(w).pending).toBeUndefined();
      if (stop === 'done') expect(replyText(r)).toContain(es.finishedNoRestart('Backend Developer', 'recibida'));
      expectPrompt(lastReply(r), stop);
      expect(sessionOf(w).step).toBe(stop);
    }
  });
});

describe('confirmations', () => {
  test.each([
    ['typed "sí"', text('sí'), true],
    ['typed "yes"', text('yes'), true],
    ['typed "no"', text('no'), false],
    ['typed "cancelar"', text('cancelar'), false],
  ])('%s answers a delete confirmation', (_, input, erased) => {
    const w = reach('email');
    w.send(text('borrar'));
    const r = w.send(input);
    expect(factTypes(r)).toEqual(erased ? ['erase_candidate'] : []);
    expect(sessionOf(w).pending).toBeUndefined();
  });

  test('anything unclear cancels, and the message is then handled as usual', () => {
    const w = reach('email');
    w.send(text('borrar'));
    const r = w.send(text('ana@example.com'));
    expect(facts(r)).toEqual([{ type: 'set_email', email: 'ana@example.com' }]);
    expect(replyText(r)).toContain(es.notDeleted);
    expectPrompt(lastReply(r), 'cv');
  });

  test('repeating the command asks again instead of cancelling', () => {
    const w = reach('q_text');
    w.send(text('reiniciar'));
    const r = w.send(text('reiniciar'));
    expect(replyText(r)).toBe(es.restartConfirm);
    expect(sessionOf(w).pending).toBe('restart');
  });

  test('another command cancels and runs', () => {
    const w = reach('cv');
    w.send(text('borrar'));
    const r = w.send(text('estado'));
    expect(factTypes(r)).toEqual([]);
    expect(replyText(r)).toContain(es.notDeleted);
    expect(replyText(r)).toContain(es.statusHeader);
  });

  test('restart cancelled continues where we were', () => {
    const w = reach('q_choice');
    w.send(text('restart'));
    const r = w.send(text('no'));
    expect(factTypes(r)).toEqual([]);
    expect(replyText(r)).toContain(es.notRestarted);
    expectPrompt(lastReply(r), 'q_choice');
  });

  test('after a confirmed restart the same process can be chosen again and starts fresh', () => {
    const w = reach('q_choice');
    w.send(text('restart'));
    w.send(text('sí'));
    const r = w.send(tap('DEV1'));
    expect(factTypes(r)).toEqual(['start_application']);
    expectPrompt(lastReply(r), 'cv');
  });
});

describe('CV extraction results', () => {
  test('ok moves on to the first question', () => {
    const w = reach('cv_processing');
    const r = w.extractCv(true);
    expect(factTypes(r)).toEqual([]);
    expect(replyText(r)).toContain(es.cvOk);
    expectPrompt(lastReply(r), 'q_yes_no');
  });

  test.each<CvFailureReason>([
    'too_large',
    'too_many_pages',
    'scanned',
    'encrypted',
    'corrupt',
    'unsupported',
    'timeout',
    'too_short',
  ])('%s goes back to the CV step with the reason and what to do', (reason) => {
    const w = reach('cv_processing');
    const r = w.extractCv(reason);
    expect(factTypes(r)).toEqual([]);
    expect(replyText(r)).toBe(`${es.cvFailed[reason]}\n\n${es.cvRetry}`);
    expect(sessionOf(w).step).toBe('cv');
    expect(w.send(text(LONG_CV)).effects.map((e) => e.type)).toContain('store_cv_text');
  });

  test.each<Stop>(['name', 'cv', 'q_number', 'done'])('a late result at %s changes nothing', (stop) => {
    const w = reach(stop);
    const before = sessionOf(w);
    const r = w.send({ kind: 'cv_extracted', ok: true });
    expect(r.effects).toEqual([]);
    expect(sessionOf(w)).toEqual(before);
  });

  test('a result for another application is ignored', () => {
    const w = reach('cv_processing');
    const r = w.send({ kind: 'cv_extracted', ok: true, applicationId: 'someone-else' });
    expect(r.effects).toEqual([]);
    expect(sessionOf(w).step).toBe('cv_processing');
  });

  test('messages while reading say so without advancing', () => {
    const w = reach('cv_processing');
    for (const input of [text('hola?'), doc({ id: 'media-2' }), text(LONG_CV)]) {
      const r = w.send(input);
      expect(factTypes(r)).toEqual([]);
      expect(replyText(r)).toBe(es.cvStillReading);
      expect(sessionOf(w).step).toBe('cv_processing');
    }
  });

  test('with a delete confirmation open, a finished CV moves on silently and the question comes after "no"', () => {
    const w = reach('cv_processing');
    w.send(text('borrar'));
    const r = w.extractCv(true);
    expect(replyText(r)).toBe(es.cvOk);
    expect(sessionOf(w)).toMatchObject({ step: 'question', questionIndex: 0, pending: 'delete' });
    expectPrompt(lastReply(w.send(text('no'))), 'q_yes_no');
  });

  test('a restart confirmed after the application got submitted meanwhile restarts nothing', () => {
    const w = new World({ processes: [OPS2] });
    for (const move of ['hola', 'sí', 'OPS2', 'Ana García', 'ana@example.com']) w.send(text(move));
    w.send(doc());
    w.send(text('reiniciar'));
    const submitted = w.extractCv(true);
    expect(factTypes(submitted)).toEqual(['submit_application']);
    const r = w.send(text('sí'));
    expect(factTypes(r)).toEqual([]);
    expect(replyText(r)).toContain(es.finishedNoRestart('Operaciones logísticas', 'recibida'));
  });
});

describe('returning candidates', () => {
  test('a finished application is not restarted by typing its code: its status is shown', () => {
    const w = reach('done');
    w.apps[0]!.status = 'shortlisted';
    const r = w.send(text('hola DEV1'));
    expect(factTypes(r)).toEqual([]);
    expect(replyText(r)).toContain(es.alreadyApplied('Backend Developer', 'preseleccionada'));
    expectPrompt(lastReply(r), 'done');
  });

  test('any other message shows where the last application stands and offers the other processes', () => {
    const w = reach('done');
    w.apps[0]!.status = 'review';
    const r = w.send(text('hola'));
    expect(factTypes(r)).toEqual([]);
    expect(replyText(r)).toContain(es.applicationSent('Backend Developer', 'en revisión'));
    expectPrompt(lastReply(r), 'done');
  });

  test('with nothing else open it says so', () => {
    const w = reach('done');
    w.processes = [DEV1];
    const r = w.send(text('hola'));
    expect(replyText(r)).toContain(es.noOtherProcesses);
    expect(sessionOf(w).step).toBe('done');
  });

  test('status lists every application with its status from the context', () => {
    const w = reach('done');
    w.apps[0]!.status = 'interview';
    const r = w.send(text('status'));
    expect(replyText(r)).toContain(`${es.statusHeader}\n• Backend Developer (DEV1): entrevista`);
  });

  test.each<Stop>(['name', 'email', 'cv', 'cv_processing', 'q_yes_no', 'q_number', 'q_choice', 'q_text', 'done'])(
    'a lost session at %s is rebuilt from Postgres and continues',
    (stop) => {
      const w = reach(stop);
      const before = sessionOf(w);
      w.forgetSession();
      w.send(text('ayuda'));
      expect(position(w)).toEqual({ step: before.step, questionIndex: before.questionIndex });
      expect(sessionOf(w).processCode).toBe(before.processCode);
    },
  );

  test('a lost session mid-question takes the next answer as usual', () => {
    const w = reach('q_number');
    w.forgetSession();
    const r = w.send(text('4'));
    expect(facts(r)).toEqual([{ type: 'save_answer', questionId: 'q2', value: 4 }]);
  });

  test('a process closed mid-application can still be finished', () => {
    const w = reach('q_choice');
    w.processes = [OPS2];
    w.send(text('2'));
    const r = w.send(text('porque sí'));
    expect(factTypes(r)).toEqual(['save_answer', 'submit_application']);
  });
});

test('messageInput keeps what the machine reads from an inbound message', () => {
  const inbound = {
    id: 'wamid.1',
    from: '+34600111222',
    timestamp: new Date(0),
    type: 'document' as const,
    text: 'mi cv',
    media: { id: 'm1', mimeType: 'application/pdf' },
    profileName: 'Ana',
  };
  expect(messageInput(inbound)).toEqual({ kind: 'message', type: 'document', text: 'mi cv', media: inbound.media });
  expect(messageInput({ ...inbound, type: 'other', text: undefined, media: undefined, rawType: 'sticker' })).toEqual(
    sticker,
  );
});

describe('rebuildSession', () => {
  const base: Pick<Context, 'defaultLocale' | 'applications'> = { defaultLocale: 'es', applications: [] };
  const current = {
    applicationId: 'a1',
    processId: 'p-dev1',
    processCode: 'DEV1',
    processTitle: 'Backend Developer',
    questions: QUESTIONS,
    hasCv: true,
    answers: {},
  };
  const consented = { consented: true, optedOut: false, name: 'Ana', email: 'ana@example.com', locale: 'en' };

  test.each([
    ['no candidate', {}, { step: 'start', locale: 'es' }],
    [
      'not consented',
      { candidate: { consented: false, optedOut: false, locale: 'en' } },
      { step: 'start', locale: 'en' },
    ],
    ['opted out', { candidate: { consented: false, optedOut: true } }, { step: 'declined' }],
    ['consented, nothing else', { candidate: { consented: true, optedOut: false } }, { step: 'choose_process' }],
    [
      'no name yet',
      { candidate: { ...consented, name: null }, current },
      { step: 'name', processId: 'p-dev1', processCode: 'DEV1' },
    ],
    ['no email yet', { candidate: { ...consented, email: null }, current }, { step: 'email' }],
    ['no CV yet', { candidate: consented, current: { ...current, hasCv: false } }, { step: 'cv' }],
    [
      'CV being read',
      { candidate: consented, current: { ...current, hasCv: false, step: 'cv_processing' } },
      { step: 'cv_processing' },
    ],
    [
      'two answers given',
      { candidate: consented, current: { ...current, answers: { q1: true, q2: 3 } } },
      { step: 'question', questionIndex: 2, locale: 'en' },
    ],
    [
      'answers out of order',
      { candidate: consented, current: { ...current, answers: { q1: true, q3: 'Tarde' } } },
      { step: 'question', questionIndex: 1 },
    ],
    [
      'a finished application',
      {
        candidate: consented,
        applications: [{ processCode: 'DEV1', processTitle: 'Backend Developer', status: 'submitted' as const }],
      },
      { step: 'done', processCode: 'DEV1' },
    ],
    ['a junk locale', { candidate: { ...consented, locale: 'fr' } }, { locale: 'es' }],
  ])('%s', (_, snapshot, expected) => {
    const session = rebuildSession({ ...base, ...snapshot });
    expect(session).toMatchObject({ v: 1, reasks: 0, ...expected });
    expect(JSON.parse(JSON.stringify(session))).toEqual(JSON.parse(JSON.stringify(session)));
  });

  test('all questions answered but not submitted (a crash between) submits on the next message', () => {
    const w = reach('q_text');
    w.apps[0]!.answers.q4 = 'ya respondida';
    w.forgetSession();
    const r = w.send(text('hola'));
    expect(factTypes(r)).toEqual(['submit_application']);
  });

  test('step() does not mutate the session it is given', () => {
    const session = newSession('es');
    const frozen = Object.freeze({ ...session });
    const ctx: Context = {
      now: new Date(0),
      phone: '+34600111222',
      defaultLocale: 'es',
      openProcesses: [DEV1],
      applications: [],
    };
    step(frozen, text('hola'), ctx);
    expect(frozen).toEqual(session);
  });
});
