import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { AppError } from '../../../src/errors.ts';
import { createLogger } from '../../../src/logger.ts';
import type { InboundHandler, InboundMessage, StatusUpdate } from '../../../src/whatsapp/channel.ts';
import { WhatsAppSendError } from '../../../src/whatsapp/send-error.ts';
import { createWebJsChannel, renderAsText, type WebJsChannel } from '../../../src/whatsapp/web-js.ts';
import { FakeWebJsClient, fakeMessage } from '../../fakes/webjs-client.ts';

const logger = createLogger({ level: 'silent' });

function recorder(): InboundHandler & { messages: InboundMessage[]; statuses: StatusUpdate[] } {
  const messages: InboundMessage[] = [];
  const statuses: StatusUpdate[] = [];
  return {
    messages,
    statuses,
    async onMessages(m) {
      messages.push(...m);
    },
    async onStatuses(s) {
      statuses.push(...s);
    },
  };
}

const channels: WebJsChannel[] = [];
afterEach(async () => {
  await Promise.all(channels.splice(0).map((c) => c.stop()));
});

/** A started channel whose client said `ready`; the returned handler is the recorder unless one was given. */
async function readyChannel(client = new FakeWebJsClient(), given?: InboundHandler) {
  const handler = (given ?? recorder()) as ReturnType<typeof recorder>;
  const channel = createWebJsChannel({
    client,
    logger,
    qrOutput: null,
    reconnect: { baseDelayMs: 1, maxDelayMs: 5 },
    delivery: { baseDelayMs: 1 },
  });
  channels.push(channel);
  await channel.start(handler);
  client.emit('ready');
  return { channel, client, handler };
}

