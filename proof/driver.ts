import { createHmac } from 'node:crypto';
import type { FakeGraphApi, SentMessage } from '../test/fakes/graph-api.ts';
import {
  type MessageKind,
  messagesPayload,
  type Status,
  statusesPayload,
  statusObject,
} from '../test/fakes/whatsapp-payloads.ts';
import { APP_SECRET, type Instance } from './infra.ts';

/**
 * A load driver that behaves like Meta: every delivery is signed, any answer but 200 (or no answer) is
 * redelivered with backoff to the next instance behind the "load balancer" (round-robin), some deliveries
 * are repeated later (a duplicate arriving after newer messages: out of order), and status callbacks
 * come in shuffled order.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface DriverStats {
  posts: number;
  acked: number;
  non200: Record<string, number>;
  redeliveries: number;
  duplicatesSent: number;
  statusCallbacks: number;
  ackMs: number[];
  gaveUp: number;
}

export interface DriverOptions {
  instances: Instance[];
  duplicateRate?: number;
  /** Share of bot messages the "phone" answers with status callbacks (sent/delivered/read shuffled). */
  statusRate?: number;
  /** No redelivery is tried after this instant. */
  deadline: number;
}

export type Driver = ReturnType<typeof createDriver>;

export function createDriver(options: DriverOptions) {
  const { instances } = options;
  const duplicateRate = options.duplicateRate ?? 0.05;
  const statusRate = options.statusRate ?? 0.3;
  let next = 0;
  const background = new Set<Promise<void>>();
  const stats: DriverStats = {
    posts: 0,
    acked: 0,
    non200: {},
    redeliveries: 0,
    duplicatesSent: 0,
    statusCallbacks: 0,
    ackMs: [],
    gaveUp: 0,
  };
  /** Inbound message ids acknowledged (what the app must have recorded), and status callbacks acknowledged. */
  const acknowledgedMessages = new Set<string>();
  const acknowledgedStatuses = new Set<string>();

  async function postOnce(raw: string): Promise<number> {
    const instance = instances[next++ % instances.length] as Instance;
    const signature = `sha256=${createHmac('sha256', APP_SECRET).update(raw).digest('hex')}`;
    const started = performance.now();
    stats.posts++;
    try {
      const res = await fetch(`${instance.url}/webhooks/whatsapp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
        body: raw,
        signal: AbortSignal.timeout(20_000),
      });
      await res.body?.cancel();
      if (res.status === 200) stats.ackMs.push(performance.now() - started);
      return res.status;
    } catch {
      return 0;
    }
  }

  /** Delivers until some instance answers 200 (Meta keeps trying for days; we stop at the deadline). */
  async function deliver(body: unknown): Promise<boolean> {
    const raw = JSON.stringify(body);
    let backoff = 100;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) stats.redeliveries++;
      const status = await postOnce(raw);
      if (status === 200) {
        stats.acked++;
        return true;
      }
      const key = status === 0 ? 'network' : String(status);
      stats.non200[key] = (stats.non200[key] ?? 0) + 1;
      if (Date.now() > options.deadline) {
        stats.gaveUp++;
        return false;
      }
      await sleep(backoff * (0.5 + Math.random()));
      backoff = Math.min(backoff * 2, 3_000);
    }
  }

  function inBackground(work: () => Promise<void>) {
    const p = work().finally(() => background.delete(p));
    background.add(p);
  }

  /** A message from a candidate's phone; sometimes delivered again later. */
  async function sendMessage(waId: string, name: string, kind: MessageKind): Promise<void> {
    const payload = messagesPayload([kind], { waId, name });
    const id = messageIdOf(payload);
    if (!(await deliver(payload))) throw new Error(`delivery of a ${kind.type} message was never acknowledged`);
    acknowledgedMessages.add(id);
    if (Math.random() < duplicateRate) {
      stats.duplicatesSent++;
      inBackground(async () => {
        await sleep(Math.random() * 1_500);
        await deliver(payload);
      });
    }
  }

  /** The phone reports what it did with the bot's messages, statuses shuffled (out of order). */
  function reportStatuses(messages: SentMessage[], waId: string) {
    for (const m of messages) {
      if (Math.random() >= statusRate) continue;
      const statuses: Status[] = ['sent', 'delivered', 'read'].sort(() => Math.random() - 0.5) as Status[];
      inBackground(async () => {
        for (const s of statuses) {
          stats.statusCallbacks++;
          if (await deliver(statusesPayload([statusObject(m.id, s, waId)]))) acknowledgedStatuses.add(`${m.id}:${s}`);
        }
      });
    }
  }

  return {
    stats,
    acknowledgedMessages,
    acknowledgedStatuses,
    deliver,
    sendMessage,
    reportStatuses,
    /** Waits for the duplicates and status callbacks still in flight. */
    async drain() {
      while (background.size) await Promise.allSettled([...background]);
    },
  };
}

function messageIdOf(payload: Record<string, unknown>): string {
  const entry = (payload.entry as { changes: { value: { messages: { id: string }[] } }[] }[])[0];
  return entry?.changes[0]?.value.messages[0]?.id as string;
}

/** Replies per recipient, indexed incrementally from the fake Graph API's list (one scan per new message). */
export function createReplyIndex(graph: FakeGraphApi) {
  let seen = 0;
  const byRecipient = new Map<string, SentMessage[]>();
  const sync = () => {
    for (; seen < graph.sent.length; seen++) {
      const m = graph.sent[seen] as SentMessage;
      const to = m.to.replace(/^\+/, '');
      const list = byRecipient.get(to) ?? [];
      list.push(m);
      byRecipient.set(to, list);
    }
  };
  return {
    repliesTo(waId: string): SentMessage[] {
      sync();
      return byRecipient.get(waId.replace(/^\+/, '')) ?? [];
    },
    all(): Map<string, SentMessage[]> {
      sync();
      return byRecipient;
    },
  };
}
export type ReplyIndex = ReturnType<typeof createReplyIndex>;

export function percentile(values: number[], p: number): number {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}
