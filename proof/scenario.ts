import {
  type CandidateResult,
  type CandidateSpec,
  createProcess,
  makeCandidates,
  runCandidates,
  uploadCvs,
} from './candidates.ts';
import { checkInvariants, type Invariants, losses, settle } from './checks.ts';
import { createDriver, type Driver, percentile } from './driver.ts';
import { type PrivatePostgres, startWorld, type World } from './infra.ts';

/** What every scenario hands back to the runner. */
export interface ScenarioResult {
  name: string;
  ok: boolean;
  seconds: number;
  figures: Record<string, number | string>;
  /** Named figures that broke the promise (empty when ok). */
  losses: string[];
  notes: string[];
}

export interface LoadOptions {
  /** Short id that makes this scenario's phone numbers its own. */
  run: string;
  candidates: number;
  distinctCvs: number;
  instances: number;
  env?: Record<string, string>;
  /** Spread of the candidates' first messages. */
  rampMs: number;
  stepTimeoutMs?: number;
  /** The fault, started `faultAfterMs` after the first candidate. */
  fault?: (world: World) => Promise<void>;
  faultAfterMs?: number;
  allowDuplicateSends?: number;
}

export interface LoadOutcome {
  world: World;
  driver: Driver;
  specs: CandidateSpec[];
  results: CandidateResult[];
  invariants: Invariants;
  settled: boolean;
  loadSeconds: number;
  rssMaxMb: number[];
  losses: string[];
}

/** Starts a world, runs the candidates (with the fault, if any), settles and checks; the caller closes the world. */
export async function runLoad(pg: PrivatePostgres, o: LoadOptions): Promise<LoadOutcome> {
  const world = await startWorld(pg, { instances: o.instances, env: o.env });
  await createProcess(world.instances[0] as World['instances'][number]);
  const cvMediaIds = await uploadCvs(world.graph, o.distinctCvs);
  const specs = makeCandidates(o.candidates, o.distinctCvs, o.run);
  const stepTimeoutMs = o.stepTimeoutMs ?? 120_000;
  const driver = createDriver({ instances: world.instances, deadline: Date.now() + 15 * 60_000 });

  const rssMaxMb = world.instances.map(() => 0);
  const sampler = setInterval(() => {
    world.instances.forEach((inst, i) => {
      rssMaxMb[i] = Math.max(rssMaxMb[i] ?? 0, inst.rssMb() ?? 0);
    });
  }, 500);

  const started = performance.now();
  const fault = o.fault
    ? new Promise((r) => setTimeout(r, o.faultAfterMs ?? 0)).then(() => o.fault?.(world))
    : Promise.resolve();
  const results = await runCandidates(specs, {
    driver,
    graph: world.graph,
    cvMediaIds,
    stepTimeoutMs,
    rampMs: o.rampMs,
  });
  await fault;
  await driver.drain();
  const loadSeconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  // The recruiter gets one WhatsApp message per application, and the sender keeps to one message a
  // second per recipient on each instance (Meta's pair limits), so its backlog needs that long to drain.
  const settleMs = 60_000 + Math.ceil(o.candidates / world.instances.length) * 1_000;
  const settled = await settle(world, settleMs);
  const invariants = await checkInvariants(world, driver, specs, results);
  const crashed = world.instances.flatMap((inst) =>
    inst.exits.filter((e) => !e.expected).map((e) => `instance ${inst.index} exited (${e.code ?? e.signal})`),
  );
  const found = [
    ...losses(invariants, { allowDuplicateSends: o.allowDuplicateSends }),
    ...(settled ? [] : [`not settled within ${Math.round(settleMs / 1000)} s`]),
    ...crashed,
  ];
  return { world, driver, specs, results, invariants, settled, loadSeconds, rssMaxMb, losses: found };
}

/** The figures every load-shaped scenario reports. */
export function loadFigures(out: LoadOutcome): Record<string, number | string> {
  const s = out.driver.stats;
  const inv = out.invariants;
  return {
    candidates: inv.candidates,
    completed: inv.completed,
    instances: out.world.instances.length,
    'messages/s': Number((out.driver.acknowledgedMessages.size / out.loadSeconds).toFixed(1)),
    'p50 ack ms': Math.round(percentile(s.ackMs, 50)),
    'p99 ack ms': Math.round(percentile(s.ackMs, 99)),
    posts: s.posts,
    redeliveries: s.redeliveries,
    non200: Object.entries(s.non200)
      .map(([k, v]) => `${k}:${v}`)
      .join(' '),
    duplicatesSent: s.duplicatesSent,
    statusCallbacks: s.statusCallbacks,
    openaiRequests: inv.openaiRequests,
    openaiCompletions: inv.openaiCompletions,
    'rss max MB': out.rssMaxMb.join('/'),
    lostInbound: inv.lostInbound,
    doubledInbound: inv.doubledInbound,
    lostStatuses: inv.lostStatuses,
    stuckApplications: inv.stuckApplications,
    notifiableEvents: inv.notifiableEvents,
    lostWebhookNotifications: inv.lostWebhookNotifications,
    redundantWebhookDeliveries: inv.redundantWebhookDeliveries,
    doubledNotifierRuns: inv.doubledNotifierRuns,
    lostRecruiterWhatsApp: inv.lostRecruiterWhatsApp,
    duplicateOutboundSends: inv.duplicateOutboundSends,
    deadOutboxEvents: inv.deadOutboxEvents,
  };
}

export function result(
  name: string,
  started: number,
  figures: ScenarioResult['figures'],
  found: string[],
  notes: string[] = [],
): ScenarioResult {
  return {
    name,
    ok: found.length === 0,
    seconds: Math.round((performance.now() - started) / 1000),
    figures,
    losses: found,
    notes,
  };
}
