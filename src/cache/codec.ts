/**
 * JSON codec for cached values. Plain JSON, plus tagged objects `{"$t": tag, "v": ...}` for what
 * JSON loses: Date (D), Buffer/Uint8Array (B, base64; decoded as Buffer), BigInt (N), Map (M),
 * Set (S) and a top-level `undefined` (U). A user object that has its own `$t` key is written as
 * its entries (O), so decoding never mistakes user data for a tag. Everything else follows
 * JSON.stringify (class instances become plain objects, `undefined` properties are dropped).
 */

const TAG = '$t';
const TAG_IN_TEXT = '"$t"';
const UNDEFINED = '{"$t":"U"}';

type Tagged = { $t: 'D' | 'B' | 'N' | 'M' | 'S' | 'O' | 'U'; v?: unknown };

function replace(this: Record<string, unknown>, key: string, value: unknown): unknown {
  // `value` went through toJSON already (Date -> string, Buffer -> {type,data}); look at the raw one.
  const raw = this[key];
  if (raw instanceof Date) return { $t: 'D', v: Number.isNaN(raw.getTime()) ? null : raw.toISOString() };
  if (raw instanceof Uint8Array) {
    return { $t: 'B', v: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') };
  }
  if (typeof value === 'bigint') return { $t: 'N', v: value.toString() };
  if (value instanceof Map) return { $t: 'M', v: [...value] };
  if (value instanceof Set) return { $t: 'S', v: [...value] };
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.hasOwn(value, TAG)) {
    return { $t: 'O', v: Object.entries(value) };
  }
  return value;
}

function revive(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const tagged = value as Tagged;
  switch (tagged.$t) {
    case 'D':
      return new Date(tagged.v === null ? Number.NaN : (tagged.v as string));
    case 'B':
      return Buffer.from(tagged.v as string, 'base64');
    case 'N':
      return BigInt(tagged.v as string);
    case 'M':
      return new Map(tagged.v as [unknown, unknown][]);
    case 'S':
      return new Set(tagged.v as unknown[]);
    case 'O':
      return Object.fromEntries(tagged.v as [string, unknown][]);
    case 'U':
      return undefined;
    default:
      return value;
  }
}

export function encode(value: unknown): string {
  if (value === undefined) return UNDEFINED;
  const text = JSON.stringify(value, replace);
  if (text === undefined) throw new TypeError(`cannot cache a value of type ${typeof value}`);
  return text;
}

export function decode<T = unknown>(text: string): T {
  if (text === UNDEFINED) return undefined as T;
  // Most values carry no tag: plain JSON.parse is several times faster than one with a reviver.
  return (text.includes(TAG_IN_TEXT) ? JSON.parse(text, revive) : JSON.parse(text)) as T;
}
