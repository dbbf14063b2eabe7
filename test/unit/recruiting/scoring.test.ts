import { describe, expect, test } from 'vitest';
import { type CvProfile, emptyProfile } from '../../../src/cv/profile.ts';
import type { Question, Requirements, Thresholds } from '../../../src/db/schema.ts';
import { type ScoreInput, type ScreeningDecision, scoreApplication } from '../../../src/recruiting/scoring.ts';

const profile: CvProfile = {
  ...emptyProfile(),
  totalYearsExperience: 6,
  skills: [
    { name: 'TypeScript', evidence: ['TypeScript services'] },
    { name: 'Postgres', evidence: ['on PostgreSQL'] },
  ],
  roles: [{ title: 'Engineer', organization: null, start: '2019-01', end: null, current: true }],
  languages: [
    { name: 'English', level: 'B2' },
    { name: 'Spanish', level: 'nativo' },
  ],
};

const questions: Question[] = [
  { id: 'permit', text: 'Do you have a work permit?', type: 'yes_no', knockout: true },
  { id: 'relocate', text: 'Would you need relocation?', type: 'yes_no', knockout: 'yes' },
  { id: 'years', text: 'Years with Node.js?', type: 'number', min: 2, knockout: true },
  { id: 'shift', text: 'Preferred shift', type: 'choice', options: ['day', 'night', 'none'], knockout: ['none'] },
  { id: 'about', text: 'Tell us about you', type: 'text' },
];
const goodAnswers = { permit: 'sí', relocate: 'no', years: 4, shift: 'day', about: 'hi' };
const thresholds: Thresholds = { shortlist: 70, reject: 40 };

function score(overrides: Partial<ScoreInput> = {}) {
  return scoreApplication({
    profile,
    flags: [],
    requirements: { skills: ['TypeScript', 'PostgreSQL'], minYears: 5, languages: ['English'] },
    questions,
    answers: goodAnswers,
    thresholds,
    ...overrides,
  });
}

describe('scoreApplication', () => {
  test('explains every point: weights add up to 100, the score is the sum of the met ones', () => {
    const result = score({ requirements: { skills: ['TypeScript', 'PostgreSQL', 'Kubernetes'], minYears: 5 } });
    expect(result.breakdown.reduce((s, c) => s + c.weight, 0)).toBe(100);
    expect(result.score).toBe(result.breakdown.filter((c) => c.met).reduce((s, c) => s + c.weight, 0));
    expect(result.breakdown.find((c) => c.criterion === 'Skill: PostgreSQL')).toMatchObject({
      met: true,
      evidence: '"on PostgreSQL"',
    });
    expect(result.breakdown.find((c) => c.criterion === 'Skill: Kubernetes')).toMatchObject({
      met: false,
      evidence: 'not found in the CV',
    });
    expect(result.breakdown.find((c) => c.kind === 'years')?.evidence).toBe('6 years (Engineer 2019-01–present)');
    // Text answers and questions without an acceptable answer are not criteria.
    expect(result.breakdown.map((c) => c.criterion)).not.toContain('Answer: Tell us about you');
  });

  test.each<[string, Partial<ScoreInput>, number, ScreeningDecision]>([
    ['everything met', {}, 100, 'shortlisted'],
    [
      'one of two skills',
      { requirements: { skills: ['TypeScript', 'Go'], minYears: 5, languages: ['English'] } },
      75,
      'shortlisted',
    ],
    ['no skills met', { requirements: { skills: ['Go', 'Rust'], minYears: 5, languages: ['English'] } }, 50, 'review'],
    ['too few years', { requirements: { skills: ['TypeScript'], minYears: 10 } }, 76, 'shortlisted'],
    [
      'language level too low',
      { requirements: { skills: [], languages: ['English C1', 'Spanish'] } },
      75,
      'shortlisted',
    ],
    ['language level high enough', { requirements: { skills: [], languages: ['English (B1)'] } }, 100, 'shortlisted'],
    [
      'nothing met',
      { profile: emptyProfile(), requirements: { skills: ['Go'], minYears: 3, languages: ['German'] } },
      15,
      'rejected',
    ],
    ['a missing answer', { answers: { ...goodAnswers, years: undefined } }, 96, 'shortlisted'],
    ['a knockout number below its minimum', { answers: { ...goodAnswers, years: 1 } }, 96, 'rejected'],
    [
      'custom thresholds',
      { requirements: { skills: ['TypeScript', 'Go'] }, thresholds: { shortlist: 90, reject: 10 } },
      62,
      'review',
    ],
  ])('%s', (_name, overrides, expectedScore, expectedDecision) => {
    const result = score(overrides);
    expect(result.score).toBe(expectedScore);
    expect(result.decision).toBe(expectedDecision);
  });

  test.each<[string, Record<string, unknown>, string]>([
    ['answering no to a yes-required question', { ...goodAnswers, permit: 'no' }, 'permit'],
    ['the rejecting yes', { ...goodAnswers, relocate: 'answer.yes' }, 'relocate'],
    ['a number below the knockout minimum', { ...goodAnswers, years: '1' }, 'years'],
    ['a rejecting choice', { ...goodAnswers, shift: 'None' }, 'shift'],
    ['a boolean false', { ...goodAnswers, permit: false }, 'permit'],
  ])('knockout: %s rejects whatever the score', (_name, answers, questionId) => {
    const result = score({ answers });
    expect(result.decision).toBe('rejected');
    expect(result.knockout?.questionId).toBe(questionId);
    expect(result.score).toBeGreaterThan(thresholds.shortlist);
    expect(result.reasons[0]).toMatch(/^knockout answer/);
  });

  test('an unanswered knockout question does not reject', () => {
    const result = score({ answers: { ...goodAnswers, permit: undefined } });
    expect(result.knockout).toBeUndefined();
    expect(result.breakdown.find((c) => c.criterion === 'Answer: Do you have a work permit?')?.met).toBe(false);
  });

  test('a flagged CV keeps its score but goes to a person instead of the shortlist', () => {
    const clean = score();
    const flagged = score({ flags: [{ kind: 'prompt_injection', excerpt: 'ignore previous instructions' }] });
    expect(flagged.score).toBe(clean.score);
    expect(clean.decision).toBe('shortlisted');
    expect(flagged.decision).toBe('review');
  });

  test('a process without criteria is left to review', () => {
    const result = score({ requirements: { skills: [] } as Requirements, questions: [] });
    expect(result).toMatchObject({ score: 0, breakdown: [], decision: 'review' });
  });

  test('thresholds are inclusive at the shortlist and exclusive at the rejection', () => {
    const base = { requirements: { skills: ['TypeScript', 'Go'] }, questions: [] as Question[] };
    expect(score({ ...base, thresholds: { shortlist: 50, reject: 10 } }).decision).toBe('shortlisted');
    expect(score({ ...base, thresholds: { shortlist: 80, reject: 50 } }).decision).toBe('review');
    expect(score({ ...base, thresholds: { shortlist: 80, reject: 51 } }).decision).toBe('rejected');
  });
});
