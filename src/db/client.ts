import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import type { Logger } from '../logger.ts';
import { guardPostgresNullSocketCrash } from './postgres-crash-guard.ts';
import * as schema from './schema.ts';

export type Schema = typeof schema;
/** The drizzle database, whichever driver is under it. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;

export type DbConfig =
  | {
      kind: 'postgres';
      url: string;
      max?: number;
      /** Session defaults for `statement_timeout` and `idle_in_transaction_session_timeout` (ms). */
      statementTimeoutMs?: number;
    }
  | { kind: 'pglite'; dir?: string };

export interface DbClient {
  kind: 'postgres' | 'pglite';
  db: Database;
  /** The driver under drizzle: postgres.js `Sql` or a `PGlite` instance. */
  driver: { kind: 'postgres'; sql: postgres.Sql } | { kind: 'pglite'; pglite: PGlite };
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function createDbClient(config: DbConfig, logger?: Logger): DbClient {
  if (config.kind === 'postgres') {
    guardPostgresNullSocketCrash(logger, Number(new URL(config.url).port || 5432));
    const client = postgres(config.url, {
      max: config.max ?? 10,
      onnotice: () => {},
      connect_timeout: 5,
      idle_timeout: 30,
      connection: {
        application_name: 'wa-recruiter',
        // Set once per connection, so transactions need no SET LOCAL round trip.
        ...(config.statementTimeoutMs
          ? {
              statement_timeout: config.statementTimeoutMs,
              idle_in_transaction_session_timeout: config.statementTimeoutMs,
            }
          : {}),
      },
    });
    const db = drizzlePostgres(client, { schema }) as unknown as Database;
    return {
      kind: 'postgres',
      db,
      driver: { kind: 'postgres', sql: client },
      ping: async () => {
        await client`select 1`;
      },
      close: () => client.end({ timeout: 5 }),
    };
  }
  // No directory means an in-memory database (tests); otherwise persisted on disk.
  if (config.dir) mkdirSync(config.dir, { recursive: true });
  const pglite = new PGlite(config.dir);
  const db = drizzlePglite(pglite, { schema }) as unknown as Database;
  logger?.debug({ dir: config.dir ?? 'memory' }, 'using embedded PGlite database');
  return {
    kind: 'pglite',
    db,
    driver: { kind: 'pglite', pglite },
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: () => pglite.close(),
  };
}
