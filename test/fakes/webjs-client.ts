import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { WebJsClientLike, WebJsMessageLike } from '../../src/whatsapp/web-js.ts';

/**
 * A stand-in for whatsapp-web.js' `Client`: an EventEmitter with the methods the channel calls.
 * Tests drive it by emitting the library's events (`qr`, `ready`, `message`, `disconnected`...).
 */
export class FakeWebJsClient extends EventEmitter implements WebJsClientLike {
  readonly name: string;
  initializeCalls = 0;
  destroyCalls = 0;
  /** initialize() rejects this many more times. */
  failInitialize = 0;
  failSend = 0;
  sent: { chatId: string; content: string; id: string }[] = [];
  messages = new Map<string, WebJsMessageLike>();
  /** lid chat id -> phone chat id (`...@c.us`), what getContactLidAndPhone answers. */
  lids = new Map<string, string>();

  constructor(name = 'client') {
    super();
    this.name = name;
  }

  async initialize() {
    this.initializeCalls++;
    if (this.failInitialize > 0) {
      this.failInitialize--;
      throw new Error('Failed to launch the browser process');
    }
  }

  async destroy() {
    this.destroyCalls++;
  }

  async sendMessage(chatId: string, content: string) {
    if (this.failSend > 0) {
      this.failSend--;
      throw new Error('Evaluation failed');
    }
    const id = `true_${chatId}_3EB0${randomBytes(8).toString('hex').toUpperCase()}`;
    this.sent.push({ chatId, content, id });
    return { id: { _serialized: id } };
  }

  async getMessageById(messageId: string) {
    return this.messages.get(messageId);
  }

  async getContactLidAndPhone(userIds: string[]) {
    return userIds.map((lid) => ({ lid, pn: this.lids.get(lid) ?? '' }));
  }
}

export interface FakeMessageInit {
  from?: string;
  body?: string;
  type?: string;
  fromMe?: boolean;
  isStatus?: boolean;
  notifyName?: string;
  media?: { data: Buffer; mimetype: string; filename?: string; declaredSize?: number };
  selectedButtonId?: string;
  selectedRowId?: string;
  id?: string;
}

/** A message shaped like whatsapp-web.js' `Message` (see the example in its typings). */
export function fakeMessage(init: FakeMessageInit = {}): WebJsMessageLike & { downloads: number } {
  const from = init.from ?? '5491122334455@c.us';
  const raw = init.id ?? `3EB0${randomBytes(8).toString('hex').toUpperCase()}`;
  const media = init.media;
  const msg = {
    downloads: 0,
    id: { fromMe: Boolean(init.fromMe), remote: from, id: raw, _serialized: `${Boolean(init.fromMe)}_${from}_${raw}` },
    ack: 1,
    from,
    to: '34600000000@c.us',
    fromMe: Boolean(init.fromMe),
    body: init.body ?? '',
    type: init.type ?? (media ? 'document' : 'chat'),
    timestamp: Math.floor(Date.now() / 1000),
    hasMedia: Boolean(media),
    isStatus: Boolean(init.isStatus),
    broadcast: false,
    ...(init.selectedButtonId ? { selectedButtonId: init.selectedButtonId } : {}),
    ...(init.selectedRowId ? { selectedRowId: init.selectedRowId } : {}),
    _data: {
      notifyName: init.notifyName ?? 'Lucía',
      ...(media
        ? { mimetype: media.mimetype, filename: media.filename, size: media.declaredSize ?? media.data.length }
        : {}),
    },
    async downloadMedia() {
      msg.downloads++;
      if (!media) return undefined;
      return {
        mimetype: media.mimetype,
        data: media.data.toString('base64'),
        filename: media.filename ?? null,
        filesize: media.data.length,
      };
    },
  };
  return msg;
}
