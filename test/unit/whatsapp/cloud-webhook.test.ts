import { describe, expect, test } from 'vitest';
import { signBody } from '../../../src/http/auth.ts';
import { parseWebhookPayload, verifySignature } from '../../../src/whatsapp/cloud-webhook.ts';
import { BUSINESS, envelope, messageObject, messagesPayload, textPayload } from '../../fakes/whatsapp-payloads.ts';

describe('verifySignature', () => {
  const body = Buffer.from(JSON.stringify(textPayload('hola')));

  test('accepts the HMAC-SHA256 of the exact bytes with the app secret', () => {
    expect(verifySignature(body, signBody(body, 's3cret'), 's3cret')).toBe(true);
    expect(verifySignature(body, signBody(body, 's3cret').toUpperCase().replace('SHA256=', 'sha256='), 's3cret')).toBe(
      true,
    );
  });

  test('rejects another secret, other bytes, a missing or malformed header', () => {
    expect(verifySignature(body, signBody(body, 'other'), 's3cret')).toBe(false);
    expect(verifySignature(Buffer.concat([body, Buffer.from(' ')]), signBody(body, 's3cret'), 's3cret')).toBe(false);
    expect(verifySignature(body, undefined, 's3cret')).toBe(false);
    expect(verifySignature(body, signBody(body, 's3cret').slice(0, -2), 's3cret')).toBe(false);
    expect(verifySignature(body, `sha1=${'0'.repeat(40)}`, 's3cret')).toBe(false);
  });
});

describe('parseWebhookPayload', () => {
  test('normalizes a template quick-reply button as an interactive reply', () => {
    const m = {
      ...messageObject({ type: 'text', body: 'x' }),
      type: 'button',
      text: undefined,
      button: { payload: 'answer.yes', text: 'Sí' },
    };
    const parsed = parseWebhookPayload(envelope({ messages: [m] }));
    expect(parsed.ok && parsed.messages[0]).toMatchObject({ type: 'interactive', replyId: 'answer.yes', text: 'Sí' });
  });

  test('an interactive message of another kind (e.g. a flow reply) is `other`', () => {
    const m = {
      ...messageObject({ type: 'text', body: 'x' }),
      type: 'interactive',
      text: undefined,
      interactive: { type: 'nfm_reply', nfm_reply: {} },
    };
    const parsed = parseWebhookPayload(envelope({ messages: [m] }));
    expect(parsed.ok && parsed.messages[0]).toMatchObject({ type: 'other', rawType: 'interactive.nfm_reply' });
  });

  test('other change fields are skipped, and the phone number filter applies only when given', () => {
    const body = messagesPayload([{ type: 'text', body: 'hola' }]) as { entry: { changes: { field: string }[] }[] };
    expect(parseWebhookPayload(body, { phoneNumberId: BUSINESS.phoneNumberId })).toMatchObject({
      ok: true,
      messages: [{ text: 'hola' }],
    });
    expect(parseWebhookPayload(body, { phoneNumberId: '42' })).toMatchObject({ ok: true, messages: [] });
    (body.entry[0]?.changes[0] as { field: string }).field = 'message_template_status_update';
    expect(parseWebhookPayload(body)).toMatchObject({ ok: true, messages: [], skipped: [{ what: 'change' }] });
  });

  test('numbers for timestamps are tolerated; a + in wa_id is not doubled', () => {
    const m = { ...messageObject({ type: 'text', body: 'x' }), timestamp: 1750032413, from: '+16505551234' };
    const parsed = parseWebhookPayload(envelope({ messages: [m] }));
    expect(parsed.ok && parsed.messages[0]).toMatchObject({ from: '+16505551234', timestamp: new Date(1750032413000) });
  });

  test('not the envelope at all', () => {
    expect(parseWebhookPayload({ hello: 'world' }).ok).toBe(false);
    expect(parseWebhookPayload(undefined).ok).toBe(false);
  });
});
