import { Counter, Histogram, type Registry } from 'prom-client';

export function createConversationMetrics(registry: Registry) {
  return {
    messages: new Counter({
      name: 'conversation_messages_total',
      help: 'Inbound messages handled, by outcome (processed, duplicate)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    sessionsRebuilt: new Counter({
      name: 'conversation_sessions_rebuilt_total',
      help: 'Sessions rebuilt from Postgres because the cached one was missing, expired or stale',
      registers: [registry],
    }),
    timeToSubmit: new Histogram({
      name: 'conversation_time_to_submit_seconds',
      help: 'Time from the first message of an application to its submission',
      buckets: [60, 120, 300, 600, 1200, 1800, 3600, 7200, 21600, 86400],
      registers: [registry],
    }),
  };
}
export type ConversationMetrics = ReturnType<typeof createConversationMetrics>;
