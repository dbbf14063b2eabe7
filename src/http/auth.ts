import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AppError } from '../errors.ts';

/** `sha256=` + the hex HMAC-SHA256 of a body: Meta's `X-Hub-Signature-256` and our notifications' `X-Signature-256`. */
export function signBody(body: Buffer | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Constant-time string comparison (hashing first so lengths never leak). */
export function timingSafeEqualStrings(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** Requires `Authorization: Bearer <token>`. */
export function requireBearer(token: string): RequestHandler {
  return (req, _res, next) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match || !timingSafeEqualStrings(match[1] as string, token)) {
      next(new AppError('unauthorized', 'A valid bearer token is required'));
      return;
    }
    next();
  };
}
