/**
 * Which events a relay must deliver one after another: events with the same key run in commit
 * order, one at a time; events with different keys, or none, run concurrently. Keys hold phone
 * numbers and ids: never log them.
 */
export type OrderingKey = (event: { type: string; payload: unknown }) => string | undefined;

/**
 * wa-recruiter's keys: the messages to one phone stay in order (`to:`), and so does the work on one
 * application (`app:`: CV intake and analysis, status changes). Webhook notifications and unknown
 * types are independent.
 */
export const defaultOrderingKey: OrderingKey = ({ type, payload }) => {
  if (type === 'whatsapp.send') return prefixed('to:', field(field(payload, 'message'), 'to'));
  if (type === 'notify.webhook') return undefined;
  if (APPLICATION_TYPES.has(type) || type.startsWith('application.')) {
    return prefixed('app:', field(payload, 'applicationId'));
  }
  return undefined;
};

const APPLICATION_TYPES = new Set(['cv.document_received', 'cv.received', 'cv.analyzed']);

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

function prefixed(prefix: string, value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? prefix + value : undefined;
}
