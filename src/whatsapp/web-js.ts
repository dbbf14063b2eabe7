import QRCode from 'qrcode';
import qrcodeTerminal from 'qrcode-terminal';
import { AppError } from '../errors.ts';
import { type Logger, phoneRef, scrub } from '../logger.ts';
import type {
  Channel,
  DownloadedMedia,
  InboundHandler,
  InboundMessage,
  MediaRef,
  MessageStatus,
  OutboundMessage,
  SendResult,
} from './channel.ts';
import type { WhatsAppMetrics } from './metrics.ts';
import { createRedisRemoteAuthStore, type SessionKv } from './remote-auth-store.ts';
import { WhatsAppSendError } from './send-error.ts';

/** The parts of a whatsapp-web.js `Message` the channel reads (the real class satisfies it). */
export interface WebJsMessageLike {
  id: { _serialized: string };
  from: string;
  fromMe?: boolean;
  body: string;
  type: string;
  timestamp: number;
  hasMedia?: boolean;
  isStatus?: boolean;
  broadcast?: boolean;
  selectedButtonId?: string;
  selectedRowId?: string;
  /** Raw WhatsApp Web data; only these fields are read. */
  _data?: { notifyName?: string; mimetype?: string; filename?: string; size?: number };
  downloadMedia(): Promise<
    { mimetype: string; data: string; filename?: string | null; filesize?: number | null } | null | undefined
  >;
}

// biome-ignore lint/suspicious/noExplicitAny: event listeners of an EventEmitter take whatever the event carries.
type Listener = (...args: any[]) => void;

/** The parts of a whatsapp-web.js `Client` the channel uses, so tests can pass an EventEmitter fake. */
export interface WebJsClientLike {
  on(event: string, listener: Listener): unknown;
  removeListener(event: string, listener: Listener): unknown;
  initialize(): Promise<void>;
  destroy(): Promise<void>;
  sendMessage(chatId: string, content: string): Promise<{ id: { _serialized: string } }>;
  getMessageById?(messageId: string): Promise<WebJsMessageLike | null | undefined>;
  getContactLidAndPhone?(userIds: string[]): Promise<{ lid: string; pn: string }[]>;
}

export type WebJsState = 'stopped' | 'starting' | 'qr' | 'authenticated' | 'ready' | 'reconnecting' | 'auth_failure';

export interface WebJsChannelOptions {
  /** A ready-made client (reused across reconnects); or `clientFactory` for a fresh one per connection. */
  client?: WebJsClientLike;
  clientFactory?: () => WebJsClientLike | Promise<WebJsClientLike>;
  logger: Logger;
  metrics?: WhatsAppMetrics;
  /** Where the QR code is drawn for scanning (qrcode-terminal); null draws nothing. Default stdout. */
  qrOutput?: NodeJS.WritableStream | null;
  /** How long numbered options stay answerable after they were sent (default 24 h). */
  optionsTtlMs?: number;
  reconnect?: { baseDelayMs?: number; maxDelayMs?: number };
  /** Inbound messages are retried this often if the handler fails (nobody redelivers them otherwise). */
  delivery?: { attempts?: number; baseDelayMs?: number };
  now?: () => number;
}

export interface WebJsChannel extends Channel {
  readonly kind: 'webjs';
  /** The QR code waiting to be scanned, as a PNG data URL; null when logged in (or not started). */
  qr(): Promise<string | null>;
  state(): WebJsState;
}

interface Option {
  id: string;
  title: string;
}

/** Message types that are WhatsApp's own bookkeeping, never something a person said. */
const SYSTEM_TYPES = new Set([
  'e2e_notification',
  'notification',
  'notification_template',
  'protocol',
  'revoked',
  'ciphertext',
  'call_log',
  'gp2',
  'broadcast_notification',
  'group_notification',
  'debug',
  'reaction',
]);

