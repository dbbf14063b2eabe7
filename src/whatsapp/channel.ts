/**
 * The engine's view of WhatsApp, whatever carries it (Cloud API, whatsapp-web.js, the simulator).
 * Transports normalize what they receive into InboundMessage and render OutboundMessage as they can.
 */

export type InboundType = 'text' | 'document' | 'interactive' | 'other';

export interface MediaRef {
  /** Transport-specific handle: a Cloud API media id, a web-js message id, a simulator upload id. */
  id: string;
  mimeType?: string;
  filename?: string;
  sha256?: string;
  size?: number;
}

export interface InboundMessage {
  /** The channel's own message id: the dedupe key of `inbound_messages`. */
  id: string;
  /** The sender, E.164 digits with a leading `+`. */
  from: string;
  timestamp: Date;
  type: InboundType;
  /** Typed text, a document's caption, or an interactive reply's title. */
  text?: string;
  /** Button or list-row id of an interactive reply (e.g. `consent.accept`, a process code). */
  replyId?: string;
  media?: MediaRef;
  /** What the transport saw for `other` (sticker, audio, location...), for logs and the polite refusal. */
  rawType?: string;
  /** The sender's profile name, when the transport gives one. */
  profileName?: string;
}

export interface Button {
  id: string;
  title: string;
}

export interface ListRow {
  id: string;
  title: string;
  description?: string;
}

export type OutboundMessage =
  | { kind: 'text'; to: string; text: string }
  /** At most 3 buttons (WhatsApp's limit). */
  | { kind: 'buttons'; to: string; text: string; buttons: Button[] }
  | { kind: 'list'; to: string; text: string; button: string; rows: ListRow[] }
  /** Outside the 24-hour window only an approved template may be sent. */
  | { kind: 'template'; to: string; name: string; language: string; parameters: string[] };

export interface SendResult {
  /** The transport's id of the sent message (status callbacks refer to it). */
  messageId: string;
}

export interface DownloadedMedia {
  data: Buffer;
  mimeType?: string;
  filename?: string;
}

export type MessageStatus = 'sent' | 'delivered' | 'read' | 'failed';

export interface StatusUpdate {
  messageId: string;
  status: MessageStatus;
  timestamp: Date;
  recipient?: string;
  error?: unknown;
}

/** Called by a transport for inbound traffic; resolves only once the effects are committed. */
export interface InboundHandler {
  onMessages(messages: InboundMessage[]): Promise<void>;
  onStatuses?(statuses: StatusUpdate[]): Promise<void>;
}

export interface Channel {
  readonly kind: 'cloud' | 'webjs' | 'simulator';
  /**
   * Sends one message. Failures reject with a `WhatsAppSendError` (send-error.ts) whose `retryable` says
   * whether trying again later can help (rate limits, 5xx, not connected) or not (invalid recipient...);
   * `retryAfterMs`, when set, is how long to wait. `isRetryableSendError(err)` reads it for any error.
   */
  send(message: OutboundMessage): Promise<SendResult>;
  /**
   * Fetches a document's bytes; rejects past `maxBytes` without buffering the rest, with an AppError
   * coded `payload_too_large` (tell the candidate), or a `WhatsAppSendError` for transport trouble.
   */
  downloadMedia(media: MediaRef, maxBytes: number): Promise<DownloadedMedia>;
  /** Starts receiving (web-js logs in; the Cloud API receives through its webhook router). */
  start(handler: InboundHandler): Promise<void>;
  stop(): Promise<void>;
  /** For readiness: is the transport able to send right now? */
  health(): Promise<{ ok: boolean; state: string; details?: Record<string, unknown> }>;
}
