import type { AnalysisFlag, CvProfile } from '../cv/profile.ts';
import { languageTerm, sameLanguage, sameSkill } from '../cv/terms.ts';
import type { Question, Requirements, Thresholds } from '../db/schema.ts';

export type ScreeningDecision = 'shortlisted' | 'review' | 'rejected';

/** One line of the explanation: the score is the sum of the weights of the criteria met. */
export interface Criterion {
  criterion: string;
  kind: 'skill' | 'years' | 'language' | 'question';
  /** Points this criterion is worth; all weights add up to 100. */
  weight: number;
  met: boolean;
  evidence: string;
}

export interface Knockout {
  questionId: string;
  question: string;
  answer: unknown;
}

export interface ScoreResult {
  score: number;
  breakdown: Criterion[];
  decision: ScreeningDecision;
  /** Set when a knockout answer rejected the application (whatever the score). */
  knockout?: Knockout;
  /** Why the decision is what it is, in order of precedence. */
  reasons: string[];
}

export interface ScoreInput {
  profile: CvProfile;
  flags?: AnalysisFlag[];
  requirements: Requirements;
  questions: Question[];
  answers: Record<string, unknown>;
  thresholds: Thresholds;
}

/** How the 100 points are split between groups of criteria; groups a process does not use give theirs away. */
export const GROUP_WEIGHTS = { skill: 50, years: 20, language: 15, question: 15 } as const;

/**
 * Scores an application against its process: required skills, minimum years and languages from the CV
 * profile, and the screening answers that define an acceptable answer. Pure and deterministic; every point
 * is explained by a criterion with its evidence. A knockout answer rejects whatever the score; a flagged
 * CV (instructions to the model, hidden text) is never shortlisted automatically: a person reviews it.
 */
export function scoreApplication(input: ScoreInput): ScoreResult {
  const drafts: Omit<Criterion, 'weight'>[] = [
    ...input.requirements.skills.filter((s) => s.trim()).map((skill) => skillCriterion(input.profile, skill)),
    ...(input.requirements.minYears ? [yearsCriterion(input.profile, input.requirements.minYears)] : []),
    ...(input.requirements.languages ?? []).filter((l) => l.trim()).map((l) => languageCriterion(input.profile, l)),
    ...input.questions.flatMap((q) => questionCriterion(q, input.answers[q.id])),
  ];
  const breakdown = assignWeights(drafts);
  const score = breakdown.reduce((sum, c) => sum + (c.met ? c.weight : 0), 0);

  const knockout = findKnockout(input.questions, input.answers);
  const flagged = (input.flags ?? []).length > 0;
  const { shortlist, reject } = input.thresholds;
  const reasons: string[] = [];
  let decision: ScreeningDecision;
  if (knockout) {
    decision = 'rejected';
    reasons.push(`knockout answer to "${knockout.question}"`);
  } else if (breakdown.length === 0) {
    decision = 'review';
    reasons.push('the process defines no criteria to score');
  } else if (score < reject) {
    decision = 'rejected';
    reasons.push(`score ${score} is below the rejection threshold ${reject}`);
  } else if (score >= shortlist && flagged) {
    decision = 'review';
    reasons.push(`score ${score} reaches the shortlist threshold ${shortlist}, but the CV is flagged for review`);
  } else if (score >= shortlist) {
    decision = 'shortlisted';
    reasons.push(`score ${score} reaches the shortlist threshold ${shortlist}`);
  } else {
    decision = 'review';
    reasons.push(`score ${score} is between the thresholds ${reject} and ${shortlist}`);
  }
  return { score, breakdown, decision, ...(knockout && { knockout }), reasons };
}

function skillCriterion(profile: CvProfile, skill: string): Omit<Criterion, 'weight'> {
  const found = profile.skills.find((s) => sameSkill(s.name, skill));
  return {
    criterion: `Skill: ${skill}`,
    kind: 'skill',
    met: Boolean(found),
    evidence: found ? `"${found.evidence[0] ?? found.name}"` : 'not found in the CV',
  };
}

function yearsCriterion(profile: CvProfile, minYears: number): Omit<Criterion, 'weight'> {
  const years = profile.totalYearsExperience;
  const dated = profile.roles.filter((r) => r.start);
  const roles = dated
    .slice(0, 3)
    .map((r) => `${r.title} ${r.start}–${r.current ? 'present' : (r.end ?? '?')}`)
    .join('; ');
  return {
    criterion: `At least ${minYears} years of experience`,
    kind: 'years',
    met: years !== null && years >= minYears,
    evidence:
      years === null
        ? 'years of experience not stated and no dated roles found'
        : `${years} years${roles ? ` (${roles}${dated.length > 3 ? '; …' : ''})` : ''}`,
  };
}

const CEFR = ['a1', 'a2', 'b1', 'b2', 'c1', 'c2'];
const LEVEL_WORDS: Record<string, number> = {
  native: 6,
  nativo: 6,
  nativa: 6,
  bilingual: 6,
  bilingue: 6,
  'mother tongue': 6,
  'lengua materna': 6,
  fluent: 5,
  fluido: 5,
  proficient: 5,
  advanced: 5,
  avanzado: 5,
  professional: 4,
  profesional: 4,
  intermediate: 3,
  intermedio: 3,
  basic: 1,
  basico: 1,
  elementary: 1,
};