describe('whatsapp-web.js channel: inbound', () => {
  test('a text message is normalized, its serialized id kept as the dedupe key', async () => {
    const { client, handler } = await readyChannel();
    const msg = fakeMessage({ body: 'hola', notifyName: 'Lucía' });
    client.emit('message', msg);
    await vi.waitFor(() => expect(handler.messages).toHaveLength(1));
    expect(handler.messages[0]).toEqual({
      id: msg.id._serialized,
      from: '+5491122334455',
      timestamp: new Date(msg.timestamp * 1000),
      type: 'text',
      text: 'hola',
      profileName: 'Lucía',
    });
  });

  test('the same message emitted twice is handed over once', async () => {
    const { client, handler } = await readyChannel();
    const msg = fakeMessage({ body: 'hola' });
    client.emit('message', msg);
    client.emit('message', msg);
    client.emit('message', fakeMessage({ body: 'otra' }));
    await vi.waitFor(() => expect(handler.messages).toHaveLength(2));
    expect(handler.messages.map((m) => m.text)).toEqual(['hola', 'otra']);
  });

  test('own messages, status updates, groups and system notifications are ignored', async () => {
    const { client, handler } = await readyChannel();
    client.emit('message', fakeMessage({ body: 'mine', fromMe: true }));
    client.emit('message', fakeMessage({ body: 'story', isStatus: true, from: 'status@broadcast' }));
    client.emit('message', fakeMessage({ body: 'group', from: '120363025246125888@g.us' }));
    client.emit('message', fakeMessage({ type: 'e2e_notification' }));
    client.emit('message', fakeMessage({ body: 'real' }));
    await vi.waitFor(() => expect(handler.messages).toHaveLength(1));
    expect(handler.messages[0]?.text).toBe('real');
  });

  test('other kinds (audio, image, sticker...) arrive as `other` with the raw type', async () => {
    const { client, handler } = await readyChannel();
    client.emit('message', fakeMessage({ type: 'ptt' }));
    client.emit('message', fakeMessage({ type: 'sticker' }));
    await vi.waitFor(() => expect(handler.messages).toHaveLength(2));
    expect(handler.messages.map((m) => [m.type, m.rawType])).toEqual([
      ['other', 'ptt'],
      ['other', 'sticker'],
    ]);
  });

  test("one person's messages reach the handler in order even when the handler is slow", async () => {
    const client = new FakeWebJsClient();
    const seen: string[] = [];
    let active = 0;
    let overlapped = false;
    await readyChannel(client, {
      async onMessages([m]) {
        active++;
        if (active > 1) overlapped = true;
        await new Promise((r) => setTimeout(r, m?.text === '1' ? 30 : 1));
        seen.push(m?.text ?? '');
        active--;
      },
    });
    for (const body of ['1', '2', '3', '4']) client.emit('message', fakeMessage({ body }));
    await vi.waitFor(() => expect(seen).toHaveLength(4));
    expect(seen).toEqual(['1', '2', '3', '4']);
    expect(overlapped).toBe(false);
  });

  test('a failing handler is retried (nobody redelivers web-js messages)', async () => {
    const client = new FakeWebJsClient();
    let calls = 0;
    const got: InboundMessage[] = [];
    await readyChannel(client, {
      async onMessages(m) {
        calls++;
        if (calls < 3) throw new Error('database is down');
        got.push(...m);
      },
    });
    client.emit('message', fakeMessage({ body: 'hola' }));
    await vi.waitFor(() => expect(got).toHaveLength(1));
    expect(calls).toBe(3);
  });

  test('a sender known by a lid is resolved to the phone, and replies go back to the lid chat', async () => {
    const client = new FakeWebJsClient();
    client.lids.set('179950657237125@lid', '5491155556666@c.us');
    const { channel, handler } = await readyChannel(client);
    client.emit('message', fakeMessage({ from: '179950657237125@lid', body: 'hola' }));
    await vi.waitFor(() => expect(handler.messages).toHaveLength(1));
    expect(handler.messages[0]?.from).toBe('+5491155556666');
    await channel.send({ kind: 'text', to: '+5491155556666', text: 'hi' });
    expect(client.sent[0]?.chatId).toBe('179950657237125@lid');
  });

  test('legacy button and list responses carry their ids', async () => {
    const { client, handler } = await readyChannel();
    client.emit('message', fakeMessage({ type: 'buttons_response', body: 'Sí', selectedButtonId: 'answer.yes' }));
    client.emit('message', fakeMessage({ type: 'list_response', body: 'Dev', selectedRowId: 'DEV-1' }));
    await vi.waitFor(() => expect(handler.messages).toHaveLength(2));
    expect(handler.messages.map((m) => [m.type, m.replyId])).toEqual([
      ['interactive', 'answer.yes'],
      ['interactive', 'DEV-1'],
    ]);
  });

  test('acks of our own messages become status updates', async () => {
    const { client, handler } = await readyChannel();
    const mine = fakeMessage({ fromMe: true });
    client.emit('message_ack', mine, 2);
    client.emit('message_ack', mine, 3);
    client.emit('message_ack', fakeMessage(), 3);
    await vi.waitFor(() => expect(handler.statuses).toHaveLength(2));
    expect(handler.statuses.map((s) => [s.messageId, s.status])).toEqual([
      [mine.id._serialized, 'delivered'],
      [mine.id._serialized, 'read'],
    ]);
  });
});