const ACK_STATUS: Record<number, MessageStatus> = { [-1]: 'failed', 1: 'sent', 2: 'delivered', 3: 'read', 4: 'read' };
const RECENT_IDS = 2_000;
const RECENT_MEDIA = 200;

const digits = (phone: string) => phone.replace(/^\+/, '');
const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').trim().toLowerCase();

/** Buttons and lists as text: whatsapp-web.js can no longer send them, so options are numbered. */
export function renderAsText(message: OutboundMessage): { text: string; options: Option[] | null } {
  switch (message.kind) {
    case 'text':
      return { text: message.text, options: null };
    case 'buttons':
      return {
        text: `${message.text}\n\n${message.buttons.map((b, i) => `*${i + 1}.* ${b.title}`).join('\n')}`,
        options: message.buttons.map(({ id, title }) => ({ id, title })),
      };
    case 'list':
      return {
        text: `${message.text}\n\n${message.rows
          .map((r, i) => `*${i + 1}.* ${r.title}${r.description ? ` — ${r.description}` : ''}`)
          .join('\n')}`,
        options: message.rows.map(({ id, title }) => ({ id, title })),
      };
    case 'template':
      // No templates (and no 24-hour window) on a personal number: their parameters are sent as text.
      if (message.parameters.length === 0) {
        throw new WhatsAppSendError('Templates without parameters cannot be sent through whatsapp-web.js', {
          retryable: false,
        });
      }
      return { text: message.parameters.join('\n'), options: null };
  }
}

/**
 * A Channel over whatsapp-web.js (a phone's own WhatsApp, logged in by scanning a QR code).
 * Inbound `message` events become InboundMessages (id = the message's serialized id, so the engine's
 * dedupe applies); buttons and lists are sent as numbered text and a typed number (or the option's
 * title) comes back as the option's `replyId`. The session is watched and re-established with backoff.
 */
