import { describe, expect, test } from 'vitest';
import type { ApplicationStatus } from '../../../src/db/schema.ts';
import { type Actor, allowedTransitions, canTransition, isFinished } from '../../../src/recruiting/status.ts';

describe('application status rules', () => {
  test.each<[ApplicationStatus, ApplicationStatus, Actor, boolean]>([
    ['in_progress', 'submitted', 'system', true],
    ['in_progress', 'submitted', 'recruiter', false],
    ['in_progress', 'interview', 'recruiter', false],
    ['submitted', 'shortlisted', 'system', true],
    ['submitted', 'rejected', 'system', true],
    ['shortlisted', 'interview', 'recruiter', true],
    ['shortlisted', 'hired', 'recruiter', false],
    ['interview', 'offer', 'recruiter', true],
    ['offer', 'hired', 'recruiter', true],
    ['offer', 'withdrawn', 'candidate', true],
    ['hired', 'withdrawn', 'candidate', false],
    ['rejected', 'review', 'recruiter', true],
    ['rejected', 'interview', 'recruiter', false],
    ['withdrawn', 'review', 'recruiter', false],
  ])('%s -> %s by %s: %s', (from, to, actor, expected) => {
    expect(canTransition(from, to, actor)).toBe(expected);
  });

  test('allowed transitions list what a recruiter may do next', () => {
    expect(allowedTransitions('interview', 'recruiter').sort()).toEqual(['offer', 'rejected']);
    expect(allowedTransitions('hired', 'recruiter')).toEqual([]);
  });

  test('only in_progress is unfinished', () => {
    expect(isFinished('in_progress')).toBe(false);
    expect(isFinished('submitted')).toBe(true);
  });
});
