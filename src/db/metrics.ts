import { Counter, Histogram, type Registry } from 'prom-client';

/** Transaction metrics (unit of work and transaction manager). */
export function createTxMetrics(registry: Registry) {
  return {
    duration: new Histogram({
      name: 'db_transaction_duration_seconds',
      help: 'Duration of outermost transactions, from BEGIN to COMMIT or ROLLBACK',
      labelNames: ['outcome'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
    commits: new Counter({
      name: 'db_transaction_commits_total',
      help: 'Outermost transactions committed',
      registers: [registry],
    }),
    rollbacks: new Counter({
      name: 'db_transaction_rollbacks_total',
      help: 'Outermost transactions rolled back',
      registers: [registry],
    }),
    retries: new Counter({
      name: 'db_transaction_retries_total',
      help: 'Transactions run again after a retryable failure, by SQLSTATE',
      labelNames: ['sqlstate'] as const,
      registers: [registry],
    }),
    errors: new Counter({
      name: 'db_transaction_errors_total',
      help: 'transactional() calls that failed for good, by error type',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
  };
}
export type TxMetrics = ReturnType<typeof createTxMetrics>;
