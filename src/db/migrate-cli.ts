import { ConfigError, loadConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { createDbClient } from './client.ts';
import { migrateDatabase } from './migrate.ts';

/** `npm run db:migrate`: applies migrations to DATABASE_URL (or the PGlite directory) and exits. */
try {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  const client = createDbClient(config.db, logger);
  await migrateDatabase(client);
  await client.close();
  logger.info({ db: client.kind }, 'migrations applied');
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
