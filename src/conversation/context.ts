import type { ApplicationRepository } from '../recruiting/applications.ts';
import type { CandidateRow } from '../recruiting/candidates.ts';
import type { Context, CurrentApplication, Locale, OpenProcess } from './types.ts';

type ApplicationRows = Awaited<ReturnType<ApplicationRepository['listForPhone']>>;

/** Everything the machine may know about this phone, from what the turn read. */
export function buildContext(input: {
  phone: string;
  now: Date;
  defaultLocale: Locale;
  openProcesses: OpenProcess[];
  candidate: CandidateRow | undefined;
  rows: ApplicationRows;
}): Context {
  const { phone, now, defaultLocale, openProcesses, candidate, rows } = input;
  if (!candidate) return { now, phone, defaultLocale, openProcesses, applications: [] };
  // Oldest first: the machine treats the last finished application as the latest.
  const applications = rows
    .map((r) => ({
      processCode: r.processCode,
      processTitle: r.processTitle,
      status: r.application.status,
      ...(r.application.score !== null ? { score: r.application.score } : {}),
    }))
    .reverse();
  const inProgress = rows.find((r) => r.application.status === 'in_progress');
  let current: CurrentApplication | undefined;
  if (inProgress) {
    current = {
      applicationId: inProgress.application.id,
      processId: inProgress.application.processId,
      processCode: inProgress.processCode,
      processTitle: inProgress.processTitle,
      questions: inProgress.questions,
      hasCv: inProgress.application.cvText !== null,
      answers: inProgress.application.answers,
      step: inProgress.application.step,
    };
  }
  return {
    now,
    phone,
    defaultLocale,
    openProcesses,
    applications,
    current,
    candidate: {
      consented: candidate.consentAt !== null && candidate.optedOutAt === null,
      optedOut: candidate.optedOutAt !== null,
      name: candidate.name,
      email: candidate.email,
      locale: candidate.locale,
    },
  };
}
