import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { createApp } from '../../../src/http/app.ts';
import { signBody } from '../../../src/http/auth.ts';
import { createLogger } from '../../../src/logger.ts';
import { createHttpMetrics, createMetricsRegistry } from '../../../src/observability/metrics.ts';
import type { InboundMessage, StatusUpdate } from '../../../src/whatsapp/channel.ts';
import { createWhatsAppWebhookRouter } from '../../../src/whatsapp/cloud-webhook.ts';
import { createWhatsAppMetrics } from '../../../src/whatsapp/metrics.ts';
import {
  BUSINESS,
  envelope,
  messageObject,
  messagesPayload,
  statusesPayload,
  statusObject,
  textPayload,
  wamid,
} from '../../fakes/whatsapp-payloads.ts';
import { bodyOf, listen } from '../../support/http.ts';

const APP_SECRET = 'test-app-secret';
const VERIFY_TOKEN = 'test-verify-token';

describe('WhatsApp Cloud API webhook', () => {
  const received: InboundMessage[][] = [];
  const statuses: StatusUpdate[][] = [];
  let failNext = 0;
  let server: Awaited<ReturnType<typeof listen>>;
  const registry = createMetricsRegistry();

  beforeAll(async () => {
    const logger = createLogger({ level: 'silent' });
    const router = createWhatsAppWebhookRouter({
      verifyToken: VERIFY_TOKEN,
      appSecret: APP_SECRET,
      phoneNumberId: BUSINESS.phoneNumberId,
      logger,
      metrics: createWhatsAppMetrics(registry),
      handler: {
        async onMessages(messages) {
          if (failNext > 0) {
            failNext--;
            throw new Error('database is down');
          }
          received.push(messages);
        },
        async onStatuses(s) {
          statuses.push(s);
        },
      },
    });
    server = await listen(createApp({ logger, metrics: createHttpMetrics(registry), routers: [router] }));
  });
  afterAll(() => server.close());
  beforeEach(() => {
    received.length = 0;
    statuses.length = 0;
    failNext = 0;
  });

  function post(body: string | object, signature: string | null = 'valid', contentType = 'application/json') {
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    const headers: Record<string, string> = { 'content-type': contentType };
    if (signature === 'valid') headers['x-hub-signature-256'] = signBody(raw, APP_SECRET);
    else if (signature !== null) headers['x-hub-signature-256'] = signature;
    return fetch(`${server.url}/webhooks/whatsapp`, { method: 'POST', headers, body: raw });
  }

  describe('verification challenge', () => {
    const verify = (params: Record<string, string>) =>
      fetch(`${server.url}/webhooks/whatsapp?${new URLSearchParams(params)}`);

    test('echoes hub.challenge when the token matches', async () => {
      const res = await verify({
        'hub.mode': 'subscribe',
        'hub.verify_token': VERIFY_TOKEN,
        'hub.challenge': '1158201444',
      });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('1158201444');
    });

    test.each([
      ['a wrong token', { 'hub.mode': 'subscribe', 'hub.verify_token': 'nope', 'hub.challenge': '1' }],
      ['another mode', { 'hub.mode': 'unsubscribe', 'hub.verify_token': VERIFY_TOKEN, 'hub.challenge': '1' }],
      ['no token', { 'hub.mode': 'subscribe', 'hub.challenge': '1' }],
      ['no challenge', { 'hub.mode': 'subscribe', 'hub.verify_token': VERIFY_TOKEN }],
    ])('answers 403 for %s', async (_name, params) => {
      const res = await verify(params);
      expect(res.status).toBe(403);
      expect((await bodyOf(res)).error.code).toBe('forbidden');
    });
  });

  describe('signature', () => {
    test('a valid signature is accepted and the message handed over', async () => {
      const res = await post(textPayload('hola'));
      expect(res.status).toBe(200);
      expect(received).toHaveLength(1);
    });

    test('a wrong signature answers 401 and records nothing', async () => {
      const body = JSON.stringify(textPayload('hola'));
      const res = await post(body, signBody(body, 'another-secret'));
      expect(res.status).toBe(401);
      expect((await bodyOf(res)).error.code).toBe('unauthorized');
      expect(received).toHaveLength(0);
    });

    test('a missing signature answers 401 and records nothing', async () => {
      const res = await post(textPayload('hola'), null);
      expect(res.status).toBe(401);
      expect(received).toHaveLength(0);
    });

    test('a signature of other bytes (body re-serialized) is rejected', async () => {
      const raw = JSON.stringify(textPayload('hola'));
      const spaced = raw.replace('"hola"', '"hola" ');
      const res = await post(spaced, signBody(raw, APP_SECRET));
      expect(res.status).toBe(401);
      expect(received).toHaveLength(0);
    });

    test.each(['sha256=', 'sha1=abc', 'sha256=zz', 'garbage'])('a malformed header %j answers 401', async (sig) => {
      const res = await post(textPayload('hola'), sig);
      expect(res.status).toBe(401);
      expect(received).toHaveLength(0);
    });

    test('a signed body sent as another content type is still verified over its exact bytes', async () => {
      const res = await post(JSON.stringify(textPayload('hola')), 'valid', 'text/plain');
      expect(res.status).toBe(200);
      expect(received[0]?.[0]?.text).toBe('hola');
    });
  });

  describe("Meta's documented payloads", () => {
    test('text', async () => {
      const body = textPayload('Does it come in another color?');
      const res = await post(body);
      expect(res.status).toBe(200);
      const msg = received[0]?.[0];
      expect(msg).toMatchObject({
        from: '+16505551234',
        type: 'text',
        text: 'Does it come in another color?',
        profileName: 'Sheena Nelson',
      });
      const sent = (body.entry as { changes: { value: { messages: { id: string; timestamp: string }[] } }[] }[])[0]
        ?.changes[0]?.value.messages[0];
      expect(msg?.id).toBe(sent?.id);
      expect(msg?.timestamp.getTime()).toBe(Number(sent?.timestamp) * 1000);
    });

    test('document', async () => {
      const res = await post(
        messagesPayload([
          { type: 'document', mediaId: '1003383421387256', filename: 'cv-maria.pdf', caption: 'My CV' },
        ]),
      );
      expect(res.status).toBe(200);
      expect(received[0]?.[0]).toMatchObject({
        type: 'document',
        text: 'My CV',
        media: { id: '1003383421387256', mimeType: 'application/pdf', filename: 'cv-maria.pdf' },
      });
    });

    test('interactive button_reply and list_reply', async () => {
      const res = await post(
        messagesPayload([
          { type: 'button_reply', id: 'consent.accept', title: 'Acepto' },
          { type: 'list_reply', id: 'DEV-2025', title: 'Backend developer', description: 'Madrid' },
        ]),
      );
      expect(res.status).toBe(200);
      expect(received[0]).toMatchObject([
        { type: 'interactive', replyId: 'consent.accept', text: 'Acepto' },
        { type: 'interactive', replyId: 'DEV-2025', text: 'Backend developer' },
      ]);
    });

    test('unsupported types become `other` with the raw type', async () => {
      const res = await post(messagesPayload([{ type: 'sticker' }, { type: 'location' }, { type: 'unsupported' }]));
      expect(res.status).toBe(200);
      expect(received[0]?.map((m) => [m.type, m.rawType])).toEqual([
        ['other', 'sticker'],
        ['other', 'location'],
        ['other', 'unsupported'],
      ]);
    });

    test('several messages of several senders in one delivery are handed over together, in order', async () => {
      const a = { waId: '34600111222', name: 'Ana' };
      const b = { waId: '5491122334455', name: 'Beto' };
      const body = {
        object: 'whatsapp_business_account',
        entry: [
          {
            id: BUSINESS.wabaId,
            changes: [
              {
                field: 'messages',
                value: {
                  messaging_product: 'whatsapp',
                  metadata: { display_phone_number: BUSINESS.displayPhone, phone_number_id: BUSINESS.phoneNumberId },
                  contacts: [
                    { profile: { name: 'Ana' }, wa_id: a.waId },
                    { profile: { name: 'Beto' }, wa_id: b.waId },
                  ],
                  messages: [
                    messageObject({ type: 'text', body: 'uno' }, a),
                    messageObject({ type: 'text', body: 'dos' }, b),
                    messageObject({ type: 'text', body: 'tres' }, a),
                  ],
                },
              },
            ],
          },
        ],
      };
      const res = await post(body);
      expect(res.status).toBe(200);
      expect(received).toHaveLength(1);
      expect(received[0]?.map((m) => [m.from, m.text, m.profileName])).toEqual([
        ['+34600111222', 'uno', 'Ana'],
        ['+5491122334455', 'dos', 'Beto'],
        ['+34600111222', 'tres', 'Ana'],
      ]);
    });

    test('statuses are recorded through onStatuses and never handed over as messages', async () => {
      const ids = [wamid(), wamid(), wamid(), wamid()];
      const res = await post(
        statusesPayload([
          statusObject(ids[0] as string, 'sent'),
          statusObject(ids[1] as string, 'delivered'),
          statusObject(ids[2] as string, 'read'),
          statusObject(ids[3] as string, 'failed'),
        ]),
      );
      expect(res.status).toBe(200);
      expect(received).toHaveLength(0);
      expect(statuses[0]?.map((s) => [s.messageId, s.status])).toEqual([
        [ids[0], 'sent'],
        [ids[1], 'delivered'],
        [ids[2], 'read'],
        [ids[3], 'failed'],
      ]);
      expect(statuses[0]?.[3]?.error).toEqual([expect.objectContaining({ code: 131026 })]);
      expect(statuses[0]?.[0]?.recipient).toBe('+16505551234');
    });

    test('changes for another phone number id are ignored', async () => {
      const body = textPayload('hola') as {
        entry: { changes: { value: { metadata: { phone_number_id: string } } }[] }[];
      };
      (body.entry[0]?.changes[0]?.value.metadata as { phone_number_id: string }).phone_number_id = '999';
      const res = await post(body);
      expect(res.status).toBe(200);
      expect(received).toHaveLength(0);
    });
  });

  describe('bad input never causes a 5xx, and nothing is recorded', () => {
    test('malformed JSON answers 400', async () => {
      const res = await post('{"object": "whatsapp_business_account", "entry": [');
      expect(res.status).toBe(400);
      expect((await bodyOf(res)).error.code).toBe('bad_request');
      expect(received).toHaveLength(0);
    });

    test('malformed JSON of another content type answers 400 after the signature check', async () => {
      const res = await post('{not json', 'valid', 'text/plain');
      expect(res.status).toBe(400);
      expect(received).toHaveLength(0);
    });

    test.each([
      ['an array', []],
      ['another object', { object: 'page', entry: [] }],
      ['entries without changes', { object: 'whatsapp_business_account', entry: [{ id: '1' }] }],
      ['an empty object', {}],
    ])('a signed body that is %s answers 200 and is ignored', async (_name, body) => {
      const res = await post(JSON.stringify(body));
      expect(res.status).toBe(200);
      expect(received).toHaveLength(0);
      expect(statuses).toHaveLength(0);
    });

    test.each([
      ['a string', 'hello'],
      ['null', null],
    ])('a top-level %s is not a JSON body the app accepts: 400', async (_name, body) => {
      const res = await post(JSON.stringify(body));
      expect(res.status).toBe(400);
      expect(received).toHaveLength(0);
    });

    test('malformed messages are skipped, their well-formed siblings kept', async () => {
      const good = messageObject({ type: 'text', body: 'ok' });
      const res = await post(
        envelope({
          messages: [
            { ...good, id: undefined },
            { ...good, id: wamid(), from: 'not-a-phone' },
            { ...good, id: wamid(), type: 'text', text: undefined },
            { ...good, id: wamid(), timestamp: 'yesterday' },
            good,
          ],
          statuses: [{ id: 'x', status: 'exploded', timestamp: '1' }, { nonsense: true }],
        }),
      );
      expect(res.status).toBe(200);
      expect(received).toEqual([[expect.objectContaining({ id: good.id, text: 'ok' })]]);
      expect(statuses).toHaveLength(0);
    });

    test('a value of the wrong shape is ignored', async () => {
      const res = await post(envelope({ messages: 'many', contacts: 3 }));
      expect(res.status).toBe(200);
      expect(received).toHaveLength(0);
    });

    test('a 2 MB body answers 413', async () => {
      const big = textPayload('x'.repeat(2 * 1024 * 1024));
      const res = await post(big);
      expect(res.status).toBe(413);
      expect(received).toHaveLength(0);
    });

    test('a 2 MB body of another content type answers 413 too', async () => {
      const res = await post(JSON.stringify(textPayload('x'.repeat(2 * 1024 * 1024))), 'valid', 'text/plain');
      expect(res.status).toBe(413);
      expect(received).toHaveLength(0);
    });

    test('an empty body answers 401 (nothing to verify)', async () => {
      const res = await fetch(`${server.url}/webhooks/whatsapp`, { method: 'POST' });
      expect(res.status).toBe(401);
      expect(received).toHaveLength(0);
    });
  });

  test('a handler failure answers 500 so that Meta redelivers, and the redelivery is accepted', async () => {
    failNext = 1;
    const body = textPayload('hola');
    const first = await post(body);
    expect(first.status).toBe(500);
    expect(received).toHaveLength(0);
    const again = await post(body);
    expect(again.status).toBe(200);
    expect(received).toHaveLength(1);
  });

  test('the acknowledgement waits for the handler', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const order: string[] = [];
    const logger = createLogger({ level: 'silent' });
    const router = createWhatsAppWebhookRouter({
      appSecret: APP_SECRET,
      logger,
      handler: {
        async onMessages() {
          order.push('handler started');
          await gate;
          order.push('handler committed');
        },
      },
    });
    const slow = await listen(
      createApp({ logger, metrics: createHttpMetrics(createMetricsRegistry()), routers: [router] }),
    );
    try {
      const raw = JSON.stringify(textPayload('hola'));
      const pending = fetch(`${slow.url}/webhooks/whatsapp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(raw, APP_SECRET) },
        body: raw,
      }).then((res) => {
        order.push(`answered ${res.status}`);
      });
      while (order.length === 0) await new Promise((r) => setTimeout(r, 5));
      release();
      await pending;
      expect(order).toEqual(['handler started', 'handler committed', 'answered 200']);
    } finally {
      await slow.close();
    }
  });

  test('webhook outcomes are counted', async () => {
    const text = await registry.metrics();
    expect(text).toMatch(/whatsapp_webhook_requests_total\{outcome="accepted"\} [1-9]/);
    expect(text).toMatch(/whatsapp_webhook_requests_total\{outcome="unauthorized"\} [1-9]/);
    expect(text).toMatch(/whatsapp_inbound_messages_total\{transport="cloud",type="text"\} [1-9]/);
  });
});
