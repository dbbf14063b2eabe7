import { createHmac, timingSafeEqual } from 'node:crypto';
import express, { type Request, Router } from 'express';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import { timingSafeEqualStrings } from '../http/auth.ts';
import type { Logger } from '../logger.ts';
import type { InboundHandler, InboundMessage, MessageStatus, StatusUpdate } from './channel.ts';
import type { WhatsAppMetrics } from './metrics.ts';

// ---------------------------------------------------------------------------------------------
// Meta's payloads (https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages).
// The envelope is parsed strictly; each message and status on its own, so one odd element does not
// discard its siblings. Unknown fields are dropped; unknown message types become `other`.
// ---------------------------------------------------------------------------------------------

const unixSeconds = z.union([z.string().regex(/^\d{1,12}$/), z.number().int().nonnegative()]).transform(Number);
const waId = z.string().regex(/^\+?\d{5,20}$/);

const contactSchema = z.object({
  wa_id: z.string(),
  profile: z.object({ name: z.string().optional() }).optional(),
});

const messageSchema = z.object({
  from: waId,
  id: z.string().min(1).max(512),
  timestamp: unixSeconds,
  type: z.string().min(1).max(64),
  text: z.object({ body: z.string() }).optional(),
  document: z
    .object({
      id: z.string().min(1),
      mime_type: z.string().optional(),
      sha256: z.string().optional(),
      filename: z.string().optional(),
      caption: z.string().optional(),
    })
    .optional(),
  interactive: z
    .object({
      type: z.string(),
      button_reply: z.object({ id: z.string(), title: z.string() }).optional(),
      list_reply: z.object({ id: z.string(), title: z.string(), description: z.string().optional() }).optional(),
    })
    .optional(),
  /** A quick-reply button of a template message. */
  button: z.object({ payload: z.string().optional(), text: z.string() }).optional(),
});
type CloudMessage = z.infer<typeof messageSchema>;

const statusSchema = z.object({
  id: z.string().min(1).max(512),
  status: z.string(),
  timestamp: unixSeconds,
  recipient_id: z.string().optional(),
  errors: z.array(z.unknown()).optional(),
});

const valueSchema = z.object({
  messaging_product: z.string().optional(),
  metadata: z.object({ display_phone_number: z.string().optional(), phone_number_id: z.string() }).optional(),
  contacts: z.array(contactSchema).optional(),
  messages: z.array(z.unknown()).optional(),
  statuses: z.array(z.unknown()).optional(),
});

const payloadSchema = z.object({
  object: z.literal('whatsapp_business_account'),
  entry: z.array(
    z.object({
      id: z.string().optional(),
      changes: z.array(z.object({ field: z.string(), value: z.unknown() })),
    }),
  ),
});

const KNOWN_STATUSES: readonly MessageStatus[] = ['sent', 'delivered', 'read', 'failed'];

export interface ParsedWebhook {
  messages: InboundMessage[];
  statuses: StatusUpdate[];
  /** Elements left out, with why (for a log line; never contents). */
  skipped: { what: 'change' | 'message' | 'status'; reason: string }[];
}

export type ParseResult = ({ ok: true } & ParsedWebhook) | { ok: false; reason: string };

const toE164 = (digits: string) => (digits.startsWith('+') ? digits : `+${digits}`);

