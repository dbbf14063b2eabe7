import { normalize } from './parse.ts';
import type { Locale } from './types.ts';

/** Calling codes (without "+") by language; the longest matching prefix wins (+1 787 is Puerto Rico). */
const SPANISH_PREFIXES = [
  '34', // Spain
  '52', // Mexico
  '53', // Cuba
  '54', // Argentina
  '56', // Chile
  '57', // Colombia
  '58', // Venezuela
  '51', // Peru
  '591', // Bolivia
  '593', // Ecuador
  '595', // Paraguay
  '598', // Uruguay
  '502', // Guatemala
  '503', // El Salvador
  '504', // Honduras
  '505', // Nicaragua
  '506', // Costa Rica
  '507', // Panama
  '240', // Equatorial Guinea
  '1787', // Puerto Rico
  '1939',
  '1809', // Dominican Republic
  '1829',
  '1849',
];
const ENGLISH_PREFIXES = [
  '1', // US, Canada, most of the Caribbean
  '44', // UK
  '61', // Australia
  '64', // New Zealand
  '353', // Ireland
  '27', // South Africa
  '234', // Nigeria
  '254', // Kenya
  '233', // Ghana
  '256', // Uganda
  '263', // Zimbabwe
  '65', // Singapore
  '63', // Philippines
];
const PREFIXES: [string, Locale][] = [
  ...SPANISH_PREFIXES.map((p): [string, Locale] => [p, 'es']),
  ...ENGLISH_PREFIXES.map((p): [string, Locale] => [p, 'en']),
].sort((a, b) => b[0].length - a[0].length);

/** The language most people with this phone number speak, when the country tells (E.164 with "+"). */
export function localeFromPhone(phone: string): Locale | undefined {
  const digits = phone.replace(/\D/g, '');
  return PREFIXES.find(([prefix]) => digits.startsWith(prefix))?.[1];
}

const SPANISH_WORDS = new Set(
  'hola buenas buenos dias tardes noches quiero quisiera postular postularme aplicar trabajo empleo vacante vacantes puesto gracias informacion busco hay para como estas saludos que soy tengo me mi el la los las una por favor oferta ofertas'.split(
    ' ',
  ),
);
const ENGLISH_WORDS = new Set(
  'hi hello hey good morning afternoon evening want would like apply job jobs work position thanks thank please information looking there how are you greetings the i my is am have for an offer openings opening'.split(
    ' ',
  ),
);

/** The language a message is written in, when its words say so clearly; undefined for "ok", "DEV1"... */
export function localeFromText(text: string | undefined): Locale | undefined {
  if (!text) return undefined;
  let es = 0;
  let en = 0;
  for (const word of normalize(text).split(' ')) {
    if (SPANISH_WORDS.has(word)) es++;
    if (ENGLISH_WORDS.has(word)) en++;
  }
  if (es > en) return 'es';
  if (en > es) return 'en';
  return undefined;
}

export function asLocale(value: string | null | undefined): Locale | undefined {
  return value === 'es' || value === 'en' ? value : undefined;
}

/** First contact: the words of the first message, then the phone's country, then what we knew, then the default. */
export function detectLocale(input: {
  phone: string;
  text?: string;
  known?: string | null;
  defaultLocale: Locale;
}): Locale {
  return localeFromText(input.text) ?? localeFromPhone(input.phone) ?? asLocale(input.known) ?? input.defaultLocale;
}
