import { Router } from 'express';
import type { Registry } from 'prom-client';
import { timingSafeEqualStrings } from './auth.ts';

export interface CheckResult {
  ok: boolean;
  /** What is behind the check, e.g. `postgres`, `redis`, `pglite`, `memory`. */
  kind?: string;
  details?: Record<string, unknown>;
}
export type ReadinessCheck = () => Promise<CheckResult>;

const CHECK_TIMEOUT_MS = 2_000;

async function runCheck(check: ReadinessCheck): Promise<CheckResult & { error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([check(), timeout]);
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every readiness check in parallel; the overall status is ok only when all are. */
export async function checkReadiness(checks: Record<string, ReadinessCheck>) {
  const names = Object.keys(checks);
  const results = await Promise.all(names.map((n) => runCheck(checks[n] as ReadinessCheck)));
  const components = Object.fromEntries(names.map((n, i) => [n, results[i]]));
  return { ok: results.every((r) => r.ok), components };
}

export function createHealthRouter(deps: {
  checks: Record<string, ReadinessCheck>;
  registry: Registry;
  metricsToken?: string;
  isShuttingDown: () => boolean;
}): Router {
  const router = Router();
  router.get('/health/live', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/health/ready', async (_req, res) => {
    if (deps.isShuttingDown()) {
      res.status(503).json({ status: 'shutting_down', components: {} });
      return;
    }
    const { ok, components } = await checkReadiness(deps.checks);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', components });
  });
  router.get('/metrics', async (req, res) => {
    if (deps.metricsToken) {
      const given = req.get('authorization')?.replace(/^Bearer\s+/i, '') ?? '';
      if (!timingSafeEqualStrings(given, deps.metricsToken)) {
        res.status(401).json({ error: { code: 'unauthorized', message: 'A valid metrics token is required' } });
        return;
      }
    }
    res.type(deps.registry.contentType).send(await deps.registry.metrics());
  });
  return router;
}