describe('whatsapp-web.js channel: numbered options', () => {
  const consent = {
    kind: 'buttons' as const,
    to: '+5491122334455',
    text: '¿Aceptas el tratamiento de tus datos?',
    buttons: [
      { id: 'consent.accept', title: 'Acepto' },
      { id: 'consent.decline', title: 'No acepto' },
    ],
  };

  test('buttons and lists are sent as numbered text', async () => {
    const { channel, client } = await readyChannel();
    await channel.send(consent);
    await channel.send({
      kind: 'list',
      to: '+5491122334455',
      text: 'Elige un proceso',
      button: 'Ver',
      rows: [
        { id: 'DEV-1', title: 'Backend developer', description: 'Madrid' },
        { id: 'OPS-2', title: 'SRE' },
      ],
    });
    expect(client.sent.map((s) => s.content)).toEqual([
      '¿Aceptas el tratamiento de tus datos?\n\n*1.* Acepto\n*2.* No acepto',
      'Elige un proceso\n\n*1.* Backend developer — Madrid\n*2.* SRE',
    ]);
    expect(client.sent[0]?.chatId).toBe('5491122334455@c.us');
  });

  test('a typed number (or the option title) comes back as the option id', async () => {
    const { channel, client, handler } = await readyChannel();
    await channel.send(consent);
    client.emit('message', fakeMessage({ body: ' 2 ' }));
    client.emit('message', fakeMessage({ body: 'ACEPTO' }));
    client.emit('message', fakeMessage({ body: '7' }));
    await vi.waitFor(() => expect(handler.messages).toHaveLength(3));
    expect(handler.messages.map((m) => [m.type, m.replyId, m.text])).toEqual([
      ['interactive', 'consent.decline', 'No acepto'],
      ['interactive', 'consent.accept', 'Acepto'],
      ['text', undefined, '7'],
    ]);
  });

  test('options belong to the latest message: after a plain text, numbers are plain text again', async () => {
    const { channel, client, handler } = await readyChannel();
    await channel.send(consent);
    await channel.send({ kind: 'text', to: consent.to, text: '¿Cuántos años de experiencia tienes?' });
    client.emit('message', fakeMessage({ body: '2' }));
    await vi.waitFor(() => expect(handler.messages).toHaveLength(1));
    expect(handler.messages[0]).toMatchObject({ type: 'text', text: '2' });
  });

  test('options are per person', async () => {
    const { channel, client, handler } = await readyChannel();
    await channel.send(consent);
    client.emit('message', fakeMessage({ from: '34611222333@c.us', body: '1' }));
    await vi.waitFor(() => expect(handler.messages).toHaveLength(1));
    expect(handler.messages[0]).toMatchObject({ type: 'text', text: '1' });
  });

  test('templates are sent as their parameters; one without parameters is refused for good', () => {
    expect(renderAsText({ kind: 'template', to: '+1', name: 'x', language: 'es', parameters: ['a', 'b'] }).text).toBe(
      'a\nb',
    );
    expect(() => renderAsText({ kind: 'template', to: '+1', name: 'x', language: 'es', parameters: [] })).toThrow(
      WhatsAppSendError,
    );
  });
});

describe('whatsapp-web.js channel: media', () => {
  const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(64 * 1024)]);

  test('documents arrive with a media ref and download through downloadMedia()', async () => {
    const { channel, client, handler } = await readyChannel();
    const msg = fakeMessage({ body: 'mi CV', media: { data: pdf, mimetype: 'application/pdf', filename: 'cv.pdf' } });
    client.emit('message', msg);
    await vi.waitFor(() => expect(handler.messages).toHaveLength(1));
    const inbound = handler.messages[0] as InboundMessage;
    expect(inbound).toMatchObject({
      type: 'document',
      text: 'mi CV',
      media: { id: msg.id._serialized, mimeType: 'application/pdf', filename: 'cv.pdf', size: pdf.length },
    });
    const media = await channel.downloadMedia(inbound.media as NonNullable<InboundMessage['media']>, 1024 * 1024);
    expect(media.data.equals(pdf)).toBe(true);
    expect(media).toMatchObject({ mimeType: 'application/pdf', filename: 'cv.pdf' });
  });

  test('a message no longer cached is fetched by id', async () => {
    const { channel, client } = await readyChannel();
    const msg = fakeMessage({ media: { data: pdf, mimetype: 'application/pdf' } });
    client.messages.set(msg.id._serialized, msg);
    const media = await channel.downloadMedia({ id: msg.id._serialized }, 1024 * 1024);
    expect(media.data.length).toBe(pdf.length);
  });

  test('size caps: by the declared size before downloading, and by the actual bytes after', async () => {
    const { channel, client } = await readyChannel();
    const declared = fakeMessage({ media: { data: pdf, mimetype: 'application/pdf' } });
    const lying = fakeMessage({ media: { data: pdf, mimetype: 'application/pdf', declaredSize: 10 } });
    client.messages.set(declared.id._serialized, declared);
    client.messages.set(lying.id._serialized, lying);
    const e1 = await channel.downloadMedia({ id: declared.id._serialized }, 1024).catch((e: unknown) => e);
    expect((e1 as AppError).code).toBe('payload_too_large');
    expect(declared.downloads).toBe(0);
    const e2 = await channel.downloadMedia({ id: lying.id._serialized }, 1024).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(AppError);
    expect((e2 as AppError).code).toBe('payload_too_large');
  });

  test('an unknown message fails permanently', async () => {
    const { channel } = await readyChannel();
    const err = await channel.downloadMedia({ id: 'false_1@c.us_X' }, 1024).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WhatsAppSendError);
    expect((err as WhatsAppSendError).retryable).toBe(false);
  });
});

