import { describe, expect, test } from 'vitest';
import { detectLocale, localeFromPhone, localeFromText } from '../../../src/conversation/locale.ts';
import {
  findProcessCode,
  parseChoice,
  parseCommand,
  parseEmail,
  parseName,
  parseNumber,
  parseYesNo,
} from '../../../src/conversation/parse.ts';

describe('parseCommand', () => {
  test.each([
    ['help', 'help'],
    ['AYUDA', 'help'],
    ['/help', 'help'],
    ['?', 'help'],
    ['Estado', 'status'],
    ['status!', 'status'],
    ['reiniciar', 'restart'],
    ['Restart', 'restart'],
    ['borrar', 'delete'],
    ['DELETE', 'delete'],
    ['Borrar mis datos', 'delete'],
    ['english', 'english'],
    ['Inglés', 'english'],
    ['español', 'spanish'],
    ['Espanol', 'spanish'],
    ['spanish', 'spanish'],
  ])('%j is %s', (text, command) => {
    expect(parseCommand(text)).toBe(command);
  });

  test.each(['necesito ayuda con mi cv', 'what is my status please', 'hola', '', 'borrar el último mensaje'])(
    '%j is not a command (commands are whole messages)',
    (text) => {
      expect(parseCommand(text)).toBeUndefined();
    },
  );
});

describe('parseYesNo', () => {
  test.each([
    ['yes', true],
    ['Sí', true],
    ['si', true],
    ['SI!', true],
    ['acepto', true],
    ['accept', true],
    ['claro que sí', true],
    ['Sí, tengo', true],
    ['yes I do', true],
    ['ok', true],
    ['👍', true],
    ['no', false],
    ['No.', false],
    ['no acepto', false],
    ['nope', false],
    ['No, no tengo', false],
    ['nunca', false],
    ['👎', false],
  ])('%j -> %s', (text, value) => {
    expect(parseYesNo(text)).toBe(value);
  });

  test.each([
    'maybe',
    'quizás',
    'tal vez',
    'no sé',
    'no lo sé',
    "I don't know",
    'not sure',
    'depende',
    'a veces',
    'banana',
    '',
    '5',
  ])('%j is neither', (text) => {
    expect(parseYesNo(text)).toBeUndefined();
  });
});

describe('parseEmail', () => {
  test.each([
    ['ana@example.com', 'ana@example.com'],
    ['Ana.Garcia@Example.COM', 'ana.garcia@example.com'],
    ['mi correo es ana+jobs@mail.example.es.', 'ana+jobs@mail.example.es'],
    ['<ana@example.com>', 'ana@example.com'],
    ['  ana_g@sub-domain.example.org  ', 'ana_g@sub-domain.example.org'],
  ])('%j -> %s', (text, email) => {
    expect(parseEmail(text)).toBe(email);
  });

  test.each([
    'ana.example.com',
    'ana@',
    '@example.com',
    'ana@example',
    'ana@example.c',
    'ana@@example.com',
    'ana..g@example.com',
    'ana@exa mple.com',
    'ana@example.com bob@example.com',
    'mi correo',
    `${'a'.repeat(65)}@example.com`,
    'ana@-example.com',
  ])('%j is not an email', (text) => {
    expect(parseEmail(text)).toBeUndefined();
  });
});

describe('parseNumber', () => {
  test.each([
    ['5', 5],
    ['5 años', 5],
    ['I have 7 years', 7],
    ['2.5', 2.5],
    ['2,5', 2.5],
    ['1.500.000', 1500000],
    ['1,200', 1200],
    ['0', 0],
    ['-3', -3],
    ['tres', 3],
    ['three years', 3],
    ['ninguno', 0],
    ['5, sí, 5', 5],
  ])('%j -> %d', (text, value) => {
    expect(parseNumber(text)).toBe(value);
  });

  test.each(['muchos', '2 o 3', 'between 2 and 4', '', 'dos o tres', 'abc'])('%j is not one number', (text) => {
    expect(parseNumber(text)).toBeUndefined();
  });
});

