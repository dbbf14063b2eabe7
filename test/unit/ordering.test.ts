import { describe, expect, test } from 'vitest';
import { defaultOrderingKey } from '../../src/events/ordering.ts';

describe('default ordering key', () => {
  test('messages to one phone share a key; work on one application shares another', () => {
    const send = (to: string) => ({ type: 'whatsapp.send', payload: { message: { kind: 'text', to, text: 'hi' } } });
    expect(defaultOrderingKey(send('+34600111222'))).toBe('to:+34600111222');
    expect(defaultOrderingKey(send('+34600111222'))).not.toBe(defaultOrderingKey(send('+34600111333')));
    for (const type of [
      'cv.document_received',
      'cv.received',
      'cv.analyzed',
      'application.started',
      'application.status_changed',
    ]) {
      expect(defaultOrderingKey({ type, payload: { applicationId: 'a1', candidateId: 'c1' } })).toBe('app:a1');
    }
  });

  test('webhook notifications, unknown types and malformed payloads are independent', () => {
    expect(defaultOrderingKey({ type: 'notify.webhook', payload: { applicationId: 'a1' } })).toBeUndefined();
    expect(defaultOrderingKey({ type: 'process.created', payload: { processId: 'p', code: 'P' } })).toBeUndefined();
    expect(defaultOrderingKey({ type: 'something.new', payload: { applicationId: 'a1' } })).toBeUndefined();
    expect(defaultOrderingKey({ type: 'whatsapp.send', payload: null })).toBeUndefined();
    expect(defaultOrderingKey({ type: 'whatsapp.send', payload: { message: { to: 42 } } })).toBeUndefined();
    expect(defaultOrderingKey({ type: 'cv.received', payload: 'a1' })).toBeUndefined();
    expect(defaultOrderingKey({ type: 'application.started', payload: { applicationId: '' } })).toBeUndefined();
  });
});
