import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import { type Logger, phoneRef, scrub } from '../logger.ts';
import type { Channel, DownloadedMedia, MediaRef, OutboundMessage, SendResult } from './channel.ts';
import type { WhatsAppMetrics } from './metrics.ts';
import { createRateLimiter, type RateLimiter } from './rate-limiter.ts';
import { WhatsAppSendError } from './send-error.ts';

// Limits of the Cloud API for interactive messages: longer values are rejected (131009), so they are cut.
const LIMITS = { text: 4096, interactiveBody: 1024, buttonTitle: 20, listButton: 20, rowTitle: 24, rowDescription: 72 };
const MAX_BUTTONS = 3;
const MAX_ROWS = 10;

/** Meta error codes worth retrying (throttling and transient server trouble), whatever the HTTP status. */
const RETRYABLE_CODES = new Set([1, 2, 4, 17, 341, 613, 80007, 130429, 131000, 131016, 131048, 131056, 133004]);
/** Of those, the rate limits: wait at least `rateLimitMinDelayMs` before trying again. */
const RATE_LIMIT_CODES = new Set([4, 17, 613, 80007, 130429, 131048, 131056]);
const AUTH_CODES = new Set([190]);

export interface CloudApiChannelOptions {
  /** `WHATSAPP_GRAPH_URL`, e.g. https://graph.facebook.com/v21.0 */
  graphUrl: string;
  accessToken: string;
  phoneNumberId: string;
  logger: Logger;
  metrics?: WhatsAppMetrics;
  fetch?: typeof fetch;
  retry?: {
    /** Attempts per call, the first included (default 4). */
    maxAttempts?: number;
    baseDelayMs?: number;
    /** A wait longer than this is not slept inside the call: the error is thrown, retryable, for the outbox. */
    maxDelayMs?: number;
    rateLimitMinDelayMs?: number;
  };
  rateLimit?: {
    /** Per recipient: burst and sustained rate (Meta allows bursts, then about one message per 6 s per user). */
    perRecipient?: { capacity: number; refillPerSecond: number };
    /** The business number's throughput (Cloud API default 80 messages/s). */
    perSender?: { capacity: number; refillPerSecond: number };
    /** Longest a send waits for a token before failing retryable (default 5 s). */
    maxWaitMs?: number;
  };
  requestTimeoutMs?: number;
  mediaTimeoutMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface CloudApiChannel extends Channel {
  readonly kind: 'cloud';
}

type GraphBody = Record<string, unknown>;

const digits = (phone: string) => phone.replace(/^\+/, '');
const cut = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

/** The Graph API JSON for one outbound message (`POST /{phone-number-id}/messages`). */
export function renderOutbound(message: OutboundMessage): GraphBody {
  const base = { messaging_product: 'whatsapp', recipient_type: 'individual', to: digits(message.to) };
  switch (message.kind) {
    case 'text':
      return { ...base, type: 'text', text: { preview_url: false, body: cut(message.text, LIMITS.text) } };
    case 'buttons':
      if (message.buttons.length === 0 || message.buttons.length > MAX_BUTTONS) {
        throw new AppError('validation_failed', `A buttons message needs 1 to ${MAX_BUTTONS} buttons`);
      }
      return {
        ...base,
        type: 'interactive',
        interactive: {
          type: 'button',
          body: { text: cut(message.text, LIMITS.interactiveBody) },
          action: {
            buttons: message.buttons.map((b) => ({
              type: 'reply',
              reply: { id: b.id, title: cut(b.title, LIMITS.buttonTitle) },
            })),
          },
        },
      };
    case 'list':
      if (message.rows.length === 0) throw new AppError('validation_failed', 'A list message needs at least one row');
      return {
        ...base,
        type: 'interactive',
        interactive: {
          type: 'list',
          body: { text: cut(message.text, LIMITS.interactiveBody) },
          action: {
            button: cut(message.button, LIMITS.listButton),
            sections: [
              {
                rows: message.rows.slice(0, MAX_ROWS).map((r) => ({
                  id: r.id,
                  title: cut(r.title, LIMITS.rowTitle),
                  ...(r.description ? { description: cut(r.description, LIMITS.rowDescription) } : {}),
                })),
              },
            ],
          },
        },
      };
    case 'template':
      return {
        ...base,
        type: 'template',
        template: {
          name: message.name,
          language: { code: message.language },
          ...(message.parameters.length
            ? { components: [{ type: 'body', parameters: message.parameters.map((text) => ({ type: 'text', text })) }] }
            : {}),
        },
      };
  }
}

const sendResponseSchema = z.object({ messages: z.array(z.object({ id: z.string().min(1) })).min(1) });
const mediaInfoSchema = z.object({
  url: z.url({ protocol: /^https?$/ }),
  mime_type: z.string().optional(),
  file_size: z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).optional(),
  sha256: z.string().optional(),
});
const graphErrorSchema = z.object({
  error: z.object({
    code: z.number().optional(),
    message: z.string().optional(),
    error_subcode: z.number().optional(),
  }),
});

