import { type DateRange, findDateRanges, formatMonth, yearsCovered } from './dates.ts';
import { findEmails } from './grounding.ts';
import { foldText } from './normalize.ts';
import type { CvAnalyzer, CvProfile, CvSkill } from './profile.ts';
import { findTerm, languageTerms, quoteAround, sameSkill, skillTerm, skillTerms } from './terms.ts';

const EDUCATION =
  /\b(bsc|msc|b\.sc|m\.sc|ba|ma|mba|phd|bachelor|master|degree|diploma|grado|licenciad[oa]|licenciatura|ingenier[oa]|ingenieria|diplomatura|doctorado|doctor|maste?r|university|universidad|college|fp|ciclo formativo|bachillerato|tecnico superior)\b/;
const LEVEL =
  /^[\s:(,-]*(native|nativ[oa]|bilingual|bilingue|mother tongue|lengua materna|fluent|fluido|advanced|avanzado|intermediate|intermedio|basic|basico|elementary|professional|profesional|[abc][12])\b/;
const LOCATION = /^(?:location|ubicacion|localidad|residencia|ciudad|city|address|direccion)\s*:\s*(.+)$/m;

/**
 * The embedded default analyzer (no API key): dictionary skills plus the process's own required skills,
 * years from date ranges, languages with their level, education lines and emails. Deterministic, local,
 * instant; weaker than a model, but every fact it reports has a quote in the CV.
 */
export function createOfflineAnalyzer(options: { now?: () => Date } = {}): CvAnalyzer {
  const now = options.now ?? (() => new Date());
  return {
    kind: 'offline',
    model: 'heuristic-v1',
    usesHints: true,
    async analyze(text, hints) {
      return analyzeOffline(text, hints.skills, now());
    },
  };
}

function analyzeOffline(text: string, hintSkills: string[], now: Date): CvProfile {
  const folded = foldText(text);
  const skills: CvSkill[] = [];
  const addSkill = (name: string, at: number) => {
    if (at >= 0 && !skills.some((s) => sameSkill(s.name, name))) {
      skills.push({ name, evidence: [quoteAround(text, at)] });
    }
  };
  for (const term of skillTerms) addSkill(term.canonical, findTerm(folded, term, true));
  for (const hint of hintSkills) addSkill(hint, findTerm(folded, skillTerm(hint)));

  const languages = languageTerms.flatMap((term) => {
    const at = findTerm(folded, term);
    if (at < 0) return [];
    const form = term.forms.find((f) => folded.startsWith(f, at)) ?? '';
    const level = LEVEL.exec(folded.slice(at + form.length, at + form.length + 30))?.[1];
    return [{ name: term.canonical, level: level ? levelAsWritten(text, folded, level, at) : null }];
  });

  const ranges = findDateRanges(text, now).filter((r) => !EDUCATION.test(lineAt(folded, r.index)));
  const roles = ranges.map((r) => toRole(text, r));
  const years = ranges.length ? yearsCovered(ranges, now) : null;

  const education = folded
    .split('\n')
    .map((line, i) => ({ line, original: text.split('\n')[i] ?? '' }))
    .filter(({ line }) => EDUCATION.test(line) && line.length <= 200)
    .slice(0, 5)
    .map(({ original }) => {
      const year = original.match(/(?<!\d)(19[5-9]\d|20\d\d)(?!\d)/g)?.pop();
      return { degree: original.trim(), institution: null, year: year ? Number(year) : null };
    });

  const location = LOCATION.exec(folded);
  const summary = [
    years !== null ? `${years} years in dated roles` : null,
    skills.length ? `skills: ${skills.map((s) => s.name).join(', ')}` : null,
    languages.length ? `languages: ${languages.map((l) => l.name).join(', ')}` : null,
  ]
    .filter(Boolean)
    .join('; ');

  return {
    summary: summary ? `Offline analysis: ${summary}.` : null,
    location: location
      ? text
          .slice(location.index, location.index + location[0].length)
          .split(':')[1]!
          .trim()
      : null,
    totalYearsExperience: years,
    skills,
    roles,
    education,
    languages,
    emails: findEmails(text),
  };
}

function lineAt(text: string, index: number): string {
  const start = text.lastIndexOf('\n', index) + 1;
  const end = text.indexOf('\n', index);
  return text.slice(start, end < 0 ? text.length : end);
}

function toRole(text: string, range: DateRange) {
  const line = lineAt(text, range.index);
  const lineStart = text.lastIndexOf('\n', range.index) + 1;
  const at = range.index - lineStart;
  let rest = (line.slice(0, at) + ' ' + line.slice(at + range.length)).replace(/^[\s,;:|()–—-]+|[\s,;:|()–—-]+$/g, '');
  if (!rest) rest = text.slice(0, lineStart).trimEnd().split('\n').pop()?.trim() ?? '';
  const [title, organization] = rest.split(/\s*(?:,|\s@\s|\sat\s|\sen\s|\s\|\s|\s[–—-]\s)\s*/, 2);
  return {
    title: (title || rest).slice(0, 120),
    organization: organization?.slice(0, 120) || null,
    start: formatMonth(range.start),
    end: range.end !== undefined ? formatMonth(range.end) : null,
    current: range.end === undefined,
  };
}

/** The level as the CV writes it (folded text lost the accents). */
function levelAsWritten(text: string, folded: string, level: string, from: number): string {
  const at = folded.indexOf(level, from);
  return at < 0 ? level : text.slice(at, at + level.length);
}
