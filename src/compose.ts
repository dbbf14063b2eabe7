import type { Server } from 'node:http';
import type { Express, Router } from 'express';
import { createCacheMetrics } from './cache/cache-metrics.ts';
import { CacheService } from './cache/cache-service.ts';
import { collectCacheStats } from './cache/cache-stats.ts';
import type { KvStore } from './cache/kv-store.ts';
import { createMemoryStore } from './cache/memory-store.ts';
import { createRedisClient } from './cache/redis-client.ts';
import type { Config } from './config.ts';
import { createConversationEngine } from './conversation/engine.ts';
import { createConversationLog } from './conversation/log.ts';
import { createConversationMetrics } from './conversation/metrics.ts';
import { createSessionStore, phoneHash } from './conversation/sessions.ts';
import { createCvAnalysisService } from './cv/analysis-service.ts';
import { createOfflineAnalyzer } from './cv/analyzer-offline.ts';
import { createCvExtractor } from './cv/extract.ts';
import { subscribeCvHandlers } from './cv/handlers.ts';
import { createCvMetrics } from './cv/metrics.ts';
import { hashCvText as hashCv } from './cv/normalize.ts';
import { createDbClient, type DbClient } from './db/client.ts';
import { createTxMetrics } from './db/metrics.ts';
import { migrateDatabase } from './db/migrate.ts';
import { createTransactionManager } from './db/transaction-manager.ts';
import { createUnitOfWork } from './db/unit-of-work.ts';
import { createEventBus } from './events/bus.ts';
import { createOutboxMetrics } from './events/metrics.ts';
import { subscribeNotifier } from './events/notifier.ts';
import { listEvents } from './events/outbox.ts';
import { createOutboxRelay } from './events/relay.ts';
import { createAdminRouter } from './http/admin.ts';
import { createApp } from './http/app.ts';
import { createHealthRouter, type ReadinessCheck } from './http/health.ts';
import type { Logger } from './logger.ts';
import { createHttpMetrics, createMetricsRegistry } from './observability/metrics.ts';
import { createApplicationRepository } from './recruiting/applications.ts';
import { createCandidateRepository } from './recruiting/candidates.ts';
import { createEvaluation } from './recruiting/evaluation.ts';
import { createDropOffSweep, createFunnelMetrics } from './recruiting/metrics.ts';
import { createProcessRepository } from './recruiting/processes.ts';
import { createRecruiterService } from './recruiting/recruiter-service.ts';
import { seedDemoProcess } from './recruiting/seed.ts';
import { createStatusChanges } from './recruiting/status-changes.ts';
import type { Channel } from './whatsapp/channel.ts';
import { createCloudApiChannel } from './whatsapp/cloud-api.ts';
import { createWhatsAppWebhookRouter } from './whatsapp/cloud-webhook.ts';
import { createWhatsAppMetrics } from './whatsapp/metrics.ts';
import { subscribeWhatsAppSender } from './whatsapp/sender.ts';
import { createSimulatorChannel } from './whatsapp/simulator/channel.ts';
import { createSimulatorRouter } from './whatsapp/simulator/router.ts';

export interface App {
  config: Config;
  http: Express;
  db: DbClient;
  kv: KvStore;
  channel: Channel;
  /** Starts background work: the outbox relay and the WhatsApp transport. */
  start(): Promise<void>;
  /** Marks the instance as shutting down: readiness answers 503 so load balancers drain it. */
  beginShutdown(): void;
  /** Stops background work and closes pools (the HTTP server is closed by the caller first). */
  close(): Promise<void>;
}

/** Ready-made parts to use instead of building them from Config (tests share throwaway backends and fakes). */
export interface Overrides {
  db?: DbClient;
  kv?: KvStore;
  channel?: Channel;
  fetch?: typeof fetch;
}

