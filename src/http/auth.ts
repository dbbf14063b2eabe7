import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AppError } from '../errors.ts';

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
