import type { ApplicationRepository } from '../recruiting/applications.ts';
import type { CandidateRow } from '../recruiting/candidates.ts';
import type { ProcessRow } from '../recruiting/processes.ts';
import type { Context, CurrentApplication, Locale, OpenProcess } from './types.ts';

export interface ContextDeps {
  applications: ApplicationRepository;
  findProcess(id: string): Promise<ProcessRow | undefined>;
  openProcesses(): Promise<OpenProcess[]>;
  defaultLocale: Locale;
}

/** Everything the machine may know about this phone, read from Postgres (and the cached process list). */
export async function loadContext(
  deps: ContextDeps,
  phone: string,
  candidate: CandidateRow | undefined,
  now: Date,
): Promise<Context> {
  const openProcesses = await deps.openProcesses();
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
    const process = await deps.findProcess(inProgress.application.processId);
    current = {
      applicationId: inProgress.application.id,
      processId: inProgress.application.processId,
      processCode: inProgress.processCode,
      processTitle: inProgress.processTitle,
      questions: process?.questions ?? [],
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
