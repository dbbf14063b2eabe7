import { closeServer, compose } from './compose.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}

const logger = createLogger({ level: config.logLevel, pretty: config.env === 'development' });

try {
  const app = await compose(config, logger);
  await app.start();
  const server = app.http.listen(config.port, () => {
    logger.info(
      { port: config.port, db: app.db.kind, kv: app.kv.kind, whatsapp: config.whatsapp.transport },
      'wa-recruiter listening',
    );
    if (app.channel.kind === 'simulator') {
      logger.info(`simulator: open http://localhost:${config.port}/simulator and chat as a candidate`);
    }
  });
  server.on('error', (err) => {
    logger.fatal({ err }, 'HTTP server failed');
    process.exit(1);
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    app.beginShutdown();
    await closeServer(server);
    await app.close();
    logger.info('shutdown complete');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
} catch (err) {
  logger.fatal({ err }, 'start-up failed');
  process.exit(1);
}
