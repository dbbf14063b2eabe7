import { Registry } from 'prom-client';
import type { DbClient } from '../../src/db/client.ts';
import { createTxMetrics } from '../../src/db/metrics.ts';
import { createTransactionManager, type TransactionManagerDeps } from '../../src/db/transaction-manager.ts';
import { createUnitOfWork, type UnitOfWorkOptions } from '../../src/db/unit-of-work.ts';
import { createEventBus } from '../../src/events/bus.ts';
import { createOutboxMetrics } from '../../src/events/metrics.ts';
import { createOutboxRelay, type OutboxRelayOptions } from '../../src/events/relay.ts';
import { createLogger } from '../../src/logger.ts';

export const testLogger = createLogger({ level: process.env.LOG_LEVEL ?? 'silent' });

/** The transaction stack as compose.ts wires it: unit of work, bus, relay (as dispatcher) and manager. */
export function createTxStack(
  client: DbClient,
  options: {
    relay?: Partial<Omit<OutboxRelayOptions, 'client' | 'bus' | 'logger' | 'metrics'>>;
    tm?: Partial<Omit<TransactionManagerDeps, 'uow' | 'logger' | 'metrics' | 'outboxMetrics'>>;
    uow?: Omit<UnitOfWorkOptions, 'metrics'>;
    /** false: no immediate dispatch, events wait for a relay. */
    dispatch?: boolean;
  } = {},
) {
  const registry = new Registry();
  const txMetrics = createTxMetrics(registry);
  const outboxMetrics = createOutboxMetrics(registry);
  const uow = createUnitOfWork(client, testLogger, { ...options.uow, metrics: txMetrics });
  const bus = createEventBus();
  const relay = createOutboxRelay({
    client,
    bus,
    logger: testLogger,
    metrics: outboxMetrics,
    backoffBaseMs: 5,
    backoffMaxMs: 20,
    pollIntervalMs: 50,
    ...options.relay,
  });
  const tm = createTransactionManager({
    uow,
    logger: testLogger,
    dispatcher: options.dispatch === false ? undefined : relay,
    metrics: txMetrics,
    outboxMetrics,
    retryBaseDelayMs: 1,
    ...options.tm,
  });
  return { registry, uow, bus, relay, tm };
}

/** The value of one counter/gauge series, 0 when absent. */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}) {
  const metric = await registry.getSingleMetric(name)?.get();
  const series = metric?.values.find((v) =>
    Object.entries(labels).every(([k, value]) => (v.labels as Record<string, unknown>)[k] === value),
  );
  return series?.value ?? 0;
}
