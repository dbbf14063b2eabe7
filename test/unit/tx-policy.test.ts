import { DrizzleQueryError } from 'drizzle-orm/errors';
import { describe, expect, test } from 'vitest';
import { classifyError, describeError, isRetryable, retryDelayMs, sqlstateOf } from '../../src/db/tx-errors.ts';
import { AppError } from '../../src/errors.ts';
import { createEventBus } from '../../src/events/bus.ts';

/** What postgres.js and PGlite throw: an Error with a SQLSTATE `code`. */
const pgError = (code: string, message = 'server says no') => Object.assign(new Error(message), { code });
/** What drizzle throws around it: the query and its parameters, which may hold personal data. */
const wrapped = (code: string) =>
  new DrizzleQueryError('insert into candidates (phone) values ($1)', ['+34600111222'], pgError(code));

describe('transaction error policy', () => {
  test('the SQLSTATE is found through drizzle wrappers, and only 40001 / 40P01 are retried', () => {
    expect(sqlstateOf(wrapped('40001'))).toBe('40001');
    expect(isRetryable(wrapped('40001'))).toBe(true);
    expect(isRetryable(pgError('40P01'))).toBe(true);
    expect(isRetryable(wrapped('23505'))).toBe(false);
    expect(isRetryable(new Error('ECONNRESET'))).toBe(false);
    // Node's own error codes are not SQLSTATEs.
    expect(sqlstateOf(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBeUndefined();
  });

  test('errors are classified into a small fixed set', () => {
    expect(classifyError(wrapped('40001'))).toBe('serialization_failure');
    expect(classifyError(wrapped('40P01'))).toBe('deadlock');
    expect(classifyError(wrapped('57014'))).toBe('timeout');
    expect(classifyError(new AppError('timeout', 'slow'))).toBe('timeout');
    expect(classifyError(wrapped('23505'))).toBe('constraint');
    expect(classifyError(wrapped('42P01'))).toBe('database');
    expect(classifyError(new AppError('conflict', 'taken'))).toBe('application');
    expect(classifyError(new TypeError('bug'))).toBe('other');
  });

  test('logged errors carry the server message, never the query parameters', () => {
    const described = describeError(wrapped('23505'));
    expect(described).toEqual({ message: 'server says no', sqlstate: '23505', name: 'Error' });
    expect(JSON.stringify(described)).not.toContain('+34600111222');
  });

  test('retry delays grow exponentially, stay within [ceiling/2, ceiling] and are capped', () => {
    expect(retryDelayMs(1, 10, 500, () => 0)).toBe(5);
    expect(retryDelayMs(1, 10, 500, () => 1)).toBe(10);
    expect(retryDelayMs(3, 10, 500, () => 1)).toBe(40);
    expect(retryDelayMs(20, 10, 500, () => 1)).toBe(500);
    expect(retryDelayMs(20, 10, 500, () => 0)).toBe(250);
  });
});

describe('event bus', () => {
  test('handler names are unique per type, and unsubscribe removes the handler', () => {
    const bus = createEventBus();
    const off = bus.subscribe('cv.received', 'scorer', () => {});
    bus.subscribe('cv.analyzed', 'scorer', () => {});
    expect(() => bus.subscribe('cv.received', 'scorer', () => {})).toThrow(/already subscribed/);
    expect(bus.handlersFor('cv.received').map((s) => s.name)).toEqual(['scorer']);
    off();
    expect(bus.handlersFor('cv.received')).toEqual([]);
    expect(bus.handlersFor('unknown.type')).toEqual([]);
  });
});
