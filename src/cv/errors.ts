import { AppError } from '../errors.ts';

export type AnalysisUnavailableReason =
  | 'circuit_open'
  | 'timeout'
  | 'rate_limited'
  | 'upstream'
  | 'unauthorized'
  | 'invalid_output'
  | 'refused';

const RETRYABLE: ReadonlySet<AnalysisUnavailableReason> = new Set([
  'circuit_open',
  'timeout',
  'rate_limited',
  'upstream',
]);

/**
 * The CV could not be analysed now. The application stays pending; when `retryable`, the event is retried
 * later (outbox backoff). When not (the model refused, or its output failed the schema twice in a row), a
 * retry is unlikely to help: fall back to the offline analyzer or leave it to the recruiter.
 */
export class AnalysisUnavailableError extends AppError {
  readonly retryable: boolean;
  constructor(
    readonly reason: AnalysisUnavailableReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('dependency_unavailable', message, { reason }, options);
    this.name = 'AnalysisUnavailableError';
    this.retryable = RETRYABLE.has(reason);
  }
}