describe('whatsapp-web.js channel: session', () => {
  test('a QR code is drawn in the terminal and offered as a PNG data URL until logged in', async () => {
    const client = new FakeWebJsClient();
    const out = new PassThrough();
    let drawn = '';
    out.on('data', (c: Buffer) => {
      drawn += c.toString();
    });
    const channel = createWebJsChannel({ client, logger, qrOutput: out });
    channels.push(channel);
    await channel.start(recorder());
    expect(await channel.qr()).toBeNull();
    client.emit(
      'qr',
      '2@9Q8tWf6bnezr8uVGwVCluyRuBOJ3tIglimzI5dHB0vQW2m4DQ0GMlCGf,f1/vGcW4Z3vBa1eDNl3tOjWqLL5DpYTI84DMVkYnQE8=',
    );
    expect(await channel.qr()).toMatch(/^data:image\/png;base64,/);
    expect(drawn).toContain('▄');
    expect(await channel.health()).toMatchObject({ ok: false, state: 'qr', details: { qrPending: true } });
    client.emit('authenticated');
    client.emit('ready');
    expect(await channel.qr()).toBeNull();
    expect(await channel.health()).toMatchObject({ ok: true, state: 'ready' });
  });

  test('sending while not logged in fails retryable', async () => {
    const client = new FakeWebJsClient();
    const channel = createWebJsChannel({ client, logger, qrOutput: null });
    channels.push(channel);
    await channel.start(recorder());
    const err = await channel.send({ kind: 'text', to: '+1', text: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WhatsAppSendError);
    expect((err as WhatsAppSendError).retryable).toBe(true);
    expect(client.sent).toHaveLength(0);
  });

  test('a disconnect is followed by a reconnect on the same client', async () => {
    const { channel, client } = await readyChannel();
    await vi.waitFor(() => expect(client.initializeCalls).toBe(1));
    client.emit('disconnected', 'NAVIGATION');
    expect((await channel.health()).ok).toBe(false);
    await vi.waitFor(() => expect(client.initializeCalls).toBe(2));
    expect(client.destroyCalls).toBe(1);
    client.emit('ready');
    expect(await channel.health()).toMatchObject({ ok: true, state: 'ready' });
  });

  test('with a factory, each reconnect builds a fresh client and drops the old one', async () => {
    const made: FakeWebJsClient[] = [];
    const handler = recorder();
    const channel = createWebJsChannel({
      clientFactory: () => {
        const c = new FakeWebJsClient(`client-${made.length}`);
        if (made.length === 0) c.failInitialize = 1;
        made.push(c);
        return c;
      },
      logger,
      qrOutput: null,
      reconnect: { baseDelayMs: 1, maxDelayMs: 5 },
    });
    channels.push(channel);
    await channel.start(handler);
    // The first browser fails to start; the second one logs in, then is disconnected.
    await vi.waitFor(() => expect(made).toHaveLength(2));
    made[1]?.emit('ready');
    expect(channel.state()).toBe('ready');
    made[1]?.emit('disconnected', 'LOGOUT');
    await vi.waitFor(() => expect(made).toHaveLength(3));
    expect(made[1]?.destroyCalls).toBe(1);
    // Events of a dropped client are not listened to any more.
    made[1]?.emit('message', fakeMessage({ body: 'ghost' }));
    made[2]?.emit('ready');
    made[2]?.emit('message', fakeMessage({ body: 'alive' }));
    await vi.waitFor(() => expect(handler.messages).toHaveLength(1));
    expect(handler.messages[0]?.text).toBe('alive');
  });

  test('change_state other than CONNECTED turns health red; stop destroys the client', async () => {
    const { channel, client } = await readyChannel();
    client.emit('change_state', 'CONFLICT');
    expect(await channel.health()).toMatchObject({ ok: false, details: { waState: 'CONFLICT' } });
    client.emit('change_state', 'CONNECTED');
    expect((await channel.health()).ok).toBe(true);
    await channel.stop();
    expect(client.destroyCalls).toBe(1);
    expect(channel.state()).toBe('stopped');
  });
});