/** Turns one of Meta's message objects into the engine's InboundMessage. */
export function normalizeCloudMessage(m: CloudMessage, profileName?: string): InboundMessage | { error: string } {
  const base = {
    id: m.id,
    from: toE164(m.from),
    timestamp: new Date(m.timestamp * 1000),
    ...(profileName ? { profileName } : {}),
  };
  switch (m.type) {
    case 'text':
      return m.text ? { ...base, type: 'text', text: m.text.body } : { error: 'text message without text' };
    case 'document': {
      const d = m.document;
      if (!d) return { error: 'document message without document' };
      return {
        ...base,
        type: 'document',
        ...(d.caption ? { text: d.caption } : {}),
        media: {
          id: d.id,
          ...(d.mime_type ? { mimeType: d.mime_type } : {}),
          ...(d.filename ? { filename: d.filename } : {}),
          ...(d.sha256 ? { sha256: d.sha256 } : {}),
        },
      };
    }
    case 'interactive': {
      const reply = m.interactive?.button_reply ?? m.interactive?.list_reply;
      if (!reply) return { ...base, type: 'other', rawType: `interactive.${m.interactive?.type ?? 'unknown'}` };
      return { ...base, type: 'interactive', replyId: reply.id, text: reply.title };
    }
    case 'button':
      if (!m.button) return { error: 'button message without button' };
      return { ...base, type: 'interactive', replyId: m.button.payload ?? m.button.text, text: m.button.text };
    default:
      // image, audio, video, sticker, location, contacts, reaction, unsupported, system...: the machine answers politely.
      return { ...base, type: 'other', rawType: m.type };
  }
}

/** Parses a webhook body into normalized messages and statuses; `ok: false` when it is not Meta's shape at all. */
export function parseWebhookPayload(body: unknown, options: { phoneNumberId?: string } = {}): ParseResult {
  const envelope = payloadSchema.safeParse(body);
  if (!envelope.success) return { ok: false, reason: describeIssue(envelope.error) };
  const out: ParsedWebhook = { messages: [], statuses: [], skipped: [] };
  for (const entry of envelope.data.entry) {
    for (const change of entry.changes) {
      if (change.field !== 'messages') {
        out.skipped.push({ what: 'change', reason: `field ${change.field}` });
        continue;
      }
      const value = valueSchema.safeParse(change.value);
      if (!value.success) {
        out.skipped.push({ what: 'change', reason: describeIssue(value.error) });
        continue;
      }
      const v = value.data;
      if (options.phoneNumberId && v.metadata && v.metadata.phone_number_id !== options.phoneNumberId) {
        out.skipped.push({ what: 'change', reason: 'another phone number id' });
        continue;
      }
      const names = new Map((v.contacts ?? []).map((c) => [c.wa_id.replace(/^\+/, ''), c.profile?.name]));
      for (const raw of v.messages ?? []) {
        const parsed = messageSchema.safeParse(raw);
        if (!parsed.success) {
          out.skipped.push({ what: 'message', reason: describeIssue(parsed.error) });
          continue;
        }
        const normalized = normalizeCloudMessage(parsed.data, names.get(parsed.data.from.replace(/^\+/, '')));
        if ('error' in normalized) out.skipped.push({ what: 'message', reason: normalized.error });
        else out.messages.push(normalized);
      }
      for (const raw of v.statuses ?? []) {
        const parsed = statusSchema.safeParse(raw);
        if (!parsed.success) {
          out.skipped.push({ what: 'status', reason: describeIssue(parsed.error) });
          continue;
        }
        const s = parsed.data;
        if (!KNOWN_STATUSES.includes(s.status as MessageStatus)) {
          out.skipped.push({ what: 'status', reason: `status ${s.status.slice(0, 32)}` });
          continue;
        }
        out.statuses.push({
          messageId: s.id,
          status: s.status as MessageStatus,
          timestamp: new Date(s.timestamp * 1000),
          ...(s.recipient_id ? { recipient: toE164(s.recipient_id) } : {}),
          ...(s.errors?.length ? { error: s.errors } : {}),
        });
      }
    }
  }
  return { ok: true, ...out };
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid';
}

/** `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the app secret>`, compared in constant time. */
export function verifySignature(rawBody: Buffer, header: string | undefined, appSecret: string): boolean {
  if (!header) return false;
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!match) return false;
  const given = Buffer.from((match[1] as string).toLowerCase(), 'hex');
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface WebhookRouterOptions {
  /** `WHATSAPP_VERIFY_TOKEN`; without it the GET verification always answers 403. */
  verifyToken?: string;
  /** `WHATSAPP_APP_SECRET`: every POST must be signed with it. */
  appSecret: string;
  handler: InboundHandler;
  logger: Logger;
  metrics?: WhatsAppMetrics;
  /** When set, changes addressed to other phone numbers of the same business account are ignored. */
  phoneNumberId?: string;
  path?: string;
  /** Limit of bodies this router reads itself (when the app's JSON parser did not). */
  bodyLimit?: string;
}

