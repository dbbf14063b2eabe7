import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { createDbClient, type DbClient } from '../../src/db/client.ts';
import { migrateDatabase } from '../../src/db/migrate.ts';

export type DbBackend = 'pglite' | 'postgres';

/** Backends every database contract suite runs on: PGlite always, Postgres when TEST_DATABASE_URL is set. */
export const dbBackends: DbBackend[] = process.env.TEST_DATABASE_URL ? ['postgres', 'pglite'] : ['pglite'];

export interface TestDb {
  client: DbClient;
  /** Connection URL of the throwaway Postgres database (undefined on PGlite). */
  url?: string;
  /** Closes the client and drops the throwaway database. */
  destroy(): Promise<void>;
}

/** A fresh, migrated database of its own: a new Postgres database, or an in-memory PGlite. */
export async function createTestDb(backend: DbBackend, { max = 10 }: { max?: number } = {}): Promise<TestDb> {
  if (backend === 'pglite') {
    const client = createDbClient({ kind: 'pglite' });
    await migrateDatabase(client);
    return { client, destroy: () => client.close() };
  }
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) throw new Error('TEST_DATABASE_URL is not set');
  const name = `war_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = withDatabase(adminUrl, name);
  const client = createDbClient({ kind: 'postgres', url, max });
  await migrateDatabase(client);
  return {
    client,
    url,
    async destroy() {
      await client.close().catch(() => {});
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
