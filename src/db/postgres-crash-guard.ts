import type { Logger } from '../logger.ts';

/**
 * postgres.js 3.4.9 can throw from a `setImmediate` when a connection closes under a query (Postgres
 * restarted, a proxy cut it): `nextWrite` writes to a socket it already set to null. The throw escapes
 * every await and kills the process (porsager/postgres#1154, #1208; no release fixes it yet). The write is
 * moot (the connection is gone and the pool reconnects), so that one error is logged and survived; any
 * other uncaught exception still ends the process as Node would.
 */
export function isPostgresNullSocketError(err: unknown): boolean {
  return (
    err instanceof TypeError &&
    /reading 'write'/.test(err.message) &&
    /nextWrite/.test(err.stack ?? '') &&
    /postgres[\\/]src[\\/]connection\.js/.test(err.stack ?? '')
  );
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']);

/**
 * A connection error to the database's own port that no query was waiting for (postgres.js lets the
 * failed reconnect of an idle or LISTEN connection escape while Postgres restarts). The pool connects
 * again on the next query, so it is survived like the null-socket write.
 */
export function isDatabaseConnectionError(err: unknown, port: number | undefined): boolean {
  const e = err as { code?: string; port?: number } | undefined;
  return port !== undefined && !!e && NETWORK_CODES.has(e.code ?? '') && e.port === port;
}

let installed = false;

export function guardPostgresNullSocketCrash(logger?: Logger, databasePort?: number): void {
  if (installed) return;
  installed = true;
  const listener = (err: unknown, origin: string) => {
    if (isPostgresNullSocketError(err)) {
      logger?.warn('postgres.js wrote to a closed connection (driver bug); survived, the pool reconnects');
      return;
    }
    if (isDatabaseConnectionError(err, databasePort)) {
      logger?.warn(
        { code: (err as { code: string }).code, origin },
        'database connection lost; survived, the pool reconnects',
      );
      return;
    }
    // Someone else (a test runner) handles uncaught exceptions: leave it to them.
    if (process.listenerCount('uncaughtException') > 1) return;
    process.removeListener('uncaughtException', listener);
    console.error(`${origin}:`, err);
    process.exit(1);
  };
  process.on('uncaughtException', listener);
}
