import type { ApplicationStatus } from '../db/schema.ts';
import type { TransactionManager } from '../db/transaction-manager.ts';
import { AppError, notFound } from '../errors.ts';
import type { ApplicationRepository, ApplicationRow } from './applications.ts';
import { type Actor, allowedTransitions, canTransition } from './status.ts';

/**
 * The one way an application changes status: checks the transition for the actor, writes the
 * status and its history row, and raises `application.status_changed`, all in the caller's
 * transaction (or a new one).
 */
export function createStatusChanges(deps: { tm: TransactionManager; applications: ApplicationRepository }) {
  const { tm, applications } = deps;
  return {
    async change(
      applicationId: string,
      to: ApplicationStatus,
      change: { actor: Actor; reason: string | null; at: Date; locked?: ApplicationRow },
    ): Promise<{ from: ApplicationStatus; to: ApplicationStatus }> {
      return tm.transactional(async () => {
        const app = change.locked ?? (await applications.lockById(applicationId));
        if (!app) throw notFound('Application');
        if (!canTransition(app.status, to, change.actor)) {
          throw new AppError('invalid_transition', `An application that is ${app.status} cannot become ${to}`, {
            from: app.status,
            allowed: allowedTransitions(app.status, change.actor),
          });
        }
        await applications.changeStatus(app.id, {
          from: app.status,
          to,
          reason: change.reason,
          actor: change.actor,
          at: change.at,
        });
        tm.addEvent('application.status_changed', {
          applicationId: app.id,
          processId: app.processId,
          candidateId: app.candidateId,
          from: app.status,
          to,
          reason: change.reason,
          actor: change.actor,
          at: change.at.toISOString(),
        });
        return { from: app.status, to };
      });
    },
  };
}
export type StatusChanges = ReturnType<typeof createStatusChanges>;