/** The one composition root: builds every component from Config and wires them together. */
export async function compose(config: Config, logger: Logger, overrides: Overrides = {}): Promise<App> {
  const db = overrides.db ?? createDbClient(config.db, logger);
  await migrateDatabase(db);
  const kv = overrides.kv ?? createKvStore(config, logger);
  if (kv.kind === 'redis') {
    // Start even when Redis is down: readiness reports it and the connection keeps retrying.
    await kv
      .ping()
      .catch((err: Error) => logger.warn({ err: { message: err.message } }, 'redis not reachable at start-up'));
  }

  const registry = createMetricsRegistry();
  const routers: Router[] = [];
  const checks: Record<string, ReadinessCheck> = {
    database: async () => {
      await db.ping();
      return { ok: true, kind: db.kind };
    },
    kv: async () => {
      await kv.ping();
      return { ok: true, kind: kv.kind };
    },
  };

  // Transactions and the outbox.
  const txMetrics = createTxMetrics(registry);
  const uow = createUnitOfWork(db, logger, {
    metrics: txMetrics,
    // Connections we opened carry the timeout already (see createDbClient): no SET LOCAL per transaction.
    connectionStatementTimeoutMs:
      !overrides.db && config.db.kind === 'postgres' ? config.tx.statementTimeoutMs : undefined,
  });
  const bus = createEventBus();
  const outboxMetrics = createOutboxMetrics(registry);
  const relay = createOutboxRelay({
    client: db,
    bus,
    logger,
    metrics: outboxMetrics,
    maxAttempts: config.outbox.maxAttempts,
    concurrency: config.outbox.concurrency,
  });
  const tm = createTransactionManager({
    uow,
    logger,
    dispatcher: relay,
    metrics: txMetrics,
    outboxMetrics,
    maxRetries: config.tx.maxRetries,
    statementTimeoutMs: config.tx.statementTimeoutMs,
  });
  checks.outbox = relay.readinessCheck(config.outbox.readyMaxAgeSeconds);

  // Caches, one per domain prefix, sharing one store and one circuit breaker.
  const cacheMetrics = createCacheMetrics(registry, { store: kv });
  const cache = (prefix: string, ttlSeconds: number) =>
    new CacheService(kv, {
      prefix,
      ttlSeconds,
      logger,
      metrics: cacheMetrics,
      deferInvalidation: () => tm.currentAfterCommit(),
    });
  const caches = {
    processes: cache('processes', config.cache.defaultTtlSeconds),
    sessions: cache('sessions', config.cache.sessionTtlSeconds),
    analysis: cache('analysis', config.cache.analysisTtlSeconds),
  };

  // Repositories over the ambient transaction.
  const processes = createProcessRepository(uow);
  const candidates = createCandidateRepository(uow);
  const applications = createApplicationRepository(uow);
  const log = createConversationLog(uow);
  const sessions = createSessionStore(caches.sessions, config.cache.sessionTtlSeconds);

  // CV analysis.
  const cvMetrics = createCvMetrics(registry);
  // Heavy SDKs load only when configured (the openai SDK; whatsapp-web.js and Puppeteer below).
  const openAi = config.openai
    ? (await import('./cv/analyzer-openai.ts')).createOpenAiAnalyzer({ ...config.openai, logger, metrics: cvMetrics })
    : undefined;
  const analyzer = openAi ?? createOfflineAnalyzer();
  const analysis = createCvAnalysisService({
    analyzer,
    cache: caches.analysis,
    logger,
    metrics: cvMetrics,
    ttlSeconds: config.cache.analysisTtlSeconds,
  });
  const fallbackAnalysis = config.openai
    ? createCvAnalysisService({ analyzer: createOfflineAnalyzer(), cache: caches.analysis, logger, metrics: cvMetrics })
    : undefined;
  const extractor = createCvExtractor({ ...config.cv, logger, metrics: cvMetrics });
  const forgetCvAnalyses = async (cvHashes: string[]) => {
    for (const hash of cvHashes) await kv.deletePrefix(`analysis:${analysis.cacheKeyPrefix(hash)}`).catch(() => 0);
  };

  // Recruiting.
  const statusChanges = createStatusChanges({ tm, applications });
  const conversationMetrics = createConversationMetrics(registry);
  const recruiting = createRecruiterService({
    tm,
    processes,
    applications,
    candidates,
    statusChanges,
    processCache: caches.processes,
    onErased: async ({ phone, cvHashes }) => {
      await sessions.forget(phoneHash(phone));
      await forgetCvAnalyses(cvHashes);
    },
  });
  const evaluation = createEvaluation({
    tm,
    applications,
    // Read in the transaction itself, not through the cache: a cache fill started outside it would
    // wait for PGlite's one connection while the transaction holds it.
    findProcess: processes.findById,
    statusChanges,
    logger,
    onSubmitted: (app, at) => {
      if (app.firstMessageAt)
        conversationMetrics.timeToSubmit.observe((at.getTime() - app.firstMessageAt.getTime()) / 1000);
    },
  });
  createFunnelMetrics(registry, { applications, uow });
  const dropOff = createDropOffSweep({ registry, uow, kv, sessionTtlSeconds: config.cache.sessionTtlSeconds, logger });

  // The conversation.
  const engine = createConversationEngine({
    tm,
    candidates,
    applications,
    log,
    sessions,
    evaluation,
    logger,
    metrics: conversationMetrics,
    openProcesses: recruiting.openProcesses,
    defaultLocale: config.defaultLocale,
    hashCv,
    forgetCvAnalyses,
  });

  // The WhatsApp transport.
  const waMetrics = createWhatsAppMetrics(registry);
  const { channel, simulator } = await createChannel(config, logger, waMetrics, overrides, routers, engine.handler, kv);
  if (simulator) {
    routers.push(
      createSimulatorRouter({
        channel: simulator,
        maxUploadBytes: config.cv.maxBytes,
        listApplications: async (phone) => {
          const candidate = await candidates.findByPhone(phone);
          if (!candidate) return [];
          return (await applications.listForCandidate(candidate.id)).map((r) => ({
            processTitle: r.processTitle,
            status: r.application.status,
            score: r.application.score,
          }));
        },
      }),
    );
  }
  checks.whatsapp = async () => {
    const h = await channel.health();
    // The Cloud API receives through its webhook whatever the token's state: shown, not gating.
    return { ok: h.ok || channel.kind === 'cloud', kind: channel.kind, details: { state: h.state, ...h.details } };
  };

  subscribeWhatsAppSender({ bus, channel, candidates, template: config.whatsapp.template, logger });
  subscribeCvHandlers({
    bus,
    tm,
    channel,
    extractor,
    analysis,
    fallbackAnalysis,
    engine,
    applications,
    evaluation,
    hashCv,
    logger,
    findProcess: recruiting.findProcess,
    maxBytes: config.cv.maxBytes,
  });
  subscribeNotifier({
    bus,
    tm,
    applications,
    candidates,
    logger,
    findProcess: recruiting.findProcess,
    webhook: { url: config.notify.webhookUrl, secret: config.notify.webhookSecret },
    locale: config.defaultLocale,
    onNotification: simulator ? (n) => simulator.recordNotification(n) : undefined,
  });

  // HTTP.
  let shuttingDown = false;
  routers.unshift(
    createHealthRouter({ registry, metricsToken: config.metrics.token, isShuttingDown: () => shuttingDown, checks }),
  );
  routers.push(
    createAdminRouter({
      token: config.admin.token,
      logger,
      recruiting,
      events: {
        list: (state, page) => listEvents(db.db, state, page.limit, page.offset),
        retry: (id) => relay.retry(id),
      },
      cacheStats: () => collectCacheStats(Object.values(caches), kv),
    }),
  );
  const http = createApp({ logger, metrics: createHttpMetrics(registry), routers });

  if (config.seedDemo) await seedDemoProcess({ processes, recruiting, logger });

  return {
    config,
    http,
    db,
    kv,
    channel,
    async start() {
      await relay.start();
      await channel.start(engine.handler);
      dropOff.start();
    },
    beginShutdown: () => {
      shuttingDown = true;
      // Open simulator pages hold their event streams: end them so the server can close.
      simulator?.closeStreams();
    },
    async close() {
      await channel.stop().catch((err) => logger.warn({ err }, 'WhatsApp transport did not stop cleanly'));
      await dropOff.stop();
      await relay.stop();
      await extractor.close();
      openAi?.close();
      if (!overrides.kv) await kv.close();
      if (!overrides.db) await db.close();
    },
  };
}