export function createWebJsChannel(options: WebJsChannelOptions): WebJsChannel {
  if (!options.client && !options.clientFactory) throw new Error('createWebJsChannel: client or clientFactory');
  const { metrics } = options;
  const log = options.logger.child({ component: 'whatsapp-webjs' });
  const now = options.now ?? Date.now;
  const qrOutput = options.qrOutput === undefined ? process.stdout : options.qrOutput;
  const optionsTtlMs = options.optionsTtlMs ?? 24 * 3_600_000;
  const reconnectBase = options.reconnect?.baseDelayMs ?? 2_000;
  const reconnectMax = options.reconnect?.maxDelayMs ?? 60_000;
  const deliveryAttempts = options.delivery?.attempts ?? 5;
  const deliveryBase = options.delivery?.baseDelayMs ?? 500;

  let client: WebJsClientLike | undefined = options.client;
  let handler: InboundHandler | undefined;
  let state: WebJsState = 'stopped';
  let waState: string | undefined;
  let qrString: string | undefined;
  let reconnectAttempts = 0;
  let lastProblem: string | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let stopped = true;

  const pendingOptions = new Map<string, { options: Option[]; expiresAt: number }>();
  /** Phone (E.164) -> the chat id replies go to (a `@c.us` or `@lid` id as it came in). */
  const chatIds = new Map<string, string>();
  const lidPhones = new Map<string, string>();
  const recentIds = new Set<string>();
  const recentMedia = new Map<string, WebJsMessageLike>();
  const chains = new Map<string, Promise<void>>();

  function setState(next: WebJsState) {
    if (state !== next) log.info({ from: state, to: next }, 'whatsapp-web.js session state');
    state = next;
    metrics?.sessionReady.set(next === 'ready' ? 1 : 0);
  }

  function remember<K, V>(map: Map<K, V>, key: K, value: V, max: number) {
    map.delete(key);
    map.set(key, value);
    if (map.size > max) map.delete(map.keys().next().value as K);
  }

  // --- client events -------------------------------------------------------------------------
  const listeners: Record<string, Listener> = {
    qr: (qr: string) => {
      qrString = qr;
      setState('qr');
      log.info('scan the QR code with WhatsApp (Linked devices) to log in');
      if (qrOutput) qrcodeTerminal.generate(qr, { small: true }, (drawing) => qrOutput.write(`${drawing}\n`));
    },
    authenticated: () => {
      qrString = undefined;
      setState('authenticated');
    },
    auth_failure: (message: string) => {
      lastProblem = `auth_failure: ${scrub(String(message)).slice(0, 200)}`;
      log.error({ reason: lastProblem }, 'whatsapp-web.js authentication failed');
      setState('auth_failure');
      scheduleReconnect();
    },
    ready: () => {
      qrString = undefined;
      reconnectAttempts = 0;
      setState('ready');
    },
    change_state: (s: string) => {
      waState = String(s);
      log.info({ waState }, 'whatsapp-web.js connection state changed');
    },
    disconnected: (reason: string) => {
      lastProblem = `disconnected: ${scrub(String(reason)).slice(0, 100)}`;
      log.warn({ reason: lastProblem }, 'whatsapp-web.js disconnected');
      scheduleReconnect();
    },
    message: (msg: WebJsMessageLike) => {
      receive(msg);
    },
    message_ack: (msg: WebJsMessageLike, ack: number) => {
      const status = ACK_STATUS[ack];
      if (!msg?.fromMe || !status || !handler?.onStatuses) return;
      metrics?.statusUpdates.inc({ transport: 'webjs', status });
      handler
        .onStatuses([{ messageId: msg.id._serialized, status, timestamp: new Date(now()) }])
        .catch((err: unknown) => log.warn({ err: errInfo(err) }, 'status update not recorded'));
    },
  };

  function attach(c: WebJsClientLike) {
    for (const [event, fn] of Object.entries(listeners)) c.on(event, fn);
  }
  function detach(c: WebJsClientLike) {
    for (const [event, fn] of Object.entries(listeners)) c.removeListener(event, fn);
  }

  async function connect(): Promise<void> {
    if (stopped) return;
    setState('starting');
    try {
      if (options.clientFactory) {
        const fresh = await options.clientFactory();
        if (stopped) {
          await fresh.destroy().catch(() => {});
          return;
        }
        client = fresh;
        attach(client);
      }
      await (client as WebJsClientLike).initialize();
    } catch (err) {
      lastProblem = `start failed: ${errInfo(err).message.slice(0, 200)}`;
      log.error({ err: errInfo(err) }, 'whatsapp-web.js failed to start');
      scheduleReconnect();
    }
  }

  function scheduleReconnect() {
    if (stopped || reconnectTimer) return;
    setState('reconnecting');
    reconnectAttempts++;
    metrics?.reconnects.inc();
    const wait = Math.min(reconnectBase * 2 ** (reconnectAttempts - 1), reconnectMax);
    log.info({ attempt: reconnectAttempts, waitMs: wait }, 'whatsapp-web.js reconnecting');
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      const old = client;
      if (old && options.clientFactory) detach(old);
      void (old ? old.destroy().catch(() => {}) : Promise.resolve()).then(connect);
    }, wait);
    reconnectTimer.unref?.();
  }

  // --- inbound ---------------------------------------------------------------------------------
  function receive(msg: WebJsMessageLike) {
    if (!msg?.id?._serialized || msg.fromMe || msg.isStatus || msg.broadcast) return;
    if (!/@(c\.us|lid|s\.whatsapp\.net)$/.test(msg.from)) return; // groups, channels, status broadcasts
    if (SYSTEM_TYPES.has(msg.type)) return;
    const id = msg.id._serialized;
    if (recentIds.has(id)) return; // the library sometimes emits a message twice; the engine dedupes anyway
    recentIds.add(id);
    if (recentIds.size > RECENT_IDS) recentIds.delete(recentIds.values().next().value as string);
    // One chain per chat keeps each person's messages in order through the async steps below.
    const previous = chains.get(msg.from) ?? Promise.resolve();
    const next = previous.then(() => deliver(msg));
    chains.set(msg.from, next);
    void next.finally(() => {
      if (chains.get(msg.from) === next) chains.delete(msg.from);
    });
  }

  async function deliver(msg: WebJsMessageLike): Promise<void> {
    let inbound: InboundMessage;
    try {
      inbound = await normalize(msg);
    } catch (err) {
      log.warn({ err: errInfo(err), messageId: msg.id._serialized }, 'message not normalized');
      return;
    }
    metrics?.inboundMessages.inc({ transport: 'webjs', type: inbound.type });
    for (let attempt = 1; ; attempt++) {
      try {
        if (!handler) throw new Error('channel not started');
        await handler.onMessages([inbound]);
        return;
      } catch (err) {
        if (attempt >= deliveryAttempts || stopped) {
          log.error(
            { err: errInfo(err), messageId: inbound.id, senderRef: phoneRef(inbound.from) },
            'inbound message dropped after retries',
          );
          return;
        }
        await new Promise((r) => setTimeout(r, deliveryBase * 2 ** (attempt - 1)));
      }
    }
  }

  async function phoneOf(chatId: string): Promise<string> {
    const [user = '', server = ''] = chatId.split('@');
    if (server !== 'lid') return `+${user}`;
    const known = lidPhones.get(chatId);
    if (known) return known;
    let phone: string | undefined;
    try {
      const found = await client?.getContactLidAndPhone?.([chatId]);
      const pn = found?.[0]?.pn;
      if (pn) phone = `+${pn.split('@')[0]}`;
    } catch (err) {
      log.debug({ err: errInfo(err) }, 'lid lookup failed');
    }
    if (!phone) {
      // WhatsApp hides this person's number: the lid digits stand in as a stable identity.
      log.warn('sender known only by a WhatsApp lid; using it as the phone identity');
      phone = `+${user}`;
    }
    remember(lidPhones, chatId, phone, 10_000);
    return phone;
  }

  async function normalize(msg: WebJsMessageLike): Promise<InboundMessage> {
    const from = await phoneOf(msg.from);
    remember(chatIds, from, msg.from, 10_000);
    const base = {
      id: msg.id._serialized,
      from,
      timestamp: new Date((msg.timestamp || Math.floor(now() / 1000)) * 1000),
      ...(msg._data?.notifyName ? { profileName: msg._data.notifyName } : {}),
    };
    switch (msg.type) {
      case 'chat': {
        const option = matchOption(from, msg.body);
        if (option) return { ...base, type: 'interactive', replyId: option.id, text: option.title };
        return { ...base, type: 'text', text: msg.body };
      }
      case 'document': {
        remember(recentMedia, base.id, msg, RECENT_MEDIA);
        const d = msg._data ?? {};
        return {
          ...base,
          type: 'document',
          ...(msg.body ? { text: msg.body } : {}),
          media: {
            id: base.id,
            ...(d.mimetype ? { mimeType: d.mimetype } : {}),
            ...(d.filename ? { filename: d.filename } : {}),
            ...(typeof d.size === 'number' ? { size: d.size } : {}),
          },
        };
      }
      case 'buttons_response':
        return { ...base, type: 'interactive', replyId: msg.selectedButtonId ?? msg.body, text: msg.body };
      case 'list_response':
        return { ...base, type: 'interactive', replyId: msg.selectedRowId ?? msg.body, text: msg.body };
      default:
        return { ...base, type: 'other', rawType: msg.type };
    }
  }

  function matchOption(phone: string, text: string): Option | undefined {
    const entry = pendingOptions.get(phone);
    if (!entry) return undefined;
    if (entry.expiresAt <= now()) {
      pendingOptions.delete(phone);
      return undefined;
    }
    const number = /^\s*\*?(\d{1,2})\*?\s*[.)]?\s*$/.exec(text);
    if (number) return entry.options[Number(number[1]) - 1];
    const folded = fold(text);
    return entry.options.find((o) => fold(o.title) === folded);
  }

  function setOptions(phone: string, opts: Option[] | null) {
    if (!opts) {
      pendingOptions.delete(phone);
      return;
    }
    remember(pendingOptions, phone, { options: opts, expiresAt: now() + optionsTtlMs }, 50_000);
  }

  // --- channel ---------------------------------------------------------------------------------
  return {
    kind: 'webjs',

    async send(message: OutboundMessage): Promise<SendResult> {
      const end = metrics?.sendDuration.startTimer({ transport: 'webjs' });
      try {
        const { text, options: opts } = renderAsText(message);
        if (!client || state !== 'ready') {
          throw new WhatsAppSendError(`WhatsApp Web session is not ready (${state})`, { retryable: true });
        }
        const chatId = chatIds.get(message.to) ?? `${digits(message.to)}@c.us`;
        let sent: { id: { _serialized: string } };
        try {
          sent = await client.sendMessage(chatId, text);
        } catch (err) {
          throw new WhatsAppSendError(`whatsapp-web.js send failed: ${errInfo(err).message}`, {
            retryable: true,
            cause: err,
          });
        }
        // The numbered options belong to the latest message this person got.
        setOptions(message.to, opts);
        metrics?.sends.inc({ transport: 'webjs', kind: message.kind, outcome: 'ok' });
        return { messageId: sent.id._serialized };
      } catch (err) {
        const retryable = err instanceof WhatsAppSendError && err.retryable;
        metrics?.sends.inc({ transport: 'webjs', kind: message.kind, outcome: retryable ? 'retryable' : 'permanent' });
        log.warn({ recipientRef: phoneRef(message.to), kind: message.kind, err: errInfo(err) }, 'not sent');
        throw err;
      } finally {
        end?.();
      }
    },

    async downloadMedia(media: MediaRef, maxBytes: number): Promise<DownloadedMedia> {
      try {
        const msg = recentMedia.get(media.id) ?? (await client?.getMessageById?.(media.id)) ?? undefined;
        if (!msg) throw new WhatsAppSendError('The message with this media is gone', { retryable: false });
        const declared = media.size ?? msg._data?.size;
        if (declared !== undefined && declared > maxBytes) throw tooLarge(declared, maxBytes);
        let m: Awaited<ReturnType<WebJsMessageLike['downloadMedia']>>;
        try {
          m = await msg.downloadMedia();
        } catch (err) {
          throw new WhatsAppSendError('whatsapp-web.js media download failed', { retryable: true, cause: err });
        }
        if (!m) throw new WhatsAppSendError('WhatsApp Web could not download the media', { retryable: true });
        // The library hands over base64 in one piece: check the size before decoding it.
        if (Math.floor((m.data.length * 3) / 4) - 2 > maxBytes) throw tooLarge(undefined, maxBytes);
        const data = Buffer.from(m.data, 'base64');
        if (data.length > maxBytes) throw tooLarge(data.length, maxBytes);
        metrics?.mediaDownloads.inc({ transport: 'webjs', outcome: 'ok' });
        metrics?.mediaBytes.inc({ transport: 'webjs' }, data.length);
        const filename = m.filename ?? media.filename;
        return { data, mimeType: m.mimetype || media.mimeType, ...(filename ? { filename } : {}) };
      } catch (err) {
        const tooBig = err instanceof AppError && err.code === 'payload_too_large';
        metrics?.mediaDownloads.inc({ transport: 'webjs', outcome: tooBig ? 'too_large' : 'failed' });
        throw err;
      }
    },

    async start(h: InboundHandler) {
      handler = h;
      if (!stopped) return;
      stopped = false;
      if (client && !options.clientFactory) attach(client);
      // Logging in may wait for a QR scan: it continues in the background, `health()` tells when ready.
      void connect();
    },

    async stop() {
      stopped = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      reconnectTimer = undefined;
      const c = client;
      if (c) {
        detach(c);
        await c.destroy().catch(() => {});
      }
      if (options.clientFactory) client = undefined;
      setState('stopped');
    },

    async health() {
      const connected = waState === undefined || waState === 'CONNECTED';
      return {
        ok: state === 'ready' && connected,
        state,
        details: {
          ...(waState ? { waState } : {}),
          reconnectAttempts,
          qrPending: qrString !== undefined,
          ...(lastProblem ? { lastProblem } : {}),
        },
      };
    },

    async qr() {
      return qrString ? QRCode.toDataURL(qrString) : null;
    },

    state: () => state,
  };
}

