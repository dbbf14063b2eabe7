import { foldText } from './normalize.ts';

/** Months since year 0 (year * 12 + month index): easy to subtract. */
export type MonthIndex = number;

export interface DateRange {
  start: MonthIndex;
  /** Undefined while ongoing ("present", "actualidad"). */
  end?: MonthIndex;
  /** Offset and length of the range in the text it was found in. */
  index: number;
  length: number;
}

const MONTHS: Record<string, number> = {
  jan: 0,
  ene: 0,
  feb: 1,
  mar: 2,
  apr: 3,
  abr: 3,
  may: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  ago: 7,
  sep: 8,
  set: 8,
  oct: 9,
  nov: 10,
  dec: 11,
  dic: 11,
};
const MONTH = '(?:jan|ene|feb|mar|apr|abr|may|jun|jul|aug|ago|sep|set|oct|nov|dec|dic)[a-z]*\\.?';
const DATE = `(?:${MONTH}\\s+(?:de\\s+|del\\s+)?\\d{4}|\\d{1,2}[/.-]\\d{4}|\\d{4}[/.-]\\d{1,2}(?![\\d/.-])|\\d{4})`;
const ONGOING =
  '(?:present|current|currently|now|today|ongoing|actualidad|actual|actualmente|presente|hoy|la fecha|hasta hoy)';
const RANGE = new RegExp(
  `(?<![\\d/.-])(${DATE})\\s*(?:-|–|—|to|a|al|hasta|until|till)\\s*(${DATE}|${ONGOING})(?![\\p{L}\\p{N}])`,
  'gu',
);

/** Parses one date as written in a CV ("03/2019", "2019-03", "Mar 2019", "marzo de 2019", "2019"). */
export function parseMonth(raw: string, endOfYear = false): MonthIndex | undefined {
  const s = foldText(raw.trim());
  let m = /^(\d{1,2})[/.-](\d{4})$/.exec(s);
  if (m) return toIndex(Number(m[2]), Number(m[1]) - 1);
  m = /^(\d{4})[/.-](\d{1,2})$/.exec(s);
  if (m) return toIndex(Number(m[1]), Number(m[2]) - 1);
  m = /^([a-z]+)\.?\s+(?:de\s+|del\s+)?(\d{4})$/.exec(s);
  if (m) {
    const month = MONTHS[m[1]!.slice(0, 3)];
    return month === undefined ? undefined : toIndex(Number(m[2]), month);
  }
  m = /^(\d{4})$/.exec(s);
  if (m) return toIndex(Number(m[1]), endOfYear ? 11 : 0);
  return undefined;
}

function toIndex(year: number, month: number): MonthIndex | undefined {
  if (year < 1950 || year > 2100 || month < 0 || month > 11) return undefined;
  return year * 12 + month;
}

/** Every "start - end" date range in a text, in order. Ranges that end before they start are skipped. */
export function findDateRanges(text: string, now = new Date()): DateRange[] {
  const folded = foldText(text);
  const current = now.getUTCFullYear() * 12 + now.getUTCMonth();
  const ranges: DateRange[] = [];
  for (const match of folded.matchAll(RANGE)) {
    const start = parseMonth(match[1]!);
    const ongoing = new RegExp(`^${ONGOING}$`).test(match[2]!);
    const end = ongoing ? undefined : parseMonth(match[2]!, true);
    if (start === undefined || start > current || (!ongoing && (end === undefined || end < start))) continue;
    ranges.push({ start, ...(end !== undefined && { end }), index: match.index, length: match[0].length });
  }
  return ranges;
}

/**
 * Years covered by a set of ranges, overlaps counted once (two jobs at once are not two years), to one
 * decimal. Each range includes its end month.
 */
export function yearsCovered(ranges: { start: MonthIndex; end?: MonthIndex }[], now = new Date()): number {
  const current = now.getUTCFullYear() * 12 + now.getUTCMonth();
  const spans = ranges
    .map((r) => [r.start, Math.min(r.end ?? current, current) + 1] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let months = 0;
  let reach = Number.NEGATIVE_INFINITY;
  for (const [a, b] of spans) {
    if (b <= reach) continue;
    months += b - Math.max(a, reach);
    reach = b;
  }
  return Math.round((months / 12) * 10) / 10;
}

export function formatMonth(index: MonthIndex): string {
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;
}
