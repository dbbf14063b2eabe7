import { createHash } from 'node:crypto';

// Zero-width and bidi control characters: invisible to a reader, a classic way to hide or split words.
const INVISIBLE = /[\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;
// C0/C1 control characters except tab and newline.
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;

/**
 * The canonical form of a CV's text, used for storage, analysis and the content hash: NFC, no invisible or
 * control characters, unified line ends, runs of spaces collapsed, at most one blank line in a row.
 * The same CV pasted, sent as TXT or re-sent gives the same string (and so the same hash).
 */
export function normalizeCvText(text: string): string {
  return text
    .normalize('NFC')
    .replace(/\r\n?/g, '\n')
    .replace(/[\f\v\u2028\u2029\u0085]/g, '\n')
    .replace(INVISIBLE, '')
    .replace(CONTROL, '')
    .replace(/[^\S\n]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Cuts text to at most `max` UTF-16 units without splitting a surrogate pair. */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Lower case, accents removed, for matching words however they were typed. Keeps the length (character by
 * character), so a match's offsets also point into the original text.
 */
export function foldText(text: string): string {
  // Lower-case ASCII in one go (same length); only the other characters need folding one by one.
  return text.replace(/[A-Z]+|[^ -~\t\n\r]/g, (m) => (m.charCodeAt(0) < 0x80 ? m.toLowerCase() : foldChar(m)));
}

function foldChar(ch: string): string {
  const bare = ch.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
  if (bare.length === ch.length) return bare;
  const lower = ch.toLowerCase();
  return lower.length === ch.length ? lower : ch;
}

/** The CV's identity: sha256 of its normalized text (what CvAnalysis.cvHash holds; store it as cv_hash). */
export function hashCvText(text: string): string {
  return sha256Hex(normalizeCvText(text));
}
