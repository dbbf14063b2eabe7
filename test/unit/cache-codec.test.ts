import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { buildKey, stableHash } from '../../src/cache/cache-key.ts';
import { decode, encode } from '../../src/cache/codec.ts';

const roundTrip = <T>(v: T): T => decode<T>(encode(v));

describe('codec', () => {
  test('round-trips Date, Buffer, BigInt, Map, Set and nested structures', () => {
    const value = {
      at: new Date('2024-05-06T07:08:09.010Z'),
      invalid: new Date(Number.NaN),
      file: Buffer.from([0, 1, 2, 250, 255]),
      bytes: new Uint8Array([9, 8, 7]),
      big: 12345678901234567890n,
      tags: new Set(['a', 'b']),
      byId: new Map<unknown, unknown>([
        [1, { when: new Date(0) }],
        ['x', [Buffer.from('hi')]],
      ]),
      list: [1, 'two', null, { deep: [new Date(1)] }],
    };
    const back = roundTrip(value);
    expect(back.at).toBeInstanceOf(Date);
    expect(back.at.toISOString()).toBe('2024-05-06T07:08:09.010Z');
    expect(Number.isNaN(back.invalid.getTime())).toBe(true);
    expect(Buffer.isBuffer(back.file)).toBe(true);
    expect([...back.file]).toEqual([0, 1, 2, 250, 255]);
    expect([...back.bytes]).toEqual([9, 8, 7]);
    expect(back.big).toBe(12345678901234567890n);
    expect(back.tags).toEqual(new Set(['a', 'b']));
    expect(back.byId.get(1)).toEqual({ when: new Date(0) });
    expect(back.byId.get('x')).toEqual([Buffer.from('hi')]);
    expect(back.list).toEqual([1, 'two', null, { deep: [new Date(1)] }]);
  });

  test('user data that looks like a tag stays user data', () => {
    const tricky = { $t: 'D', v: '2020-01-01T00:00:00.000Z', nested: { $t: 'B', v: 'AAAA' }, s: '"$t"' };
    expect(roundTrip(tricky)).toEqual(tricky);
    expect(roundTrip([{ $t: 'U' }])).toEqual([{ $t: 'U' }]);
  });

  test('top-level undefined and primitives round-trip; functions are rejected', () => {
    expect(roundTrip(undefined)).toBeUndefined();
    expect(roundTrip(null)).toBeNull();
    expect(roundTrip('')).toBe('');
    expect(roundTrip(0)).toBe(0);
    expect(roundTrip(false)).toBe(false);
    expect(() => encode(() => 1)).toThrow(TypeError);
  });

  test('any JSON value comes back exactly as JSON would give it (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        // JSON itself turns -0 into 0: the codec is JSON, so it does too.
        expect(roundTrip(v)).toEqual(JSON.parse(JSON.stringify(v)));
      }),
      { numRuns: 300 },
    );
  });

  test('objects with dates and buffers round-trip (property)', () => {
    const leaf = fc.oneof(
      fc.date({ noInvalidDate: true }),
      fc.uint8Array().map((a) => Buffer.from(a)),
      fc.bigInt(),
      fc.string(),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.oneof(leaf, fc.array(leaf, { maxLength: 3 }))), (v) => {
        expect(roundTrip(v)).toEqual(v);
      }),
      { numRuns: 200 },
    );
  });
});

describe('cache keys', () => {
  test('join readable parts and keep (a:b) apart from (a, b)', () => {
    expect(buildKey(['cv', 42, true, 7n])).toBe('cv:42:true:7');
    expect(buildKey(['a:b'])).not.toBe(buildKey(['a', 'b']));
    expect(buildKey(['50%:x'])).toBe('50%25%3Ax');
    expect(buildKey([new Date('2024-01-02T03:04:05.000Z')])).toBe('2024-01-02T03:04:05.000Z');
  });

  test('hash objects independently of key order, and long strings', () => {
    const a = buildKey(['q', { status: 'open', page: 2, filter: { b: 1, a: [1, 2] } }]);
    const b = buildKey(['q', { filter: { a: [1, 2], b: 1 }, page: 2, status: 'open' }]);
    expect(a).toBe(b);
    expect(a).toMatch(/^q:#[\w-]{22}$/);
    expect(buildKey(['q', { page: 3 }])).not.toBe(buildKey(['q', { page: 2 }]));
    expect(buildKey(['q', [1, 2]])).not.toBe(buildKey(['q', [2, 1]]));
    expect(stableHash(new Set([1, 2]))).toBe(stableHash(new Set([2, 1])));
    expect(stableHash({ a: undefined, b: 1 })).toBe(stableHash({ b: 1 }));
    expect(stableHash({ d: new Date(1) })).not.toBe(stableHash({ d: new Date(2) }));
    const long = 'x'.repeat(5_000);
    expect(buildKey([long]).length).toBeLessThan(30);
    expect(buildKey([long])).not.toBe(buildKey([`${long}y`]));
  });

  test('hashing is stable under key shuffles (property) and rejects cycles', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(stableHash(reversed)).toBe(stableHash(obj));
      }),
      { numRuns: 200 },
    );
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => stableHash(cyclic)).toThrow(/circular/);
  });
});
