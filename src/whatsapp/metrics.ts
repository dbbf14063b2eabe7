import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Metrics of the WhatsApp transports (Cloud API webhook and sender, whatsapp-web.js). One set per registry. */
export function createWhatsAppMetrics(registry: Registry) {
  const registers = [registry];
  return {
    webhookRequests: new Counter({
      name: 'whatsapp_webhook_requests_total',
      help: 'Webhook requests by outcome (accepted, ignored, unauthorized, failed, verified, verify_rejected)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    inboundMessages: new Counter({
      name: 'whatsapp_inbound_messages_total',
      help: 'Inbound messages normalized, by transport and normalized type',
      labelNames: ['transport', 'type'] as const,
      registers,
    }),
    statusUpdates: new Counter({
      name: 'whatsapp_status_updates_total',
      help: 'Delivery status callbacks received, by transport and status',
      labelNames: ['transport', 'status'] as const,
      registers,
    }),
    sends: new Counter({
      name: 'whatsapp_sends_total',
      help: 'Outbound sends by transport, message kind and outcome (ok, retryable, permanent)',
      labelNames: ['transport', 'kind', 'outcome'] as const,
      registers,
    }),
    sendRetries: new Counter({
      name: 'whatsapp_send_retries_total',
      help: 'Graph API requests retried after a 429/5xx or a network error',
      labelNames: ['reason'] as const,
      registers,
    }),
    sendDuration: new Histogram({
      name: 'whatsapp_send_duration_seconds',
      help: 'Time to send one outbound message, retries and rate-limit waits included',
      labelNames: ['transport'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    rateLimitWaits: new Counter({
      name: 'whatsapp_rate_limit_waits_total',
      help: 'Sends that waited for (or were refused by) the outbound rate limiter, by scope',
      labelNames: ['scope', 'outcome'] as const,
      registers,
    }),
    mediaDownloads: new Counter({
      name: 'whatsapp_media_downloads_total',
      help: 'Media downloads by transport and outcome (ok, too_large, failed)',
      labelNames: ['transport', 'outcome'] as const,
      registers,
    }),
    mediaBytes: new Counter({
      name: 'whatsapp_media_downloaded_bytes_total',
      help: 'Bytes of media downloaded',
      labelNames: ['transport'] as const,
      registers,
    }),
    sessionReady: new Gauge({
      name: 'whatsapp_session_ready',
      help: '1 when the whatsapp-web.js session is logged in and connected',
      registers,
    }),
    reconnects: new Counter({
      name: 'whatsapp_reconnects_total',
      help: 'whatsapp-web.js reconnect attempts',
      registers,
    }),
  };
}
export type WhatsAppMetrics = ReturnType<typeof createWhatsAppMetrics>;