/** Library errors may quote chat ids (phone numbers): only scrubbed messages reach logs and errors. */
function errInfo(err: unknown): { message: string } {
  return { message: scrub(err instanceof Error ? err.message : String(err)) };
}

function tooLarge(size: number | undefined, maxBytes: number): AppError {
  return new AppError('payload_too_large', `The file is larger than ${maxBytes} bytes`, { maxBytes, size });
}

// --- the real client ------------------------------------------------------------------------------

export type WebJsAuth =
  | { kind: 'local'; dataPath: string; clientId?: string }
  | {
      kind: 'remote';
      /** Where the session zip lives in Redis (a KvStore will do); the store is built on the same dataPath. */
      kv: SessionKv;
      dataPath: string;
      clientId?: string;
      /** How often RemoteAuth re-uploads the session (its minimum is 60 s). */
      backupSyncIntervalMs?: number;
    };

export interface WebJsClientConfig {
  /** `PUPPETEER_EXECUTABLE_PATH`: Debian's chromium by default; nothing is downloaded. */
  executablePath: string;
  auth: WebJsAuth;
  extraArgs?: string[];
  logger?: Logger;
}

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-setuid-sandbox',
  '--disable-dev-shm-usage',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-extensions',
  '--disable-default-apps',
  '--no-first-run',
  '--mute-audio',
];

