import { fileURLToPath } from 'node:url';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import type { DbClient } from './client.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));
/** Arbitrary constant: the advisory lock that serializes migrations across instances starting together. */
const MIGRATION_LOCK_ID = 727_001;

/** Applies pending migrations from `migrations/`. Safe to call from several instances at once. */
export async function migrateDatabase(client: DbClient): Promise<void> {
  const migrationsFolder = MIGRATIONS_DIR;
  if (client.driver.kind === 'pglite') {
    await migratePglite(client.db as unknown as PgliteDatabase, { migrationsFolder });
    return;
  }
  const lockConn = await client.driver.sql.reserve();
  try {
    await lockConn`select pg_advisory_lock(${MIGRATION_LOCK_ID})`;
    await migratePostgres(client.db as unknown as PostgresJsDatabase, { migrationsFolder });
  } finally {
    await lockConn`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`.catch(() => {});
    lockConn.release();
  }
}
