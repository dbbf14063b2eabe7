import { createHash } from 'node:crypto';

/** String parts longer than this are hashed: a 20 KB CV text makes a poor Redis key. */
const MAX_PLAIN_PART = 120;
const SEPARATOR = ':';

/**
 * Builds a cache key from parts, joined by ':'. Strings, numbers, booleans and bigints stay
 * readable (':' and '%' inside a string are percent-encoded, so ('a:b') and ('a', 'b') differ);
 * Dates become ISO strings; objects, arrays, Maps, Sets, buffers and long strings become
 * '#' + a stable hash that ignores object key order.
 */
export function buildKey(parts: readonly unknown[]): string {
  return parts.map(keyPart).join(SEPARATOR);
}

function keyPart(part: unknown): string {
  switch (typeof part) {
    case 'string':
      if (part.length > MAX_PLAIN_PART) return `#${hash(JSON.stringify(part))}`;
      return part.includes('%') || part.includes(SEPARATOR) ? part.replace(/[%:]/g, percentEncode) : part;
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(part);
    case 'undefined':
      return '~';
    case 'object':
      if (part === null) return '~';
      if (part instanceof Date) return part.toISOString();
      return `#${stableHash(part)}`;
    default:
      throw new TypeError(`cannot build a cache key from a ${typeof part}`);
  }
}

const percentEncode = (c: string) => (c === '%' ? '%25' : '%3A');

/** A hash of a value's content that does not depend on object key order (128 bits, base64url). */
export function stableHash(value: unknown): string {
  return hash(canonical(value, new Set()));
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}

function canonical(value: unknown, seen: Set<object>): string {
  if (value === undefined) return 'u';
  if (typeof value === 'bigint') return `n${value}`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (value instanceof Date) return `D${value.getTime()}`;
  if (value instanceof Uint8Array) {
    return `B${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')}`;
  }
  if (seen.has(value)) throw new TypeError('cannot hash a circular structure');
  seen.add(value);
  let out: string;
  if (Array.isArray(value)) {
    out = `[${value.map((v) => canonical(v, seen)).join(',')}]`;
  } else if (value instanceof Map) {
    const entries = [...value].map(([k, v]) => `${canonical(k, seen)}=>${canonical(v, seen)}`);
    out = `M{${entries.sort().join(',')}}`;
  } else if (value instanceof Set) {
    out = `S{${[...value]
      .map((v) => canonical(v, seen))
      .sort()
      .join(',')}}`;
  } else {
    const entries: string[] = [];
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined && typeof v !== 'function') entries.push(`${JSON.stringify(k)}:${canonical(v, seen)}`);
    }
    out = `{${entries.join(',')}}`;
  }
  seen.delete(value);
  return out;
}
