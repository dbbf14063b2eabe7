import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import express, { type Express, type Router } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { HttpMetrics } from '../observability/metrics.ts';
import { errorHandler } from './errors.ts';

declare module 'node:http' {
  interface IncomingMessage {
    /** The exact bytes of a JSON body, kept for signature checks (WhatsApp webhooks). */
    rawBody?: Buffer;
  }
}

export interface AppOptions {
  logger: Logger;
  metrics: HttpMetrics;
  routers: Router[];
  jsonLimit?: string;
}

const REQUEST_ID = /^[\w-]{1,64}$/;

export function createApp({ logger, metrics, routers, jsonLimit = '1mb' }: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback, linklocal, uniquelocal');
  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      customLogLevel: (_req, res, err) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'info' : 'debug',
      autoLogging: { ignore: (req) => req.url === '/health/live' || req.url === '/metrics' },
      serializers: {
        req: (req) => ({ id: req.id, method: req.method, url: String(req.url).split('?')[0] }),
        res: (res) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  app.use((req, res, next) => {
    const end = metrics.requestDuration.startTimer();
    res.on('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : 'unmatched';
      end({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  });
  app.use(helmet({ contentSecurityPolicy: false }));
  app.use(
    express.json({
      limit: jsonLimit,
      verify: (req: IncomingMessage, _res, buf) => {
        req.rawBody = buf;
      },
    }),
  );
  for (const router of routers) app.use(router);
  app.use((req, _res, next) => next(new AppError('not_found', `No route for ${req.method} ${req.path}`)));
  app.use(errorHandler);
  return app;
}
