import { Router } from 'express';
import { AppError } from '../errors.ts';
import { requireBearer } from '../http/auth.ts';
import type { WebJsChannel } from './web-js.ts';

/**
 * Admin view of the whatsapp-web.js login, behind the admin token:
 * `GET /api/whatsapp/session` (state + the pending QR code as a PNG data URL, or null) and
 * `GET /api/whatsapp/qr.png` (the pending QR code itself; 404 once logged in).
 */
export function createWhatsAppSessionRouter(deps: {
  channel: Pick<WebJsChannel, 'qr' | 'health'>;
  adminToken: string;
}): Router {
  const router = Router();
  const auth = requireBearer(deps.adminToken);

  router.get('/api/whatsapp/session', auth, async (_req, res) => {
    const [health, qr] = await Promise.all([deps.channel.health(), deps.channel.qr()]);
    res.set('cache-control', 'no-store').json({ ...health, qr });
  });

  router.get('/api/whatsapp/qr.png', auth, async (_req, res, next) => {
    const qr = await deps.channel.qr();
    if (!qr) {
      next(new AppError('not_found', 'No QR code is waiting to be scanned'));
      return;
    }
    res
      .type('png')
      .set('cache-control', 'no-store')
      .send(Buffer.from(qr.slice(qr.indexOf(',') + 1), 'base64'));
  });

  return router;
}
