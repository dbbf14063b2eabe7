import { AppError, type ErrorCode } from '../errors.ts';

export interface SendErrorInfo {
  /** True when trying again later may succeed (429, 5xx, network, not connected); the outbox retries these. */
  retryable: boolean;
  httpStatus?: number;
  /** Meta's error code (`error.code` of a Graph API error body), e.g. 130429, 131026. */
  metaCode?: number;
  /** How long the remote side asked us to wait, when it said so (Retry-After, our own rate limiter). */
  retryAfterMs?: number;
  cause?: unknown;
}

/** A send (or media download) that failed; `retryable` tells the outbox whether to try again later. */
export class WhatsAppSendError extends AppError {
  readonly retryable: boolean;
  readonly httpStatus?: number;
  readonly metaCode?: number;
  readonly retryAfterMs?: number;

  constructor(message: string, info: SendErrorInfo, code: ErrorCode = defaultCode(info)) {
    super(
      code,
      message,
      { retryable: info.retryable, httpStatus: info.httpStatus, metaCode: info.metaCode },
      {
        cause: info.cause,
      },
    );
    this.name = 'WhatsAppSendError';
    this.retryable = info.retryable;
    this.httpStatus = info.httpStatus;
    this.metaCode = info.metaCode;
    this.retryAfterMs = info.retryAfterMs;
  }
}

function defaultCode(info: SendErrorInfo): ErrorCode {
  if (info.httpStatus === 429) return 'rate_limited';
  if (info.retryable) return 'dependency_unavailable';
  if (info.httpStatus === 401 || info.httpStatus === 403) return 'unauthorized';
  return 'bad_request';
}

/** Whether an error thrown by `Channel.send` is worth retrying later. Unknown errors are (at-least-once). */
export function isRetryableSendError(err: unknown): boolean {
  if (err instanceof WhatsAppSendError) return err.retryable;
  if (err instanceof AppError) return err.code === 'dependency_unavailable' || err.code === 'timeout';
  return true;
}
