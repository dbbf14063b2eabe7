/** Reading what candidates type: commands, yes/no, emails, numbers, names, choices, process codes. */

export type Command = 'help' | 'status' | 'restart' | 'delete' | 'english' | 'spanish';

/** Lower case, accents and surrounding punctuation/emoji removed, inner whitespace collapsed. */
export function normalize(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}@.+\-_'\s]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[.'\-_]+|[.'\-_]+$/g, '')
    .trim();
}

const COMMANDS: Record<string, Command> = {
  help: 'help',
  ayuda: 'help',
  menu: 'help',
  status: 'status',
  estado: 'status',
  'mi estado': 'status',
  'my status': 'status',
  restart: 'restart',
  reiniciar: 'restart',
  'start over': 'restart',
  'empezar de nuevo': 'restart',
  delete: 'delete',
  borrar: 'delete',
  eliminar: 'delete',
  'delete my data': 'delete',
  'borrar mis datos': 'delete',
  english: 'english',
  ingles: 'english',
  'in english': 'english',
  'en ingles': 'english',
  espanol: 'spanish',
  spanish: 'spanish',
  castellano: 'spanish',
  'en espanol': 'spanish',
  'in spanish': 'spanish',
};

/** A global command, only when it is the whole message ("ayuda", "/help", "ESTADO!"); "?" asks for help. */
export function parseCommand(text: string | undefined): Command | undefined {
  if (text === undefined) return undefined;
  if (text.trim() === '?') return 'help';
  const key = normalize(text.replace(/^\s*[/#]/, ''));
  return COMMANDS[key];
}

const YES = new Set([
  'yes',
  'y',
  'yeah',
  'yep',
  'yup',
  'sure',
  'of course',
  'i accept',
  'accept',
  'i do',
  'i agree',
  'agree',
  'correct',
  'ok',
  'okay',
  'si',
  's',
  'sip',
  'claro',
  'claro que si',
  'acepto',
  'aceptar',
  'de acuerdo',
  'por supuesto',
  'correcto',
  'afirmativo',
  'vale',
  'dale',
  'confirm',
  'confirmar',
  'confirmo',
]);
const NO = new Set([
  'no',
  'n',
  'nope',
  'nah',
  'no thanks',
  'no thank you',
  'decline',
  'i decline',
  'i do not',
  'i dont',
  'i don t',
  'never',
  'no acepto',
  'no gracias',
  'rechazo',
  'negativo',
  'nunca',
  'para nada',
]);
/** Hedges that must not count as an answer even though some start with "no". */
const UNSURE = [
  'maybe',
  'perhaps',
  'not sure',
  'dont know',
  'don t know',
  'do not know',
  'depends',
  'sometimes',
  'quizas',
  'quiza',
  'tal vez',
  'a lo mejor',
  'no se',
  'no lo se',
  'depende',
  'a veces',
  'puede ser',
];
const YES_LEADS = new Set(['yes', 'yeah', 'yep', 'si', 'claro', 'sure', 'acepto']);
const NO_LEADS = new Set(['no', 'nope', 'nah', 'never', 'nunca']);

/** true / false, or undefined when the text is neither (or hedges: "maybe", "no sé"). */
export function parseYesNo(text: string | undefined): boolean | undefined {
  if (text === undefined) return undefined;
  if (/^\s*👍/u.test(text)) return true;
  if (/^\s*👎/u.test(text)) return false;
  const n = normalize(text).replace(/'/g, ' ').replace(/\s+/g, ' ');
  if (n === '') return undefined;
  const padded = ` ${n} `;
  if (UNSURE.some((phrase) => padded.includes(` ${phrase} `))) return undefined;
  if (YES.has(n)) return true;
  if (NO.has(n)) return false;
  const first = n.split(' ')[0] ?? '';
  if (YES_LEADS.has(first)) return true;
  if (NO_LEADS.has(first)) return false;
  return undefined;
}

const EMAIL =
  /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.[a-z]{2,}$/;

/** The one email address in the text ("my email is ana@x.com"), lower-cased; undefined if none or several. */
export function parseEmail(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const candidates = text
    .split(/[\s,;:<>()[\]"]+/)
    .map((w) => w.replace(/^[.'`]+|[.'`!?]+$/g, '').toLowerCase())
    .filter((w) => w.includes('@'));
  if (candidates.length !== 1) return undefined;
  const email = candidates[0]!;
  if (email.length > 254 || email.split('@')[0]!.length > 64) return undefined;
  if (email.includes('..') || email.startsWith('.') || email.includes('.@')) return undefined;
  return EMAIL.test(email) ? email : undefined;
}

const NUMBER_WORDS: Record<string, number> = {
  zero: 0,
  cero: 0,
  one: 1,
  uno: 1,
  una: 1,
  un: 1,
  two: 2,
  dos: 2,
  three: 3,
  tres: 3,
  four: 4,
  cuatro: 4,
  five: 5,
  cinco: 5,
  six: 6,
  seis: 6,
  seven: 7,
  siete: 7,
  eight: 8,
  ocho: 8,
  nine: 9,
  nueve: 9,
  ten: 10,
  diez: 10,
  none: 0,
  ninguno: 0,
  ninguna: 0,
  nada: 0,
};

/** Thousands grouping ("1.500", "1,500,000") first, then plain decimals ("2.5", "2,5"). */
const NUMBER = /-?\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*(?![\d.,]*\d)|-?\d+(?:[.,]\d+)?/g;

/** The one number in the text ("3", "2,5 años", "1.500.000", "tres"); undefined if none or several differ. */
export function parseNumber(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const matches = text.match(NUMBER);
  if (matches) {
    const values = [...new Set(matches.map(toNumber))];
    return values.length === 1 && Number.isFinite(values[0]) ? values[0] : undefined;
  }
  const words = normalize(text)
    .split(' ')
    .filter((w) => w in NUMBER_WORDS);
  const values = [...new Set(words.map((w) => NUMBER_WORDS[w]!))];
  return values.length === 1 ? values[0] : undefined;
}

function toNumber(token: string): number {
  if (/^-?\d{1,3}([.,])\d{3}(\1\d{3})*$/.test(token)) return Number(token.replace(/[.,]/g, ''));
  return Number(token.replace(',', '.'));
}

const NOT_NAMES = new Set([
  'hola',
  'hi',
  'hello',
  'hey',
  'buenas',
  'buenos dias',
  'buenas tardes',
  'buenas noches',
  'good morning',
  'good afternoon',
  'good evening',
  'gracias',
  'thanks',
  'thank you',
  'ok',
  'okay',
  'vale',
  'si',
  'yes',
  'no',
  'test',
  'prueba',
]);

export const MAX_NAME_CHARS = 80;

/** A plausible full name (letters, spaces, apostrophes, hyphens, dots), tidied; undefined otherwise. */
export function parseName(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const name = text.replace(/\s+/g, ' ').trim();
  if (name.length < 2 || name.length > MAX_NAME_CHARS) return undefined;
  if (!/^[\p{L}\p{M}' .\-’]+$/u.test(name)) return undefined;
  if ((name.match(/\p{L}/gu) ?? []).length < 2) return undefined;
  if (NOT_NAMES.has(normalize(name))) return undefined;
  return name;
}

/**
 * The option the candidate picked: a list reply id `answer.opt.<i>`, the option's number ("2"),
 * or its text (accents and case ignored). Returns the option's index.
 */
export function parseChoice(
  options: readonly string[],
  text: string | undefined,
  replyId: string | undefined,
): number | undefined {
  const fromId = replyId?.match(/^answer\.opt\.(\d+)$/);
  if (fromId) {
    const index = Number(fromId[1]);
    return index < options.length ? index : undefined;
  }
  if (text === undefined) return undefined;
  const n = normalize(text);
  const byText = options.findIndex((option) => normalize(option) === n);
  if (byText >= 0) return byText;
  if (/^\d{1,2}$/.test(n)) {
    const index = Number(n) - 1;
    return index >= 0 && index < options.length ? index : undefined;
  }
  return undefined;
}

/**
 * The first known process code that appears as a word anywhere in the text ("hola DEV1",
 * "quiero aplicar a dev-1"), case-insensitive. Codes are matched as whole tokens.
 */
export function findProcessCode(text: string | undefined, codes: readonly string[]): string | undefined {
  if (text === undefined || codes.length === 0) return undefined;
  const byUpper = new Map(codes.map((code) => [code.toUpperCase(), code]));
  const whole = text.trim().toUpperCase();
  if (byUpper.has(whole)) return byUpper.get(whole);
  for (const token of text.toUpperCase().split(/[^\p{L}\p{N}_-]+/u)) {
    const code = byUpper.get(token) ?? byUpper.get(token.replace(/^[-_]+|[-_]+$/g, ''));
    if (code !== undefined) return code;
  }
  return undefined;
}
