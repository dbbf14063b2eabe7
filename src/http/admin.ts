import { type RequestHandler, Router } from 'express';
import { AppError, notFound } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { RecruiterService } from '../recruiting/recruiter-service.ts';
import {
  CreateProcessBody,
  DecisionBody,
  IdParams,
  ListApplicationsQuery,
  ListEventsQuery,
  ListProcessesQuery,
  UpdateProcessBody,
} from './admin-schemas.ts';
import { requireBearer } from './auth.ts';
import { buildOpenApiDocument } from './openapi.ts';

export interface AdminDeps {
  token?: string;
  logger: Logger;
  recruiting: RecruiterService;
  events: {
    list(state: 'dead' | 'pending' | 'delivered', page: { limit: number; offset: number }): Promise<unknown[]>;
    retry(id: string): Promise<boolean>;
  };
  cacheStats(): Promise<unknown>;
  /** whatsapp-web.js login QR (PNG data URL), when that transport runs. */
  whatsappQr?(): Promise<string | undefined>;
}

/** The recruiters' API under /api: bearer token, zod-validated input, JSON errors from the one error handler. */
export function createAdminRouter(deps: AdminDeps): Router {
  const router = Router();
  const openApi = buildOpenApiDocument();
  router.get('/api/openapi.json', (_req, res) => {
    res.json(openApi);
  });

  if (!deps.token) {
    deps.logger.warn('ADMIN_API_TOKEN is not set: the admin API (/api/*) is disabled');
    router.use('/api', (_req, _res, next) => {
      next(new AppError('disabled', 'The admin API is disabled: set ADMIN_API_TOKEN to enable it'));
    });
    return router;
  }

  /** The `:id` of the path: a malformed id names nothing, so it is a 404 like an unknown one (never a 400). */
  const idOf = (params: unknown, what: string): string => {
    const parsed = IdParams.safeParse(params);
    if (!parsed.success) throw notFound(what);
    return parsed.data.id;
  };

  const api = Router();
  api.use(requireBearer(deps.token) as RequestHandler);
  const { recruiting } = deps;

  api.post('/processes', async (req, res) => {
    res.status(201).json(await recruiting.createProcess(CreateProcessBody.parse(req.body)));
  });
  api.get('/processes', async (req, res) => {
    const query = ListProcessesQuery.parse(req.query);
    res.json({ ...(await recruiting.listProcesses(query)), limit: query.limit, offset: query.offset });
  });
  api.get('/processes/:id', async (req, res) => {
    res.json(await recruiting.getProcess(idOf(req.params, 'Process')));
  });
  api.patch('/processes/:id', async (req, res) => {
    const id = idOf(req.params, 'Process');
    res.json(await recruiting.updateProcess(id, UpdateProcessBody.parse(req.body)));
  });

  api.get('/applications', async (req, res) => {
    const query = ListApplicationsQuery.parse(req.query);
    res.json({ ...(await recruiting.listApplications(query)), limit: query.limit, offset: query.offset });
  });
  api.get('/applications/:id', async (req, res) => {
    res.json(await recruiting.getApplication(idOf(req.params, 'Application')));
  });
  api.post('/applications/:id/status', async (req, res) => {
    const id = idOf(req.params, 'Application');
    await recruiting.decide(id, DecisionBody.parse(req.body));
    res.json(await recruiting.getApplication(id));
  });

  api.delete('/candidates/:id', async (req, res) => {
    await recruiting.eraseCandidate(idOf(req.params, 'Candidate'));
    res.json({ erased: true });
  });

  api.get('/events', async (req, res) => {
    const { state, limit, offset } = ListEventsQuery.parse(req.query);
    res.json({ items: await deps.events.list(state, { limit, offset }), limit, offset });
  });
  api.post('/events/:id/retry', async (req, res) => {
    if (!(await deps.events.retry(idOf(req.params, 'Dead event')))) throw notFound('Dead event');
    res.json({ retried: true });
  });

  api.get('/cache/stats', async (_req, res) => {
    res.json(await deps.cacheStats());
  });

  if (deps.whatsappQr) {
    const qr = deps.whatsappQr;
    api.get('/whatsapp/qr', async (_req, res) => {
      const dataUrl = await qr();
      if (!dataUrl)
        throw new AppError('not_found', 'No QR code to scan: the WhatsApp session is logged in or starting');
      res.json({ qr: dataUrl });
    });
  }

  router.use('/api', api);
  return router;
}
