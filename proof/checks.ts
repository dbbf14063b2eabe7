import { DEFAULT_NOTIFY_ON } from '../src/events/notifier.ts';
import type { CandidateResult, CandidateSpec } from './candidates.ts';
import { RECRUITER_PHONE } from './candidates.ts';
import type { Driver } from './driver.ts';
import { createReplyIndex } from './driver.ts';
import type { World } from './infra.ts';

/**
 * What "nothing lost, nothing doubled" means, checked against Postgres and the fakes once the system settled.
 * Each figure named `lost*`/`stuck*`/`doubled*` must be zero for the scenario to pass.
 */
export interface Invariants {
  candidates: number;
  completed: number;
  /** Candidates whose conversation did not reach the closing message. */
  lostConversations: number;
  applications: number;
  /** Applications still in_progress/submitted, or without an analysis, after settling. */
  stuckApplications: number;
  inboundAcknowledged: number;
  /** Acknowledged inbound messages with no row in inbound_messages. */
  lostInbound: number;
  /** Inbound texts written twice into a transcript (handled twice). */
  doubledInbound: number;
  statusesAcknowledged: number;
  lostStatuses: number;
  notifiableEvents: number;
  /** Status events never accepted by the recruiter webhook. */
  lostWebhookNotifications: number;
  /** Webhook POSTs accepted beyond one per event (at-least-once redeliveries the receiver dedupes by id). */
  redundantWebhookDeliveries: number;
  /** Status events whose notifier ran more than once (more than one webhook event queued per status event). */
  doubledNotifierRuns: number;
  recruiterWhatsApp: number;
  lostRecruiterWhatsApp: number;
  /** Identical WhatsApp messages sent twice to one recipient (duplicate outbound sends). */
  duplicateOutboundSends: number;
  deadOutboxEvents: number;
  pendingOutboxEvents: number;
  openaiRequests: number;
  openaiCompletions: number;
  failures: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the outbox is drained and no application is in progress or awaiting analysis. */
export async function settle(world: World, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [row] = await world.sql<{ pending: number; open: number }[]>`
      select (select count(*)::int from outbox where state = 'pending') as pending,
             (select count(*)::int from applications
               where status in ('in_progress', 'submitted') or analysis_state in ('none', 'pending')) as open`.catch(
      () => [{ pending: -1, open: -1 }],
    );
    if (row && row.pending === 0 && row.open === 0) return true;
    await sleep(500);
  }
  return false;
}

export async function checkInvariants(
  world: World,
  driver: Driver,
  specs: CandidateSpec[],
  results: CandidateResult[],
): Promise<Invariants> {
  const { sql } = world;
  const failures: string[] = [];
  const completed = results.filter((r) => r.completed).length;
  for (const r of results.filter((x) => !x.completed).slice(0, 5)) failures.push(`candidate ${r.failedAt}: ${r.error}`);

  const apps = await sql<{ status: string; analysis_state: string }[]>`select status, analysis_state from applications`;
  const stuck = apps.filter(
    (a) => ['in_progress', 'submitted'].includes(a.status) || a.analysis_state !== 'done',
  ).length;

  const acknowledged = [...driver.acknowledgedMessages];
  const recorded = new Set(
    (await sql<{ id: string }[]>`select id from inbound_messages where id = any(${acknowledged})`).map((r) => r.id),
  );
  const lostInbound = acknowledged.filter((id) => !recorded.has(id)).length;
  const [doubled] = await sql<{ n: number }[]>`
    select coalesce(sum(c - 1), 0)::int as n from (
      select count(*) as c from transcript_entries where direction = 'in' group by candidate_id, body having count(*) > 1
    ) d`;

  const statusKeys = [...driver.acknowledgedStatuses];
  const statusRows = new Set(
    (await sql<{ k: string }[]>`select message_id || ':' || status as k from message_statuses`).map((r) => r.k),
  );
  const lostStatuses = statusKeys.filter((k) => !statusRows.has(k)).length;

  const notifiable = await sql<{ id: string }[]>`
    select id from outbox where type = 'application.status_changed'
      and payload->>'to' = any(${[...DEFAULT_NOTIFY_ON]})`;
  const webhookQueued = await sql<{ event_id: string; n: number }[]>`
    select payload->>'eventId' as event_id, count(*)::int as n from outbox where type = 'notify.webhook'
    group by 1`;
  const doubledNotifierRuns = webhookQueued.filter((w) => w.n > 1).length;
  const accepted = world.receiver.accepted().map((d) => String(d.headers['x-event-id']));
  const acceptedIds = new Set(accepted);
  const lostWebhook = notifiable.filter((e) => !acceptedIds.has(e.id)).length;

  const replies = createReplyIndex(world.graph);
  const recruiterSends = replies.repliesTo(RECRUITER_PHONE).length;
  let duplicateSends = 0;
  for (const [, messages] of replies.all()) {
    const bodies = new Set<string>();
    for (const m of messages) {
      const key = JSON.stringify(m.body);
      if (bodies.has(key)) duplicateSends++;
      bodies.add(key);
    }
  }

  const [outboxStates] = await sql<{ dead: number; pending: number }[]>`
    select count(*) filter (where state = 'dead')::int as dead, count(*) filter (where state = 'pending')::int as pending
    from outbox`;
  if (outboxStates && outboxStates.dead > 0) {
    const dead = await sql<{ type: string; last_error: string }[]>`
      select type, last_error from outbox where state = 'dead' limit 3`;
    for (const d of dead) failures.push(`dead ${d.type}: ${d.last_error}`);
  }

  return {
    candidates: specs.length,
    completed,
    lostConversations: specs.length - completed,
    applications: apps.length,
    stuckApplications: stuck + Math.max(0, specs.length - apps.length),
    inboundAcknowledged: acknowledged.length,
    lostInbound,
    doubledInbound: doubled?.n ?? 0,
    statusesAcknowledged: statusKeys.length,
    lostStatuses,
    notifiableEvents: notifiable.length,
    lostWebhookNotifications: lostWebhook,
    redundantWebhookDeliveries: accepted.length - acceptedIds.size,
    doubledNotifierRuns,
    recruiterWhatsApp: recruiterSends,
    lostRecruiterWhatsApp: Math.max(0, notifiable.length - recruiterSends),
    duplicateOutboundSends: duplicateSends,
    deadOutboxEvents: outboxStates?.dead ?? 0,
    pendingOutboxEvents: outboxStates?.pending ?? 0,
    openaiRequests: world.openai.requests.length,
    openaiCompletions: world.openai.completions,
    failures,
  };
}

/** The figures that must be zero; returns the names of those that are not. */
export function losses(inv: Invariants, options: { allowDuplicateSends?: number } = {}): string[] {
  const bad: string[] = [];
  const mustBeZero: (keyof Invariants)[] = [
    'lostConversations',
    'stuckApplications',
    'lostInbound',
    'doubledInbound',
    'lostStatuses',
    'lostWebhookNotifications',
    'doubledNotifierRuns',
    'lostRecruiterWhatsApp',
    'deadOutboxEvents',
    'pendingOutboxEvents',
  ];
  for (const k of mustBeZero) if (inv[k] !== 0) bad.push(`${k}=${inv[k]}`);
  if (inv.duplicateOutboundSends > (options.allowDuplicateSends ?? 0))
    bad.push(`duplicateOutboundSends=${inv.duplicateOutboundSends}`);
  return bad;
}
