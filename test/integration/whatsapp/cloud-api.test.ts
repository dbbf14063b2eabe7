import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { AppError } from '../../../src/errors.ts';
import { createLogger } from '../../../src/logger.ts';
import { createMetricsRegistry } from '../../../src/observability/metrics.ts';
import { type CloudApiChannelOptions, createCloudApiChannel } from '../../../src/whatsapp/cloud-api.ts';
import { createWhatsAppMetrics } from '../../../src/whatsapp/metrics.ts';
import { isRetryableSendError, WhatsAppSendError } from '../../../src/whatsapp/send-error.ts';
import { type FakeGraphApi, failures, startFakeGraphApi } from '../../fakes/graph-api.ts';

const logger = createLogger({ level: 'silent' });
const PHONE_ID = '106540352242922';

describe('Cloud API channel against a fake Graph API', () => {
  let graph: FakeGraphApi;
  beforeAll(async () => {
    graph = await startFakeGraphApi();
  });
  afterAll(() => graph.close());
  beforeEach(() => graph.reset());

  const channel = (overrides: Partial<CloudApiChannelOptions> = {}) =>
    createCloudApiChannel({
      graphUrl: graph.url,
      accessToken: graph.accessToken,
      phoneNumberId: PHONE_ID,
      logger,
      retry: { baseDelayMs: 1, rateLimitMinDelayMs: 1, maxDelayMs: 1_000 },
      ...overrides,
    });

  async function rejection(p: Promise<unknown>): Promise<WhatsAppSendError> {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WhatsAppSendError);
    return err as WhatsAppSendError;
  }

  describe('sending', () => {
    test('a text goes to /{phone-number-id}/messages with the bearer token and returns its id', async () => {
      const result = await channel().send({ kind: 'text', to: '+16505551234', text: 'Hola 👋' });
      expect(graph.sent).toHaveLength(1);
      const sent = graph.sent[0];
      expect(result.messageId).toBe(sent?.id);
      expect(sent?.phoneNumberId).toBe(PHONE_ID);
      expect(sent?.body).toEqual({
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: '16505551234',
        type: 'text',
        text: { preview_url: false, body: 'Hola 👋' },
      });
      expect(graph.requests.every((r) => r.authorized)).toBe(true);
    });

    test('buttons, lists and templates are rendered as Graph API interactive and template messages', async () => {
      const c = channel();
      await c.send({
        kind: 'buttons',
        to: '+34600111222',
        text: '¿Aceptas?',
        buttons: [
          { id: 'consent.accept', title: 'Acepto' },
          { id: 'consent.decline', title: 'No acepto' },
        ],
      });
      await c.send({
        kind: 'list',
        to: '+34600111222',
        text: 'Elige un proceso',
        button: 'Ver procesos',
        rows: [{ id: 'DEV-1', title: 'Backend developer', description: 'Madrid, remoto' }],
      });
      await c.send({
        kind: 'template',
        to: '+34600111222',
        name: 'application_update',
        language: 'es',
        parameters: ['Ana'],
      });
      expect(graph.sent.map((s) => s.body)).toEqual([
        expect.objectContaining({
          type: 'interactive',
          interactive: {
            type: 'button',
            body: { text: '¿Aceptas?' },
            action: {
              buttons: [
                { type: 'reply', reply: { id: 'consent.accept', title: 'Acepto' } },
                { type: 'reply', reply: { id: 'consent.decline', title: 'No acepto' } },
              ],
            },
          },
        }),
        expect.objectContaining({
          type: 'interactive',
          interactive: {
            type: 'list',
            body: { text: 'Elige un proceso' },
            action: {
              button: 'Ver procesos',
              sections: [{ rows: [{ id: 'DEV-1', title: 'Backend developer', description: 'Madrid, remoto' }] }],
            },
          },
        }),
        expect.objectContaining({
          type: 'template',
          template: {
            name: 'application_update',
            language: { code: 'es' },
            components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ana' }] }],
          },
        }),
      ]);
    });

    test('a Graph API that fails twice with 5xx then succeeds delivers the message once', async () => {
      graph.failNext(failures.serverError(), failures.serverError());
      const result = await channel().send({ kind: 'text', to: '+16505551234', text: 'once' });
      expect(graph.requests).toHaveLength(3);
      expect(graph.sent).toHaveLength(1);
      expect(result.messageId).toBe(graph.sent[0]?.id);
    });

    test.each([
      ['130429 throughput limit (HTTP 400)', failures.rateLimit()],
      ['131056 pair rate limit (HTTP 400)', failures.pairRateLimit()],
      ['HTTP 429 with Retry-After: 0', failures.http429('0')],
      ['a dropped connection', failures.drop()],
    ])('%s is retried', async (_name, failure) => {
      graph.failNext(failure);
      await channel().send({ kind: 'text', to: '+16505551234', text: 'retry me' });
      expect(graph.requests).toHaveLength(2);
      expect(graph.sent).toHaveLength(1);
    });

    test('a permanent error (131026 undeliverable) is not retried and says so', async () => {
      graph.failNext(failures.undeliverable());
      const err = await rejection(channel().send({ kind: 'text', to: '+16505551234', text: 'x' }));
      expect(err.retryable).toBe(false);
      expect(err.metaCode).toBe(131026);
      expect(isRetryableSendError(err)).toBe(false);
      expect(graph.requests).toHaveLength(1);
      expect(graph.sent).toHaveLength(0);
    });

    test('when every attempt fails the error is retryable, for the outbox to try later', async () => {
      graph.failNext(...Array.from({ length: 4 }, failures.serverError));
      const err = await rejection(channel().send({ kind: 'text', to: '+16505551234', text: 'x' }));
      expect(err.retryable).toBe(true);
      expect(err.httpStatus).toBe(503);
      expect(graph.requests).toHaveLength(4);
      expect(graph.sent).toHaveLength(0);
    });

    test('a Retry-After longer than the in-call budget is handed to the caller instead of slept', async () => {
      graph.failNext(failures.http429('120'));
      const err = await rejection(channel().send({ kind: 'text', to: '+16505551234', text: 'x' }));
      expect(err.retryable).toBe(true);
      expect(err.code).toBe('rate_limited');
      expect(err.retryAfterMs).toBe(120_000);
      expect(graph.requests).toHaveLength(1);
    });

    test('a rejected access token fails permanently and turns health red', async () => {
      const c = channel({ accessToken: 'wrong' });
      const err = await rejection(c.send({ kind: 'text', to: '+16505551234', text: 'x' }));
      expect(err.retryable).toBe(false);
      expect(err.metaCode).toBe(190);
      expect(await c.health()).toMatchObject({ ok: false, state: 'auth_failed' });
      expect((await channel().health()).ok).toBe(true);
    });

    test('the per-recipient limiter refuses (retryable) past its burst, without touching other recipients', async () => {
      const frozen = Date.now();
      const c = channel({
        now: () => frozen,
        rateLimit: { perRecipient: { capacity: 2, refillPerSecond: 0.01 }, maxWaitMs: 0 },
      });
      await c.send({ kind: 'text', to: '+16505551234', text: '1' });
      await c.send({ kind: 'text', to: '+16505551234', text: '2' });
      const err = await rejection(c.send({ kind: 'text', to: '+16505551234', text: '3' }));
      expect(err.retryable).toBe(true);
      expect(err.code).toBe('rate_limited');
      expect(err.retryAfterMs).toBeGreaterThan(0);
      await c.send({ kind: 'text', to: '+34600111222', text: 'other' });
      expect(graph.sent.map((s) => s.body.text)).toEqual([
        expect.objectContaining({ body: '1' }),
        expect.objectContaining({ body: '2' }),
        expect.objectContaining({ body: 'other' }),
      ]);
    });

    test('within its wait budget the limiter delays the send instead of refusing it', async () => {
      const waits: number[] = [];
      const c = channel({
        rateLimit: { perRecipient: { capacity: 1, refillPerSecond: 200 } },
        sleep: async (ms) => {
          waits.push(ms);
          await delay(ms);
        },
      });
      await Promise.all([
        c.send({ kind: 'text', to: '+16505551234', text: 'a' }),
        c.send({ kind: 'text', to: '+16505551234', text: 'b' }),
      ]);
      expect(graph.sent).toHaveLength(2);
      expect(waits.some((w) => w > 0)).toBe(true);
    });

    test('sends are counted by kind and outcome', async () => {
      const registry = createMetricsRegistry();
      const c = channel({ metrics: createWhatsAppMetrics(registry) });
      graph.failNext(failures.serverError());
      await c.send({ kind: 'text', to: '+16505551234', text: 'x' });
      const text = await registry.metrics();
      expect(text).toContain('whatsapp_sends_total{transport="cloud",kind="text",outcome="ok"} 1');
      expect(text).toContain('whatsapp_send_retries_total{reason="503"} 1');
    });
  });

  describe('media download', () => {
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(300 * 1024)]);

    test('looks the media id up, then downloads the URL with the bearer token', async () => {
      const id = graph.addMedia(pdf, 'application/pdf');
      const media = await channel().downloadMedia({ id, filename: 'cv.pdf' }, 1024 * 1024);
      expect(media.data.equals(pdf)).toBe(true);
      expect(media.mimeType).toBe('application/pdf');
      expect(media.filename).toBe('cv.pdf');
      expect(graph.requests.map((r) => [r.method, r.path.replace(/\d+/, 'ID'), r.authorized])).toEqual([
        ['GET', '/ID', true],
        ['GET', '/_media/ID', true],
      ]);
    });

    test('a declared size over the cap is refused before downloading', async () => {
      const id = graph.addMedia(pdf, 'application/pdf');
      const err = await channel()
        .downloadMedia({ id }, 100 * 1024)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('payload_too_large');
      expect(graph.requests.some((r) => r.path.startsWith('/_media/'))).toBe(false);
    });

    test('a body that outgrows the cap while streaming is aborted', async () => {
      const id = graph.addMedia(pdf, 'application/pdf', { declaredSize: 10 });
      const err = await channel()
        .downloadMedia({ id }, 100 * 1024)
        .catch((e: unknown) => e);
      expect((err as AppError).code).toBe('payload_too_large');
    });

    test('a transient failure of the lookup is retried', async () => {
      const id = graph.addMedia(pdf, 'application/pdf');
      graph.failNext(failures.serverError());
      const media = await channel().downloadMedia({ id }, 1024 * 1024);
      expect(media.data.length).toBe(pdf.length);
    });

    test('an unknown media id fails permanently', async () => {
      const err = await rejection(channel().downloadMedia({ id: '123' }, 1024));
      expect(err.retryable).toBe(false);
      expect(err.httpStatus).toBe(404);
    });
  });
});
