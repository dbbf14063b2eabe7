/**
 * Webhook bodies shaped like the examples of Meta's "messages webhook reference"
 * (developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/...):
 * the same envelope, field names and value formats (string timestamps, wa_id without +, wamid ids).
 */
export const BUSINESS = { wabaId: '102290129340398', displayPhone: '15550783881', phoneNumberId: '106540352242922' };

let seq = 0;
/** A fresh wamid-like id (base64-ish, as Meta's are). */
export function wamid(): string {
  seq++;
  return `wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQz${Buffer.from(`${Date.now()}-${seq}-${Math.random()}`).toString('base64url')}`;
}

const nowSeconds = () => String(Math.floor(Date.now() / 1000));

type Json = Record<string, unknown>;

/** Wraps `value` in Meta's envelope (`object` / `entry[]` / `changes[]` with field `messages`). */
export function envelope(value: Json): Json {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: BUSINESS.wabaId,
        changes: [
          {
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: BUSINESS.displayPhone, phone_number_id: BUSINESS.phoneNumberId },
              ...value,
            },
            field: 'messages',
          },
        ],
      },
    ],
  };
}

export interface Sender {
  /** wa_id: digits without + */
  waId: string;
  name?: string;
}
const defaultSender: Sender = { waId: '16505551234', name: 'Sheena Nelson' };

const contactsOf = (s: Sender) => [{ profile: { name: s.name ?? 'Candidate' }, wa_id: s.waId }];

/** One inbound message object (the element of `messages[]`), for composing deliveries of several. */
export function messageObject(kind: MessageKind, from: Sender = defaultSender, id = wamid()): Json {
  const base = { from: from.waId, id, timestamp: nowSeconds() };
  switch (kind.type) {
    case 'text':
      return { ...base, type: 'text', text: { body: kind.body } };
    case 'document':
      return {
        ...base,
        type: 'document',
        document: {
          ...(kind.caption ? { caption: kind.caption } : {}),
          filename: kind.filename ?? 'cv.pdf',
          mime_type: kind.mimeType ?? 'application/pdf',
          sha256: 'exW3ZP8Qr1o5fpxhAtxMQbrAEQrLkpNjJIOlvjX9r4Q=',
          id: kind.mediaId,
        },
      };
    case 'button_reply':
      return {
        context: { from: BUSINESS.displayPhone, id: 'wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1QjJGRjI1RDY0RkE4Nzg4QzcA' },
        ...base,
        type: 'interactive',
        interactive: { type: 'button_reply', button_reply: { id: kind.id, title: kind.title } },
      };
    case 'list_reply':
      return {
        context: { from: BUSINESS.displayPhone, id: 'wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1QjJGRjI1RDY0RkE4Nzg4QzcA' },
        ...base,
        type: 'interactive',
        interactive: {
          type: 'list_reply',
          list_reply: {
            id: kind.id,
            title: kind.title,
            ...(kind.description ? { description: kind.description } : {}),
          },
        },
      };
    case 'sticker':
      return {
        ...base,
        type: 'sticker',
        sticker: { mime_type: 'image/webp', sha256: 'AbCd', id: '1003383421387256', animated: false },
      };
    case 'location':
      return {
        ...base,
        type: 'location',
        location: {
          address: '1 Hacker Way, Menlo Park, CA 94025',
          latitude: 37.483,
          longitude: -122.148,
          name: 'Meta',
        },
      };
    case 'unsupported':
      return {
        ...base,
        type: 'unsupported',
        errors: [
          {
            code: 131051,
            title: 'Message type unknown',
            message: 'Message type unknown',
            error_data: { details: 'Message type is currently not supported.' },
          },
        ],
      };
  }
}

export type MessageKind =
  | { type: 'text'; body: string }
  | { type: 'document'; mediaId: string; filename?: string; mimeType?: string; caption?: string }
  | { type: 'button_reply'; id: string; title: string }
  | { type: 'list_reply'; id: string; title: string; description?: string }
  | { type: 'sticker' }
  | { type: 'location' }
  | { type: 'unsupported' };

/** A delivery of one or more messages from one sender. */
export function messagesPayload(kinds: MessageKind[], from: Sender = defaultSender): Json {
  return envelope({ contacts: contactsOf(from), messages: kinds.map((k) => messageObject(k, from)) });
}

export const textPayload = (body: string, from?: Sender) => messagesPayload([{ type: 'text', body }], from);

export type Status = 'sent' | 'delivered' | 'read' | 'failed';

/** A status callback for a message we sent, as in Meta's status webhook reference. */
export function statusObject(messageId: string, status: Status, recipient = defaultSender.waId): Json {
  return {
    id: messageId,
    status,
    timestamp: nowSeconds(),
    recipient_id: recipient,
    ...(status === 'failed'
      ? {
          errors: [
            {
              code: 131026,
              title: 'Message undeliverable',
              message: 'Message undeliverable',
              error_data: { details: 'Message Undeliverable.' },
              href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
            },
          ],
        }
      : {
          conversation: { id: 'CONVERSATION_ID', origin: { type: 'utility' } },
          pricing: { billable: true, pricing_model: 'PMP', category: 'utility' },
        }),
  };
}

export const statusesPayload = (statuses: Json[]) => envelope({ statuses });