/** A level as a rank from 1 (A1) to 6 (C2/native); undefined when not stated or not understood. */
function levelRank(level: string | null | undefined): number | undefined {
  if (!level) return undefined;
  const folded = level.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().trim();
  const cefr = /\b([abc][12])\b/.exec(folded)?.[1];
  if (cefr) return CEFR.indexOf(cefr) + 1;
  return Object.entries(LEVEL_WORDS).find(([word]) => folded.includes(word))?.[1];
}

function languageCriterion(profile: CvProfile, requirement: string): Omit<Criterion, 'weight'> {
  // "English" or "English B2": a language and an optional minimum level.
  const match = /^(.*?)(?:\s+\(?([abc][12])\)?)?$/i.exec(requirement.trim());
  const name = match?.[1]?.trim() || requirement.trim();
  const minLevel = levelRank(match?.[2]);
  const found = profile.languages.find((l) => sameLanguage(l.name, name));
  const label = `Language: ${requirement.trim()}`;
  if (!found) return { criterion: label, kind: 'language', met: false, evidence: 'not found in the CV' };
  const stated = `${languageTerm(found.name).canonical}${found.level ? ` (${found.level})` : ''}`;
  if (minLevel === undefined) return { criterion: label, kind: 'language', met: true, evidence: stated };
  const rank = levelRank(found.level);
  return {
    criterion: label,
    kind: 'language',
    met: rank !== undefined && rank >= minLevel,
    evidence: rank === undefined ? `${stated}: level not stated` : stated,
  };
}

/** Criteria from screening questions that define an acceptable answer (a minimum, or knockout answers). */
function questionCriterion(question: Question, answer: unknown): Omit<Criterion, 'weight'>[] {
  const base = { criterion: `Answer: ${question.text}`, kind: 'question' as const };
  const shown =
    answer === undefined || answer === null || answer === '' ? 'not answered' : `answered "${String(answer)}"`;
  if (question.type === 'number' && (question.min !== undefined || question.max !== undefined)) {
    const value = toNumber(answer);
    const met =
      value !== undefined &&
      (question.min === undefined || value >= question.min) &&
      (question.max === undefined || value <= question.max);
    return [{ ...base, met, evidence: shown }];
  }
  if (knockoutAnswers(question).length > 0) {
    const rejected = isKnockout(question, answer);
    const answered = shown !== 'not answered';
    return [{ ...base, met: answered && !rejected, evidence: shown }];
  }
  return [];
}

/** The answers that reject, for yes_no and choice questions. */
function knockoutAnswers(question: Question): string[] {
  const k = question.knockout;
  if (k === undefined || k === false) return [];
  if (question.type === 'yes_no') {
    // `true` means the question is one a suitable candidate answers yes to ("Do you have a work permit?").
    if (k === true) return ['no'];
    return (Array.isArray(k) ? k : [k]).map((v) => yesNo(v)).filter((v): v is 'yes' | 'no' => v !== undefined);
  }
  if (question.type === 'choice' && k !== true) return (Array.isArray(k) ? k : [k]).map(foldAnswer);
  return [];
}

function isKnockout(question: Question, answer: unknown): boolean {
  if (answer === undefined || answer === null || answer === '') return false;
  if (question.type === 'number') {
    const value = toNumber(answer);
    return Boolean(question.knockout) && question.min !== undefined && value !== undefined && value < question.min;
  }
  const rejecting = knockoutAnswers(question);
  if (question.type === 'yes_no') {
    const value = yesNo(answer);
    return value !== undefined && rejecting.includes(value);
  }
  return rejecting.includes(foldAnswer(String(answer)));
}

function findKnockout(questions: Question[], answers: Record<string, unknown>): Knockout | undefined {
  for (const question of questions) {
    const answer = answers[question.id];
    if (isKnockout(question, answer)) return { questionId: question.id, question: question.text, answer };
  }
  return undefined;
}

function yesNo(value: unknown): 'yes' | 'no' | undefined {
  if (value === true) return 'yes';
  if (value === false) return 'no';
  if (typeof value !== 'string') return undefined;
  const v = foldAnswer(value);
  if (['yes', 'y', 'si', 's', 'true', 'answer.yes'].includes(v)) return 'yes';
  if (['no', 'n', 'false', 'answer.no'].includes(v)) return 'no';
  return undefined;
}

function toNumber(value: unknown): number | undefined {
  const n =
    typeof value === 'number' ? value : typeof value === 'string' ? Number(value.replace(',', '.')) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}

function foldAnswer(value: string): string {
  return value.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().trim();
}

/**
 * Integer weights adding up to exactly 100: each group present gets its share of GROUP_WEIGHTS (scaled up
 * when other groups are absent), split evenly between its criteria; rounding by largest remainder.
 */
function assignWeights(drafts: Omit<Criterion, 'weight'>[]): Criterion[] {
  if (drafts.length === 0) return [];
  const counts = new Map<Criterion['kind'], number>();
  for (const d of drafts) counts.set(d.kind, (counts.get(d.kind) ?? 0) + 1);
  const groupTotal = [...counts.keys()].reduce((sum, kind) => sum + GROUP_WEIGHTS[kind], 0);
  const exact = drafts.map((d) => (100 * GROUP_WEIGHTS[d.kind]) / groupTotal / counts.get(d.kind)!);
  const weights = exact.map(Math.floor);
  let left = 100 - weights.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left-- <= 0) break;
    weights[i]! += 1;
  }
  return drafts.map((d, i) => ({ ...d, weight: weights[i]! }));
}
