import { AppError } from '../errors.ts';

/** SQLSTATEs that mean "run the whole transaction again": serialization failure and deadlock. */
export const RETRYABLE_SQLSTATES: ReadonlySet<string> = new Set(['40001', '40P01']);

/** query_canceled (statement_timeout) and idle_in_transaction_session_timeout. */
const TIMEOUT_SQLSTATES: ReadonlySet<string> = new Set(['57014', '25P03']);

const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * The SQLSTATE of a database error, looking through wrappers: drizzle wraps driver errors in
 * `DrizzleQueryError` with the postgres.js / PGlite error as `cause`.
 */
export function sqlstateOf(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && SQLSTATE.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export function isRetryable(err: unknown): boolean {
  const code = sqlstateOf(err);
  return code !== undefined && RETRYABLE_SQLSTATES.has(code);
}

export function isTimeout(err: unknown): boolean {
  if (err instanceof AppError) return err.code === 'timeout';
  const code = sqlstateOf(err);
  return code !== undefined && TIMEOUT_SQLSTATES.has(code);
}

export type TxErrorType =
  | 'serialization_failure'
  | 'deadlock'
  | 'timeout'
  | 'constraint'
  | 'database'
  | 'application'
  | 'other';

/** A small, bounded classification for the errors metric. */
export function classifyError(err: unknown): TxErrorType {
  if (isTimeout(err)) return 'timeout';
  const code = sqlstateOf(err);
  if (code === '40001') return 'serialization_failure';
  if (code === '40P01') return 'deadlock';
  if (code?.startsWith('23')) return 'constraint';
  if (code) return 'database';
  if (err instanceof AppError) return 'application';
  return 'other';
}

/** The database's own message (never drizzle's "Failed query: ... params: ...", which may hold personal data). */
export function describeError(err: unknown): { message: string; sqlstate?: string; name?: string } {
  const sqlstate = sqlstateOf(err);
  let current: unknown = err;
  // Prefer the innermost error that carries the SQLSTATE: its message is the server's.
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const e = current as { code?: unknown; cause?: unknown; message?: unknown; name?: unknown };
    if (!sqlstate || e.code === sqlstate || !e.cause) {
      return { message: String(e.message ?? current), sqlstate, name: typeof e.name === 'string' ? e.name : undefined };
    }
    current = e.cause;
  }
  return { message: String(err), sqlstate };
}

/**
 * Delay before retry number `attempt` (1-based): exponential with full jitter, capped.
 * `random` is injectable so the policy can be tested.
 */
export function retryDelayMs(
  attempt: number,
  baseMs: number,
  capMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