interface GraphFailure {
  status: number;
  metaCode?: number;
  retryAfterMs?: number;
}

/** The WhatsApp Cloud API transport: sends through the Graph API and downloads media; inbound arrives via the webhook router. */
export function createCloudApiChannel(options: CloudApiChannelOptions): CloudApiChannel {
  const { accessToken, phoneNumberId, metrics } = options;
  const graphUrl = options.graphUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  const log = options.logger.child({ component: 'whatsapp-cloud' });
  const maxAttempts = Math.max(1, options.retry?.maxAttempts ?? 4);
  const baseDelayMs = options.retry?.baseDelayMs ?? 250;
  const maxDelayMs = options.retry?.maxDelayMs ?? 5_000;
  const rateLimitMinDelayMs = options.retry?.rateLimitMinDelayMs ?? 1_000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const mediaTimeoutMs = options.mediaTimeoutMs ?? 30_000;
  const maxWaitMs = options.rateLimit?.maxWaitMs ?? 5_000;
  const perRecipient: RateLimiter = createRateLimiter({
    ...(options.rateLimit?.perRecipient ?? { capacity: 20, refillPerSecond: 1 }),
    now,
  });
  const perSender: RateLimiter = createRateLimiter({
    ...(options.rateLimit?.perSender ?? { capacity: 80, refillPerSecond: 80 }),
    now,
  });
  let authFailed = false;
  let consecutiveFailures = 0;
  let lastFailure: { at: string; httpStatus?: number; metaCode?: number } | undefined;

  const authHeader = { authorization: `Bearer ${accessToken}` };

  async function failureOf(res: Response): Promise<GraphFailure> {
    let metaCode: number | undefined;
    try {
      const parsed = graphErrorSchema.safeParse(await res.json());
      if (parsed.success) metaCode = parsed.data.error.code;
    } catch {
      // Not JSON: the status alone decides.
    }
    return { status: res.status, metaCode, retryAfterMs: retryAfterOf(res.headers.get('retry-after'), now()) };
  }

  function isRetryable(f: GraphFailure): boolean {
    if (f.metaCode !== undefined && RETRYABLE_CODES.has(f.metaCode)) return true;
    if (f.metaCode !== undefined && f.status < 500 && f.status !== 429) return false;
    return f.status === 429 || f.status >= 500;
  }

  function backoffMs(attempt: number, f: GraphFailure | undefined): number {
    const exp = baseDelayMs * 2 ** (attempt - 1);
    const jitter = Math.random() * baseDelayMs;
    const rateLimited = f && (f.status === 429 || (f.metaCode !== undefined && RATE_LIMIT_CODES.has(f.metaCode)));
    return Math.max(f?.retryAfterMs ?? 0, rateLimited ? rateLimitMinDelayMs : 0, Math.round(exp + jitter));
  }

  /** One Graph API call with retries on 429/5xx/network errors; resolves with an ok Response or throws. */
  async function request(what: string, url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      let failure: GraphFailure | undefined;
      let cause: unknown;
      try {
        const res = await doFetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
        if (res.ok) return res;
        failure = await failureOf(res);
      } catch (err) {
        cause = err;
      }
      const retryable = failure ? isRetryable(failure) : true;
      const wait = backoffMs(attempt, failure);
      const info = {
        retryable,
        httpStatus: failure?.status,
        metaCode: failure?.metaCode,
        retryAfterMs: retryable ? wait : undefined,
        cause,
      };
      if (failure && (failure.status === 401 || (failure.metaCode !== undefined && AUTH_CODES.has(failure.metaCode)))) {
        authFailed = true;
      }
      if (!retryable || attempt >= maxAttempts || wait > maxDelayMs) {
        const detail = failure
          ? `HTTP ${failure.status}${failure.metaCode ? ` (code ${failure.metaCode})` : ''}`
          : 'network error';
        throw new WhatsAppSendError(`Graph API ${what} failed: ${detail}`, info);
      }
      metrics?.sendRetries.inc({
        reason: failure ? (failure.metaCode ? String(failure.metaCode) : String(failure.status)) : 'network',
      });
      log.warn(
        { what, attempt, httpStatus: failure?.status, metaCode: failure?.metaCode, waitMs: wait },
        'graph api call failed; retrying',
      );
      await sleep(wait);
    }
  }

  async function takeTokens(to: string): Promise<void> {
    for (const [scope, limiter, key] of [
      ['recipient', perRecipient, to],
      ['sender', perSender, phoneNumberId],
    ] as const) {
      const r = limiter.reserve(key, maxWaitMs);
      if (!r.ok) {
        metrics?.rateLimitWaits.inc({ scope, outcome: 'refused' });
        throw new WhatsAppSendError(
          `Outbound rate limit (${scope}) reached`,
          { retryable: true, httpStatus: 429, retryAfterMs: r.retryAfterMs },
          'rate_limited',
        );
      }
      if (r.waitMs > 0) {
        metrics?.rateLimitWaits.inc({ scope, outcome: 'waited' });
        await sleep(r.waitMs);
      }
    }
  }

  function recordOutcome(err: unknown) {
    if (err === undefined) {
      consecutiveFailures = 0;
      authFailed = false;
      return;
    }
    consecutiveFailures++;
    const e = err instanceof WhatsAppSendError ? err : undefined;
    lastFailure = { at: new Date(now()).toISOString(), httpStatus: e?.httpStatus, metaCode: e?.metaCode };
  }

  return {
    kind: 'cloud',

    async send(message: OutboundMessage): Promise<SendResult> {
      const end = metrics?.sendDuration.startTimer({ transport: 'cloud' });
      const body = renderOutbound(message);
      try {
        await takeTokens(digits(message.to));
        const res = await request(
          'send',
          `${graphUrl}/${encodeURIComponent(phoneNumberId)}/messages`,
          {
            method: 'POST',
            headers: { ...authHeader, 'content-type': 'application/json' },
            body: JSON.stringify(body),
          },
          requestTimeoutMs,
        );
        const parsed = sendResponseSchema.safeParse(await res.json().catch(() => undefined));
        if (!parsed.success) {
          // Accepted by Meta (2xx) but without an id: sending again could duplicate it, so not retryable.
          throw new WhatsAppSendError('Graph API send answered without a message id', {
            retryable: false,
            httpStatus: res.status,
          });
        }
        const messageId = (parsed.data.messages[0] as { id: string }).id;
        metrics?.sends.inc({ transport: 'cloud', kind: message.kind, outcome: 'ok' });
        recordOutcome(undefined);
        log.debug({ recipientRef: phoneRef(message.to), kind: message.kind, messageId }, 'message sent');
        return { messageId };
      } catch (err) {
        const retryable = err instanceof WhatsAppSendError ? err.retryable : false;
        metrics?.sends.inc({ transport: 'cloud', kind: message.kind, outcome: retryable ? 'retryable' : 'permanent' });
        recordOutcome(err);
        log.warn(
          {
            recipientRef: phoneRef(message.to),
            kind: message.kind,
            err: { message: scrub((err as Error).message) },
            retryable,
          },
          'message not sent',
        );
        throw err;
      } finally {
        end?.();
      }
    },

    async downloadMedia(media: MediaRef, maxBytes: number): Promise<DownloadedMedia> {
      try {
        const infoRes = await request(
          'media lookup',
          `${graphUrl}/${encodeURIComponent(media.id)}`,
          { method: 'GET', headers: authHeader },
          requestTimeoutMs,
        );
        const info = mediaInfoSchema.safeParse(await infoRes.json().catch(() => undefined));
        if (!info.success) {
          throw new WhatsAppSendError('Graph API media lookup answered an unexpected body', { retryable: false });
        }
        const declared = info.data.file_size ?? media.size;
        if (declared !== undefined && declared > maxBytes) throw tooLarge(declared, maxBytes);
        const res = await request(
          'media download',
          info.data.url,
          { method: 'GET', headers: authHeader },
          mediaTimeoutMs,
        );
        const data = await readCapped(res, maxBytes);
        metrics?.mediaDownloads.inc({ transport: 'cloud', outcome: 'ok' });
        metrics?.mediaBytes.inc({ transport: 'cloud' }, data.length);
        const mimeType = info.data.mime_type ?? media.mimeType ?? res.headers.get('content-type') ?? undefined;
        return { data, ...(mimeType ? { mimeType } : {}), ...(media.filename ? { filename: media.filename } : {}) };
      } catch (err) {
        const tooBig = err instanceof AppError && err.code === 'payload_too_large';
        metrics?.mediaDownloads.inc({ transport: 'cloud', outcome: tooBig ? 'too_large' : 'failed' });
        throw err;
      }
    },

    async start() {
      // Inbound traffic arrives through createWhatsAppWebhookRouter; nothing to start here.
    },
    async stop() {},

    async health() {
      return {
        ok: !authFailed,
        state: authFailed ? 'auth_failed' : 'ready',
        details: { consecutiveFailures, ...(lastFailure ? { lastFailure } : {}) },
      };
    },
  };
}

function tooLarge(size: number | undefined, maxBytes: number): AppError {
  return new AppError('payload_too_large', `The file is larger than ${maxBytes} bytes`, { maxBytes, size });
}

/** Reads a response body, aborting as soon as it passes `maxBytes` (the rest is never buffered). */
export async function readCapped(res: Response, maxBytes: number): Promise<Buffer> {
  const length = Number(res.headers.get('content-length'));
  if (Number.isFinite(length) && length > maxBytes) {
    await res.body?.cancel().catch(() => {});
    throw tooLarge(length, maxBytes);
  }
  if (!res.body) return Buffer.alloc(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(undefined, maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

/** `Retry-After` as seconds or an HTTP date, in ms from now. */
export function retryAfterOf(header: string | null, nowMs: number): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(header);
  return Number.isFinite(date) ? Math.max(0, date - nowMs) : undefined;
}
