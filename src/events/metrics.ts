import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Outbox metrics. `type` is the event type: a short, fixed list (see events/types.ts). */
export function createOutboxMetrics(registry: Registry) {
  return {
    published: new Counter({
      name: 'outbox_events_published_total',
      help: 'Events committed to the outbox, by type',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
    delivered: new Counter({
      name: 'outbox_events_delivered_total',
      help: 'Events every handler has processed, by type',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
    failed: new Counter({
      name: 'outbox_events_failed_total',
      help: 'Delivery attempts where a handler threw, by type',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
    dead: new Counter({
      name: 'outbox_events_dead_total',
      help: 'Events marked dead after their last attempt, by type',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
    deliveryLag: new Histogram({
      name: 'outbox_delivery_lag_seconds',
      help: 'Time from commit of an event to the start of its handlers',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30, 300],
      registers: [registry],
    }),
    backlog: new Gauge({
      name: 'outbox_backlog_events',
      help: 'Undelivered (pending) events, as last measured by the relay',
      registers: [registry],
    }),
    oldestAge: new Gauge({
      name: 'outbox_oldest_pending_age_seconds',
      help: 'Age of the oldest undelivered event, as last measured by the relay',
      registers: [registry],
    }),
  };
}
export type OutboxMetrics = ReturnType<typeof createOutboxMetrics>;
