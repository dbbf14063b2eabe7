import type { ApplicationRepository } from '../recruiting/applications.ts';
import type { CandidateRow } from '../recruiting/candidates.ts';
import type { Context, CurrentApplication, Locale, OpenProcess } from './types.ts';

export interface ContextDeps {
  applications: ApplicationRepository;
  openProcesses(): Promise<OpenProcess[]>;
  defaultLocale: Locale;
}

/** Everything the machine may know about this phone: one query, plus the (cached) open processes. */
export async function loadContext(
  deps: ContextDeps,
  phone: string,
  candidate: CandidateRow | undefined,
  now: Date,
  openProcesses: OpenProcess[],
): Promise<Context> {
  if (!candidate) return { now, phone, defaultLocale: deps.defaultLocale, openProcesses, applications: [] };
  const rows = await deps.applications.listForCandidate(candidate.id);
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
    defaultLocale: deps.defaultLocale,
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
