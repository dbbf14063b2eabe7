import { randomUUID } from 'node:crypto';
import { AppError } from '../../errors.ts';
import type {
  Channel,
  DownloadedMedia,
  InboundHandler,
  InboundMessage,
  MediaRef,
  OutboundMessage,
  SendResult,
} from '../channel.ts';

export interface FeedEntry {
  seq: number;
  direction: 'in' | 'out';
  message: OutboundMessage | { kind: 'text' | 'document'; text: string };
  at: string;
}

export interface Notification {
  channel: 'whatsapp' | 'webhook';
  to: string;
  text: string;
  at: string;
}

const FEED_LIMIT = 200;
const PHONE_LIMIT = 1000;
const NOTIFICATION_LIMIT = 50;
const UPLOAD_TTL_MS = 60 * 60 * 1000;

/**
 * The simulator transport: a browser page plays the candidate's phone. Inbound goes through the same
 * engine as WhatsApp; outbound lands in an in-memory feed per phone that the page streams (SSE).
 * State is per instance: the simulator is a development and demo tool.
 */
export function createSimulatorChannel({ now = () => new Date() }: { now?: () => Date } = {}) {
  let handler: InboundHandler | undefined;
  let seq = 0;
  const feeds = new Map<string, FeedEntry[]>();
  const listeners = new Map<string, Set<(entry: FeedEntry) => void>>();
  const panelListeners = new Set<() => void>();
  const streamClosers = new Set<() => void>();
  const uploads = new Map<string, DownloadedMedia & { expiresAt: number }>();
  const notifications: Notification[] = [];

  function push(phone: string, entry: Omit<FeedEntry, 'seq'>) {
    const full = { ...entry, seq: ++seq };
    const feed = feeds.get(phone) ?? [];
    feed.push(full);
    if (feed.length > FEED_LIMIT) feed.splice(0, feed.length - FEED_LIMIT);
    feeds.delete(phone);
    feeds.set(phone, feed);
    // The least recently active phone goes first: a long demo does not grow without bound.
    if (feeds.size > PHONE_LIMIT) feeds.delete(feeds.keys().next().value as string);
    for (const listener of listeners.get(phone) ?? []) listener(full);
  }

  /** The notifier's hook: what it queued for recruiters (WhatsApp and webhooks), newest first. */
  function recordNotification(n: Omit<Notification, 'at'>) {
    notifications.unshift({ ...n, at: now().toISOString() });
    notifications.length = Math.min(notifications.length, NOTIFICATION_LIMIT);
    for (const listener of panelListeners) listener();
  }

  async function receive(phone: string, input: Omit<InboundMessage, 'id' | 'from' | 'timestamp'>): Promise<void> {
    if (!handler) throw new AppError('dependency_unavailable', 'The simulator is not started');
    const message: InboundMessage = { ...input, id: `sim.${randomUUID()}`, from: phone, timestamp: now() };
    push(phone, {
      direction: 'in',
      message: input.media
        ? { kind: 'document', text: input.media.filename ?? 'document' }
        : { kind: 'text', text: input.text ?? '' },
      at: message.timestamp.toISOString(),
    });
    await handler.onMessages([message]);
  }

  const channel: Channel & {
    receive: typeof receive;
    storeUpload(data: Buffer, filename: string, mimeType?: string): MediaRef;
    feed(phone: string, afterSeq?: number): FeedEntry[];
    subscribe(phone: string, listener: (entry: FeedEntry) => void): () => void;
    onPanelChange(listener: () => void): () => void;
    onCloseStreams(close: () => void): () => void;
    closeStreams(): void;
    recordNotification: typeof recordNotification;
    notifications(): Notification[];
  } = {
    kind: 'simulator',
    async send(message: OutboundMessage): Promise<SendResult> {
      // A recruiter's notifications land in the recruiter's own feed: open the page as that number to see them.
      push(message.to, { direction: 'out', message, at: now().toISOString() });
      return { messageId: `sim.out.${randomUUID()}` };
    },
    async downloadMedia(media: MediaRef, maxBytes: number): Promise<DownloadedMedia> {
      const upload = uploads.get(media.id);
      if (!upload || upload.expiresAt < Date.now()) throw new AppError('not_found', 'The uploaded document is gone');
      if (upload.data.length > maxBytes) throw new AppError('payload_too_large', 'The document is too large');
      return { data: upload.data, mimeType: upload.mimeType, filename: upload.filename };
    },
    async start(h: InboundHandler) {
      handler = h;
    },
    async stop() {
      handler = undefined;
      channel.closeStreams();
      for (const set of listeners.values()) set.clear();
      panelListeners.clear();
    },
    async health() {
      return { ok: true, state: handler ? 'ready' : 'stopped' };
    },
    receive,
    storeUpload(data, filename, mimeType) {
      const id = randomUUID();
      const nowMs = Date.now();
      for (const [key, u] of uploads) if (u.expiresAt < nowMs) uploads.delete(key);
      uploads.set(id, { data, filename, mimeType, expiresAt: nowMs + UPLOAD_TTL_MS });
      return { id, filename, mimeType, size: data.length };
    },
    feed: (phone, afterSeq = 0) => (feeds.get(phone) ?? []).filter((e) => e.seq > afterSeq),
    subscribe(phone, listener) {
      const set = listeners.get(phone) ?? new Set();
      set.add(listener);
      listeners.set(phone, set);
      return () => {
        set.delete(listener);
        if (set.size === 0 && listeners.get(phone) === set) listeners.delete(phone);
      };
    },
    onPanelChange(listener) {
      panelListeners.add(listener);
      return () => panelListeners.delete(listener);
    },
    onCloseStreams(close) {
      streamClosers.add(close);
      return () => streamClosers.delete(close);
    },
    /** Ends the pages' open streams: an HTTP server does not finish closing while one is open. */
    closeStreams() {
      for (const close of [...streamClosers]) close();
      streamClosers.clear();
    },
    recordNotification,
    notifications: () => [...notifications],
  };
  return channel;
}
export type SimulatorChannel = ReturnType<typeof createSimulatorChannel>;
