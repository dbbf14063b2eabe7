import { parseMonth, yearsCovered } from './dates.ts';
import { foldText } from './normalize.ts';
import type { CvExtraction, CvProfile, CvSkill } from './profile.ts';
import { findTerm, languageTerm, quoteAround, sameSkill, skillTerm } from './terms.ts';

const MAX_EVIDENCE = 3;
const MAX_SUMMARY = 600;
const EMAIL = /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g;

export interface Grounded {
  profile: CvProfile;
  /** What the analyzer returned that the CV does not support (dropped). */
  dropped: { skills: string[]; languages: string[] };
}

/**
 * Holds an analyzer's output to the CV text: a skill or language the text never mentions is dropped, evidence
 * quotes that are not in the text are replaced by real ones, role dates whose year is not in the text are
 * cleared, and a total of years that neither the text states nor the roles' dates support is recomputed
 * from those dates. Deterministic: the same text and output give the same profile.
 */
export function groundProfile(extraction: CvExtraction, text: string, now = new Date()): Grounded {
  const folded = foldText(text);
  const flat = squashSpaces(folded);
  const dropped: Grounded['dropped'] = { skills: [], languages: [] };

  const skills: CvSkill[] = [];
  for (const skill of extraction.skills) {
    const at = findTerm(folded, skillTerm(skill.name));
    if (at < 0) {
      dropped.skills.push(skill.name);
      continue;
    }
    if (skills.some((s) => sameSkill(s.name, skill.name))) continue;
    const quotes = skill.evidence.filter((q) => q.trim() && flat.includes(squashSpaces(foldText(q))));
    skills.push({
      name: skill.name.trim(),
      evidence: quotes.length ? quotes.slice(0, MAX_EVIDENCE) : [quoteAround(text, at)],
    });
  }

  const languages: CvExtraction['languages'] = [];
  for (const language of extraction.languages) {
    const term = languageTerm(language.name);
    if (findTerm(folded, term) < 0) {
      dropped.languages.push(language.name);
      continue;
    }
    if (languages.some((l) => languageTerm(l.name).canonical === term.canonical)) continue;
    languages.push({ name: term.canonical, level: language.level });
  }

  const yearInText = (raw: string | null) => {
    const year = raw?.match(/\d{4}/)?.[0];
    return year !== undefined && new RegExp(`(?<!\\d)${year}(?!\\d)`).test(text) && parseMonth(raw!) !== undefined;
  };
  const roles = extraction.roles
    .filter((r) => r.title.trim())
    .map((r) => ({
      title: r.title.trim(),
      organization: r.organization?.trim() || null,
      start: yearInText(r.start) ? r.start : null,
      end: yearInText(r.end) ? r.end : null,
      current: r.current,
    }));

  return {
    profile: {
      summary: extraction.summary?.trim().slice(0, MAX_SUMMARY) || null,
      location: groundLocation(extraction.location, flat),
      totalYearsExperience: groundYears(extraction.totalYearsExperience, roles, folded, now),
      skills,
      roles,
      education: extraction.education.filter((e) => e.degree.trim()),
      languages,
      emails: findEmails(text),
    },
    dropped,
  };
}

/** Adds the process's required skills that the CV mentions but the analyzer did not list. */
export function addRequiredSkills(profile: CvProfile, text: string, required: string[]): CvProfile {
  const folded = foldText(text);
  const added: CvSkill[] = [];
  for (const name of required) {
    if ([...profile.skills, ...added].some((s) => sameSkill(s.name, name))) continue;
    const at = findTerm(folded, skillTerm(name));
    if (at >= 0) added.push({ name, evidence: [quoteAround(text, at)] });
  }
  return added.length ? { ...profile, skills: [...profile.skills, ...added] } : profile;
}

export function findEmails(text: string): string[] {
  return [...new Set(text.match(EMAIL) ?? [])].slice(0, 5);
}

function groundLocation(location: string | null, flatFolded: string): string | null {
  const value = location?.trim();
  if (!value) return null;
  const parts = value.split(/[,;/]/).map((p) => squashSpaces(foldText(p)).trim());
  return parts.some((p) => p.length > 1 && flatFolded.includes(p)) ? value : null;
}

function groundYears(
  stated: number | null,
  roles: { start: string | null; end: string | null; current: boolean }[],
  folded: string,
  now: Date,
): number | null {
  const ranges = roles.flatMap((r) => {
    const start = r.start ? parseMonth(r.start) : undefined;
    const end = r.end ? parseMonth(r.end, true) : undefined;
    if (start === undefined || (end === undefined && !r.current)) return [];
    return [{ start, ...(end !== undefined && { end }) }];
  });
  const derived = ranges.length ? yearsCovered(ranges, now) : null;
  if (stated === null || !Number.isFinite(stated) || stated < 0 || stated > 60) return derived;
  if (derived !== null && Math.abs(stated - derived) <= 1) return stated;
  const whole = Math.floor(stated);
  const statedInText = new RegExp(`(?<!\\d)${whole}\\+?\\s*(years|yrs|anos|ano)\\b`).test(folded);
  return statedInText ? stated : derived;
}

function squashSpaces(s: string): string {
  return s.replace(/\s+/g, ' ');
}