async function createChannel(
  config: Config,
  logger: Logger,
  metrics: ReturnType<typeof createWhatsAppMetrics>,
  overrides: Overrides,
  routers: Router[],
  handler: ReturnType<typeof createConversationEngine>['handler'],
  kv: KvStore,
): Promise<{ channel: Channel; simulator?: ReturnType<typeof createSimulatorChannel> }> {
  const wa = config.whatsapp;
  if (overrides.channel) return { channel: overrides.channel };
  if (wa.transport === 'cloud') {
    if (!wa.accessToken || !wa.phoneNumberId || !wa.appSecret) {
      throw new Error(
        'WHATSAPP_TRANSPORT=cloud needs WHATSAPP_ACCESS_TOKEN, WHATSAPP_PHONE_NUMBER_ID and WHATSAPP_APP_SECRET',
      );
    }
    routers.push(
      createWhatsAppWebhookRouter({
        verifyToken: wa.verifyToken,
        appSecret: wa.appSecret,
        phoneNumberId: wa.phoneNumberId,
        handler,
        logger,
        metrics,
      }),
    );
    const channel = createCloudApiChannel({
      graphUrl: wa.graphUrl,
      accessToken: wa.accessToken,
      phoneNumberId: wa.phoneNumberId,
      logger,
      metrics,
      ...(overrides.fetch ? { fetch: overrides.fetch } : {}),
    });
    return { channel };
  }
  if (wa.transport === 'webjs') {
    const auth =
      wa.webjs.auth === 'remote'
        ? { kind: 'remote' as const, kv, dataPath: wa.webjs.authDir }
        : { kind: 'local' as const, dataPath: wa.webjs.authDir };
    const { createWebJsChannel, createWebJsClient } = await import('./whatsapp/web-js.ts');
    const { createWhatsAppSessionRouter } = await import('./whatsapp/web-js-admin.ts');
    const channel = createWebJsChannel({
      clientFactory: () => createWebJsClient({ executablePath: wa.webjs.executablePath, auth, logger }),
      logger,
      metrics,
    });
    if (config.admin.token) routers.push(createWhatsAppSessionRouter({ channel, adminToken: config.admin.token }));
    return { channel };
  }
  const simulator = createSimulatorChannel();
  return { channel: simulator, simulator };
}

function createKvStore(config: Config, logger: Logger): KvStore {
  if (config.kv.kind === 'memory') return createMemoryStore();
  // Standalone, Sentinel (?sentinel=name) or Cluster (?cluster=true) from one URL; reconnects with backoff.
  // Connects in the background; commands fail fast until it is ready (readiness reports it).
  return createRedisClient(config.kv.url, { keyPrefix: config.kv.keyPrefix, logger }).store;
}

/** Closes the server gracefully: stop accepting, let in-flight requests finish, drop idle keep-alives. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
