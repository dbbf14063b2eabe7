import { describe, expect, test } from 'vitest';
import { opensWindow } from '../../../src/conversation/engine.ts';

describe('opensWindow: when a message moves the recorded last inbound time', () => {
  const last = new Date('2026-01-01T10:00:00Z');
  const at = (seconds: number) => new Date(last.getTime() + seconds * 1000);

  test.each([
    ['the first message', null, at(0), true],
    ['a message a minute or more later', last, at(60), true],
    ['a message within the minute (one write less)', last, at(59), false],
    ['a late delivery of an older message (never backwards)', last, at(-3600), false],
  ] as const)('%s', (_, previous, sentAt, expected) => {
    expect(opensWindow(previous, sentAt)).toBe(expected);
  });
});
