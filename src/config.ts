import { z } from 'zod';

const emptyToUndefined = (v: unknown) => (v === '' ? undefined : v);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
const optionalUrl = z.preprocess(emptyToUndefined, z.url().optional());
const port = z.coerce.number({ error: 'must be a port number (1-65535)' }).int().min(1).max(65535);
const seconds = z.coerce.number().int().positive();

const postgresUrl = z.string().regex(/^postgres(ql)?:\/\/\S+$/, 'must be a URL like postgres://user@host:5432/db');
const redisUrl = z.string().regex(/^rediss?:\/\/\S+$/, 'must be a URL like redis://host:6379/0');

/** The environment, variable by variable. `.env.example` documents each one. */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
  PORT: port.default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  DATABASE_URL: z.preprocess(emptyToUndefined, postgresUrl.optional()),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(20),
  PGLITE_DIR: z.string().default('./data/pglite'),
  REDIS_URL: z.preprocess(emptyToUndefined, redisUrl.optional()),
  REDIS_HOST: optionalString,
  REDIS_PORT: port.default(6379),
  REDIS_DB: z.coerce.number().int().min(0).max(15).default(0),
  REDIS_PASSWORD: optionalString,
  REDIS_KEY_PREFIX: z.string().default('war:'),
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: optionalUrl,
  OPENAI_MODEL: z.string().default('gpt-4o-mini'),
  OPENAI_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  WHATSAPP_TRANSPORT: z.preprocess(emptyToUndefined, z.enum(['cloud', 'webjs', 'simulator']).optional()),
  WHATSAPP_VERIFY_TOKEN: optionalString,
  WHATSAPP_APP_SECRET: optionalString,
  WHATSAPP_ACCESS_TOKEN: optionalString,
  WHATSAPP_PHONE_NUMBER_ID: optionalString,
  WHATSAPP_GRAPH_URL: z.url().default('https://graph.facebook.com/v21.0'),
  WHATSAPP_TEMPLATE_NAME: z.string().default('application_update'),
  WHATSAPP_TEMPLATE_LANGUAGE: z.string().default('es'),
  WEBJS_AUTH: z.enum(['local', 'remote']).default('local'),
  WEBJS_AUTH_DIR: z.string().default('./data/wwebjs-auth'),
  PUPPETEER_EXECUTABLE_PATH: z.string().default('/usr/bin/chromium'),
  ADMIN_API_TOKEN: optionalString,
  METRICS_TOKEN: optionalString,
  SESSION_TTL_SECONDS: seconds.default(86_400),
  CV_ANALYSIS_TTL_SECONDS: seconds.default(30 * 86_400),
  CACHE_DEFAULT_TTL_SECONDS: seconds.default(3_600),
  CV_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(5 * 1024 * 1024),
  CV_MAX_PAGES: z.coerce.number().int().positive().default(10),
  CV_MAX_CHARS: z.coerce.number().int().positive().default(20_000),
  NOTIFY_WEBHOOK_URL: optionalUrl,
  NOTIFY_WEBHOOK_SECRET: optionalString,
  OUTBOX_MAX_ATTEMPTS: z.coerce.number().int().positive().default(8),
  OUTBOX_CONCURRENCY: z.coerce.number().int().positive().max(256).default(16),
  OUTBOX_READY_MAX_AGE_SECONDS: seconds.default(300),
  TX_STATEMENT_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  TX_MAX_RETRIES: z.coerce.number().int().min(0).default(3),
  DEFAULT_LOCALE: z.enum(['es', 'en']).default('es'),
  SEED_DEMO: z.preprocess(emptyToUndefined, z.stringbool().optional()),
});

export type Env = z.infer<typeof envSchema>;

export type Config = ReturnType<typeof toConfig>;

function toConfig(env: Env) {
  const redis = env.REDIS_URL
    ? { kind: 'redis' as const, url: env.REDIS_URL }
    : env.REDIS_HOST
      ? {
          kind: 'redis' as const,
          url: `redis://${env.REDIS_PASSWORD ? `:${encodeURIComponent(env.REDIS_PASSWORD)}@` : ''}${env.REDIS_HOST}:${env.REDIS_PORT}/${env.REDIS_DB}`,
        }
      : { kind: 'memory' as const };
  const transport =
    env.WHATSAPP_TRANSPORT ?? (env.WHATSAPP_ACCESS_TOKEN && env.WHATSAPP_PHONE_NUMBER_ID ? 'cloud' : 'simulator');
  return {
    env: env.NODE_ENV,
    port: env.PORT,
    logLevel: env.LOG_LEVEL,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    db: env.DATABASE_URL
      ? {
          kind: 'postgres' as const,
          url: env.DATABASE_URL,
          max: env.DATABASE_POOL_MAX,
          statementTimeoutMs: env.TX_STATEMENT_TIMEOUT_MS,
        }
      : { kind: 'pglite' as const, dir: env.PGLITE_DIR },
    kv: { ...redis, keyPrefix: env.REDIS_KEY_PREFIX },
    cache: {
      defaultTtlSeconds: env.CACHE_DEFAULT_TTL_SECONDS,
      sessionTtlSeconds: env.SESSION_TTL_SECONDS,
      analysisTtlSeconds: env.CV_ANALYSIS_TTL_SECONDS,
    },
    openai: env.OPENAI_API_KEY
      ? {
          apiKey: env.OPENAI_API_KEY,
          baseURL: env.OPENAI_BASE_URL,
          model: env.OPENAI_MODEL,
          timeoutMs: env.OPENAI_TIMEOUT_MS,
        }
      : undefined,
    cv: { maxBytes: env.CV_MAX_BYTES, maxPages: env.CV_MAX_PAGES, maxChars: env.CV_MAX_CHARS },
    whatsapp: {
      transport,
      verifyToken: env.WHATSAPP_VERIFY_TOKEN,
      appSecret: env.WHATSAPP_APP_SECRET,
      accessToken: env.WHATSAPP_ACCESS_TOKEN,
      phoneNumberId: env.WHATSAPP_PHONE_NUMBER_ID,
      graphUrl: env.WHATSAPP_GRAPH_URL.replace(/\/+$/, ''),
      template: { name: env.WHATSAPP_TEMPLATE_NAME, language: env.WHATSAPP_TEMPLATE_LANGUAGE },
      webjs: { auth: env.WEBJS_AUTH, authDir: env.WEBJS_AUTH_DIR, executablePath: env.PUPPETEER_EXECUTABLE_PATH },
    },
    admin: { token: env.ADMIN_API_TOKEN },
    metrics: { token: env.METRICS_TOKEN },
    notify: { webhookUrl: env.NOTIFY_WEBHOOK_URL, webhookSecret: env.NOTIFY_WEBHOOK_SECRET },
    outbox: {
      maxAttempts: env.OUTBOX_MAX_ATTEMPTS,
      concurrency: env.OUTBOX_CONCURRENCY,
      readyMaxAgeSeconds: env.OUTBOX_READY_MAX_AGE_SECONDS,
    },
    tx: { statementTimeoutMs: env.TX_STATEMENT_TIMEOUT_MS, maxRetries: env.TX_MAX_RETRIES },
    defaultLocale: env.DEFAULT_LOCALE,
    seedDemo: env.SEED_DEMO ?? transport === 'simulator',
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; throws ConfigError naming each bad variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  return toConfig(parsed.data);
}