type WWebJs = typeof import('whatsapp-web.js');

async function loadWWebJs(): Promise<WWebJs> {
  // Loaded on demand: the other transports never pay for Puppeteer.
  const mod = (await import('whatsapp-web.js')) as WWebJs & { default?: WWebJs };
  return mod.default ?? mod;
}

/** The options the real `Client` is built with (headless system Chromium, LocalAuth or RemoteAuth). */
export async function buildWebJsClientOptions(config: WebJsClientConfig) {
  const { LocalAuth, RemoteAuth } = await loadWWebJs();
  const authStrategy =
    config.auth.kind === 'local'
      ? new LocalAuth({
          dataPath: config.auth.dataPath,
          ...(config.auth.clientId ? { clientId: config.auth.clientId } : {}),
        })
      : new RemoteAuth({
          store: createRedisRemoteAuthStore({
            kv: config.auth.kv,
            dataPath: config.auth.dataPath,
            logger: config.logger,
          }),
          dataPath: config.auth.dataPath,
          backupSyncIntervalMs: Math.max(60_000, config.auth.backupSyncIntervalMs ?? 300_000),
          ...(config.auth.clientId ? { clientId: config.auth.clientId } : {}),
        });
  return {
    authStrategy,
    puppeteer: {
      executablePath: config.executablePath,
      headless: true,
      args: [...CHROMIUM_ARGS, ...(config.extraArgs ?? [])],
    },
    takeoverOnConflict: true,
    takeoverTimeoutMs: 15_000,
  };
}

/** A real whatsapp-web.js Client (not initialized: the channel does that on `start`). */
export async function createWebJsClient(config: WebJsClientConfig): Promise<WebJsClientLike> {
  const { Client } = await loadWWebJs();
  return new Client(await buildWebJsClientOptions(config));
}