/**
 * `GET /webhooks/whatsapp` answers Meta's verification challenge; `POST` verifies the signature, parses,
 * hands messages and statuses to the handler and answers 200 only once the handler resolved (a failure
 * answers 5xx so Meta redelivers). A signed body that is not Meta's shape is acknowledged and ignored.
 */
export function createWhatsAppWebhookRouter(options: WebhookRouterOptions): Router {
  const { verifyToken, appSecret, handler, logger, metrics, phoneNumberId } = options;
  const path = options.path ?? '/webhooks/whatsapp';
  if (!appSecret) throw new Error('createWhatsAppWebhookRouter: appSecret is required');
  const log = logger.child({ component: 'whatsapp-webhook' });
  const router = Router();

  router.get(path, (req, res) => {
    const mode = req.query['hub.mode'];
    const token = req.query['hub.verify_token'];
    const challenge = req.query['hub.challenge'];
    const valid =
      mode === 'subscribe' &&
      typeof token === 'string' &&
      typeof challenge === 'string' &&
      challenge.length <= 256 &&
      verifyToken !== undefined &&
      verifyToken !== '' &&
      timingSafeEqualStrings(token, verifyToken);
    if (!valid) {
      metrics?.webhookRequests.inc({ outcome: 'verify_rejected' });
      log.warn('webhook verification rejected');
      res.status(403).json({ error: { code: 'forbidden', message: 'Verification failed' } });
      return;
    }
    metrics?.webhookRequests.inc({ outcome: 'verified' });
    res.type('text/plain').send(challenge);
  });

  // Reads the bytes itself only when the app's JSON parser did not (another content type, or no global parser).
  router.post(path, express.raw({ type: () => true, limit: options.bodyLimit ?? '1mb' }), async (req, res, next) => {
    const raw = rawBodyOf(req);
    if (!raw || !verifySignature(raw, req.get('x-hub-signature-256'), appSecret)) {
      metrics?.webhookRequests.inc({ outcome: 'unauthorized' });
      next(new AppError('unauthorized', 'Missing or invalid X-Hub-Signature-256'));
      return;
    }
    let body: unknown = req.body;
    if (Buffer.isBuffer(body)) {
      try {
        body = JSON.parse(body.toString('utf8'));
      } catch {
        metrics?.webhookRequests.inc({ outcome: 'ignored' });
        next(new AppError('bad_request', 'The request body is not valid JSON'));
        return;
      }
    }
    const parsed = parseWebhookPayload(body, { phoneNumberId });
    if (!parsed.ok) {
      metrics?.webhookRequests.inc({ outcome: 'ignored' });
      log.warn({ reason: parsed.reason }, 'signed webhook body is not a WhatsApp payload; ignored');
      res.status(200).json({ ok: true, ignored: true });
      return;
    }
    if (parsed.skipped.length) log.info({ skipped: parsed.skipped.slice(0, 10) }, 'webhook elements skipped');
    try {
      if (parsed.messages.length) {
        for (const m of parsed.messages) metrics?.inboundMessages.inc({ transport: 'cloud', type: m.type });
        await handler.onMessages(parsed.messages);
      }
      if (parsed.statuses.length) {
        for (const s of parsed.statuses) metrics?.statusUpdates.inc({ transport: 'cloud', status: s.status });
        await handler.onStatuses?.(parsed.statuses);
      }
    } catch (err) {
      metrics?.webhookRequests.inc({ outcome: 'failed' });
      next(err);
      return;
    }
    metrics?.webhookRequests.inc({ outcome: 'accepted' });
    log.debug({ messages: parsed.messages.length, statuses: parsed.statuses.length }, 'webhook accepted');
    res.status(200).json({ ok: true });
  });

  return router;
}

function rawBodyOf(req: Request): Buffer | undefined {
  if (req.rawBody) return req.rawBody;
  if (Buffer.isBuffer(req.body)) return req.body;
  return undefined;
}
