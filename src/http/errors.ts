import type { ErrorRequestHandler } from 'express';
import { ZodError } from 'zod';
import { AppError, type ErrorCode } from '../errors.ts';

/** The one table from error codes to HTTP statuses. */
const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  invalid_transition: 409,
  payload_too_large: 413,
  unsupported_media: 415,
  rate_limited: 429,
  dependency_unavailable: 503,
  timeout: 504,
  disabled: 503,
  internal: 500,
};

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

/** Turns anything thrown into an AppError; unknown errors become `internal` with a generic message. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof ZodError) {
    return new AppError(
      'validation_failed',
      'The request is not valid',
      err.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  }
  // Errors raised by express' body parsers carry a `type` and an HTTP status.
  const e = err as { type?: string; status?: number; message?: string };
  if (e?.type === 'entity.too.large') return new AppError('payload_too_large', 'The request body is too large');
  if (e?.type === 'entity.parse.failed') return new AppError('bad_request', 'The request body is not valid JSON');
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return new AppError('bad_request', 'The request could not be read');
  }
  return new AppError('internal', 'Something went wrong on our side', undefined, { cause: err });
}

export function statusOf(code: ErrorCode): number {
  return STATUS[code];
}

export const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  const appError = toAppError(err);
  const status = statusOf(appError.code);
  if (status >= 500) req.log?.error({ err: appError.cause ?? err }, 'request failed');
  else req.log?.info({ code: appError.code }, appError.message);
  if (res.headersSent) return;
  const body: ErrorBody = { error: { code: appError.code, message: appError.message } };
  if (appError.details !== undefined) body.error.details = appError.details;
  res.status(status).json(body);
};