describe('parseName', () => {
  test.each([
    ['Ana García', 'Ana García'],
    ['  ana   garcía ', 'ana garcía'],
    ["María-José O'Neil", "María-José O'Neil"],
    ['J. R. Smith', 'J. R. Smith'],
    ['Zoë', 'Zoë'],
  ])('%j -> %j', (text, name) => {
    expect(parseName(text)).toBe(name);
  });

  test.each([
    'ana@example.com',
    '12345',
    'Ana 2',
    'x',
    'hola',
    'Hello!',
    'sí',
    'https://x.com',
    'a'.repeat(81),
    '🙂🙂',
  ])('%j is not a name', (text) => {
    expect(parseName(text)).toBeUndefined();
  });
});

describe('parseChoice', () => {
  const options = ['Mañana', 'Tarde', 'Noche'];
  test.each([
    ['manana', undefined, 0],
    ['TARDE', undefined, 1],
    ['3', undefined, 2],
    [undefined, 'answer.opt.1', 1],
  ])('text %j / id %j -> %d', (text, id, index) => {
    expect(parseChoice(options, text, id)).toBe(index);
  });

  test.each([
    ['4', undefined],
    ['0', undefined],
    ['madrugada', undefined],
    [undefined, 'answer.opt.3'],
    [undefined, 'answer.yes'],
  ])('text %j / id %j is no option', (text, id) => {
    expect(parseChoice(options, text, id)).toBeUndefined();
  });
});

describe('findProcessCode', () => {
  const codes = ['DEV1', 'OPS-2', 'QA'];
  test.each([
    ['hola DEV1', 'DEV1'],
    ['quiero aplicar a dev1!', 'DEV1'],
    ['ops-2', 'OPS-2'],
    ['Código: OPS-2.', 'OPS-2'],
    ['qa', 'QA'],
  ])('%j -> %s', (text, code) => {
    expect(findProcessCode(text, codes)).toBe(code);
  });

  test.each(['hola', 'DEV12', 'xDEV1', 'quality'])('%j names no code', (text) => {
    expect(findProcessCode(text, codes)).toBeUndefined();
  });
});

describe('language', () => {
  test.each([
    ['+34600111222', 'es'],
    ['+5215512345678', 'es'],
    ['+5491123456789', 'es'],
    ['+12025550123', 'en'],
    ['+17875550123', 'es'],
    ['+18095550123', 'es'],
    ['+447700900123', 'en'],
    ['+4915112345678', undefined],
    ['+5511987654321', undefined],
  ])('phone %s -> %s', (phone, locale) => {
    expect(localeFromPhone(phone)).toBe(locale);
  });

  test.each([
    ['hola', 'es'],
    ['Buenos días, quiero postularme', 'es'],
    ['hello', 'en'],
    ['Hi, I would like to apply', 'en'],
    ['DEV1', undefined],
    ['ok', undefined],
  ])('text %j -> %s', (text, locale) => {
    expect(localeFromText(text)).toBe(locale);
  });

  test.each([
    // The first message's words beat the country; the country beats what we knew; then the default.
    [{ phone: '+12025550123', text: 'hola' }, 'es'],
    [{ phone: '+34600111222', text: 'hello there' }, 'en'],
    [{ phone: '+12025550123', text: 'DEV1' }, 'en'],
    [{ phone: '+4915112345678', text: 'DEV1', known: 'en' }, 'en'],
    [{ phone: '+4915112345678', text: 'ok' }, 'es'],
    [{ phone: '+4915112345678', text: 'ok', defaultLocale: 'en' as const }, 'en'],
  ])('%j -> %s', (input, locale) => {
    expect(detectLocale({ defaultLocale: 'es', ...input })).toBe(locale);
  });
});
