import type { ApplicationStatus } from '../db/schema.ts';

export const APPLICATION_STATUSES: readonly ApplicationStatus[] = [
  'in_progress',
  'submitted',
  'shortlisted',
  'review',
  'rejected',
  'interview',
  'offer',
  'hired',
  'withdrawn',
];

/** Statuses a recruiter may set through the admin API. */
export const RECRUITER_DECISIONS = ['shortlisted', 'review', 'interview', 'offer', 'hired', 'rejected'] as const;
export type RecruiterDecision = (typeof RECRUITER_DECISIONS)[number];

/** Decisions the candidate hears about on WhatsApp. */
export const CANDIDATE_NOTIFIED: readonly ApplicationStatus[] = ['interview', 'offer', 'hired', 'rejected'];

export type Actor = 'system' | 'recruiter' | 'candidate';

/**
 * Who may move an application from one status to another. The system scores a submitted application;
 * recruiters decide from there (and may reconsider a rejection); the candidate may withdraw until hired.
 */
const TRANSITIONS: Record<ApplicationStatus, Partial<Record<ApplicationStatus, readonly Actor[]>>> = {
  in_progress: { submitted: ['system'], withdrawn: ['candidate'] },
  submitted: {
    shortlisted: ['system', 'recruiter'],
    review: ['system', 'recruiter'],
    rejected: ['system', 'recruiter'],
    interview: ['recruiter'],
    withdrawn: ['candidate'],
  },
  shortlisted: { review: ['recruiter'], interview: ['recruiter'], rejected: ['recruiter'], withdrawn: ['candidate'] },
  review: { shortlisted: ['recruiter'], interview: ['recruiter'], rejected: ['recruiter'], withdrawn: ['candidate'] },
  interview: { offer: ['recruiter'], rejected: ['recruiter'], withdrawn: ['candidate'] },
  offer: { hired: ['recruiter'], rejected: ['recruiter'], withdrawn: ['candidate'] },
  rejected: { review: ['recruiter'] },
  hired: {},
  withdrawn: {},
};

export function canTransition(from: ApplicationStatus, to: ApplicationStatus, actor: Actor): boolean {
  return TRANSITIONS[from][to]?.includes(actor) ?? false;
}

/** The statuses `actor` may move an application to from `from` (for 409 answers). */
export function allowedTransitions(from: ApplicationStatus, actor: Actor): ApplicationStatus[] {
  return Object.entries(TRANSITIONS[from])
    .filter(([, actors]) => actors?.includes(actor))
    .map(([to]) => to as ApplicationStatus);
}

/** A finished application is one the conversation must not restart by accident. */
export function isFinished(status: ApplicationStatus): boolean {
  return status !== 'in_progress';
}
