import { signBody } from '../http/auth.ts';

export class WebhookDeliveryError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'WebhookDeliveryError';
  }
}

/**
 * POSTs a JSON notification signed with HMAC-SHA256 (`X-Signature-256`) and carrying the event id
 * (`X-Event-Id`) so receivers can dedupe redeliveries. Any non-2xx answer or timeout throws: the
 * outbox retries with backoff.
 */
export async function postSignedWebhook(options: {
  url: string;
  secret?: string;
  eventId: string;
  body: unknown;
  timeoutMs?: number;
  fetch?: typeof fetch;
}): Promise<void> {
  const body = JSON.stringify(options.body);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'wa-recruiter-notifier',
    'x-event-id': options.eventId,
  };
  if (options.secret) headers['x-signature-256'] = signBody(body, options.secret);
  let res: Response;
  try {
    res = await (options.fetch ?? fetch)(options.url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
      redirect: 'error',
    });
  } catch (err) {
    throw new WebhookDeliveryError(`webhook not reachable: ${(err as Error).message}`);
  }
  await res.body?.cancel().catch(() => {});
  if (!res.ok) throw new WebhookDeliveryError(`webhook answered ${res.status}`, res.status);
}
