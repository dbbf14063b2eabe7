import { createHash } from 'node:crypto';
import { type Logger, pino } from 'pino';

export type { Logger } from 'pino';

/** Keys whose values never reach a log line in clear, at any depth we log. */
const SENSITIVE_KEYS = [
  'phone',
  'from',
  'to',
  'wa_id',
  'email',
  'name',
  'text',
  'body',
  'cvText',
  'cv',
  'transcript',
  'token',
  'accessToken',
  'apiKey',
  'password',
  'secret',
  'authorization',
  'cookie',
];
const REDACT_PATHS = [
  ...SENSITIVE_KEYS,
  ...SENSITIVE_KEYS.map((k) => `*.${k}`),
  ...SENSITIVE_KEYS.map((k) => `*.*.${k}`),
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-hub-signature-256"]',
  'req.query["hub.verify_token"]',
];

const EMAIL = /[\w.+-]+@[\w-]+(\.[\w-]+)+/g;
const PHONE = /\+?\d[\d\s-]{7,}\d/g;

/** Masks emails and phone-like digit runs inside free text (log messages, error texts). */
export function scrub(text: string): string {
  return text.replace(EMAIL, '[email]').replace(PHONE, '[phone]');
}

/** A stable, non-reversible reference to a phone number for correlating log lines. */
export function phoneRef(phone: string): string {
  return `ph_${createHash('sha256').update(phone).digest('hex').slice(0, 10)}`;
}

export interface LoggerOptions {
  level: string;
  pretty?: boolean;
  /** Where JSON lines go (tests capture them); stdout by default. */
  destination?: NodeJS.WritableStream;
}

export function createLogger({ level, pretty = false, destination }: LoggerOptions): Logger {
  return pino(
    {
      level,
      base: { service: 'wa-recruiter' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === 'string' ? scrub(a) : a)) as Parameters<typeof method>;
          method.apply(this, scrubbed);
        },
      },
      serializers: {
        err: (err: Error) => {
          const s = pino.stdSerializers.err(err);
          return { ...s, message: scrub(s.message), stack: s.stack && scrub(s.stack) };
        },
      },
      transport:
        pretty && !destination
          ? { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } }
          : undefined,
    },
    destination as pino.DestinationStream | undefined,
  );
}
