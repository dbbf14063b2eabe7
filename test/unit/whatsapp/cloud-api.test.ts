import { describe, expect, test } from 'vitest';
import { AppError } from '../../../src/errors.ts';
import { renderOutbound, retryAfterOf } from '../../../src/whatsapp/cloud-api.ts';
import { createRateLimiter } from '../../../src/whatsapp/rate-limiter.ts';

describe('renderOutbound', () => {
  test('cuts texts to what the Cloud API accepts instead of having the message rejected', () => {
    const body = renderOutbound({
      kind: 'list',
      to: '+1',
      text: 'x'.repeat(2000),
      button: 'A very long button label',
      rows: Array.from({ length: 14 }, (_, i) => ({
        id: `P${i}`,
        title: `A process with a rather long title ${i}`,
        description: 'd'.repeat(100),
      })),
    }) as {
      interactive: {
        body: { text: string };
        action: { button: string; sections: { rows: { id: string; title: string; description: string }[] }[] };
      };
    };
    expect(body.interactive.body.text).toHaveLength(1024);
    expect(body.interactive.action.button).toHaveLength(20);
    const rows = body.interactive.action.sections[0]?.rows ?? [];
    expect(rows).toHaveLength(10);
    expect(rows.every((r) => r.title.length <= 24 && r.description.length <= 72)).toBe(true);
    expect(rows[0]?.id).toBe('P0');
  });

  test('refuses more than three buttons', () => {
    const buttons = ['a', 'b', 'c', 'd'].map((id) => ({ id, title: id }));
    expect(() => renderOutbound({ kind: 'buttons', to: '+1', text: 't', buttons })).toThrow(AppError);
  });

  test('a template without parameters has no components', () => {
    expect(
      renderOutbound({ kind: 'template', to: '+1', name: 'hello_world', language: 'en_US', parameters: [] }),
    ).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '1',
      type: 'template',
      template: { name: 'hello_world', language: { code: 'en_US' } },
    });
  });
});

describe('retryAfterOf', () => {
  test('reads seconds and HTTP dates', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryAfterOf('3', now)).toBe(3000);
    expect(retryAfterOf('Wed, 01 Jan 2025 00:00:10 GMT', now)).toBe(10_000);
    expect(retryAfterOf(null, now)).toBeUndefined();
    expect(retryAfterOf('soon', now)).toBeUndefined();
  });
});

describe('rate limiter', () => {
  test('allows a burst, then books later slots, and refuses past the wait budget', () => {
    let t = 0;
    const limiter = createRateLimiter({ capacity: 2, refillPerSecond: 1, now: () => t });
    expect(limiter.reserve('a', 0)).toEqual({ ok: true, waitMs: 0 });
    expect(limiter.reserve('a', 0)).toEqual({ ok: true, waitMs: 0 });
    expect(limiter.reserve('a', 0)).toEqual({ ok: false, retryAfterMs: 1000 });
    expect(limiter.reserve('a', 5000)).toEqual({ ok: true, waitMs: 1000 });
    expect(limiter.reserve('a', 5000)).toEqual({ ok: true, waitMs: 2000 });
    expect(limiter.reserve('b', 0)).toEqual({ ok: true, waitMs: 0 });
    t += 3000;
    expect(limiter.reserve('a', 0)).toEqual({ ok: true, waitMs: 0 });
  });

  test('forgets idle buckets', () => {
    let t = 0;
    const limiter = createRateLimiter({ capacity: 1, refillPerSecond: 1, idleMs: 1000, now: () => t });
    for (let i = 0; i < 100; i++) limiter.reserve(`k${i}`, 0);
    expect(limiter.size()).toBe(100);
    t += 5000;
    limiter.reserve('fresh', 0);
    expect(limiter.size()).toBe(1);
  });
});
