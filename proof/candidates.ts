import { buildTextPdf, sampleCvLines } from '../test/fakes/cv-files.ts';
import type { FakeGraphApi } from '../test/fakes/graph-api.ts';
import { view } from '../test/fakes/graph-api.ts';
import { backendProcess, RECRUITER_PHONE } from '../test/fakes/processes.ts';
import type { MessageKind } from '../test/fakes/whatsapp-payloads.ts';
import { createReplyIndex, type Driver, type ReplyIndex } from './driver.ts';
import { adminApi, type Instance } from './infra.ts';

/** The process every proof candidate applies to, and scripted candidates that complete an application. */

export const PROCESS_CODE = 'PROOF1';
export { RECRUITER_PHONE };

export const PROCESS = backendProcess(PROCESS_CODE);

export async function createProcess(instance: Instance) {
  const res = await adminApi(instance, 'POST', '/api/processes', PROCESS);
  if (res.status !== 201) throw new Error(`creating the process answered ${res.status}: ${await res.text()}`);
}

export interface CandidateSpec {
  waId: string;
  name: string;
  email: string;
  /** Index of the CV file (several candidates share one: identical CVs). */
  cv: number;
}

/** The CV text of file `n`: the sample CV with a line of its own, so distinct files hash apart. */
export function cvLines(n: number): string[] {
  return [...sampleCvLines, '', `Reference PR-${String(n).padStart(5, '0')}`];
}

/** A number written in letters (names must be letters only). */
function alpha(n: number): string {
  let s = '';
  let v = n;
  do {
    s = String.fromCharCode(97 + (v % 26)) + s;
    v = Math.floor(v / 26);
  } while (v > 0);
  return `${s[0]?.toUpperCase()}${s.slice(1)}ra`;
}

/** `count` candidates sharing `distinctCvs` CV files; unique phone numbers, names and emails. */
export function makeCandidates(count: number, distinctCvs: number, run: string): CandidateSpec[] {
  const specs = Array.from({ length: count }, (_, i) => ({
    waId: `44${run}${String(i).padStart(6, '0')}`,
    name: `Proof ${alpha(Number(run))} ${alpha(i)}`,
    email: `proof.${run}.${i}@example.org`,
    cv: i % distinctCvs,
  }));
  everyCandidate.push(...specs);
  return specs;
}

/** Every candidate made in this process: their phones, names and emails must never be logged. */
export const everyCandidate: CandidateSpec[] = [];

/** What must never appear in a log line: candidates' phones, names, emails, and CV text. */
export function personalData(): string[] {
  return [
    ...everyCandidate.flatMap((c) => [c.waId, c.name, c.email]),
    RECRUITER_PHONE.slice(1),
    'Designed event-driven services',
    'Acme Payments',
    'Universidad Politécnica',
  ];
}

/** Uploads the distinct CV PDFs to the fake Graph API as media; returns their media ids. */
export async function uploadCvs(graph: FakeGraphApi, distinctCvs: number): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 0; n < distinctCvs; n++) {
    ids.push(graph.addMedia(await buildTextPdf([cvLines(n)]), 'application/pdf'));
  }
  return ids;
}

export interface CandidateResult {
  waId: string;
  completed: boolean;
  failedAt?: string;
  error?: string;
}

type Reply = { text: string; ids: string[] };

/**
 * One candidate's phone: sends each message, then waits for a reply it had not seen before (a duplicate
 * of an earlier reply does not count as the answer) that satisfies the step.
 */
export async function runCandidate(
  c: CandidateSpec,
  ctx: { driver: Driver; replies: ReplyIndex; cvMediaIds: string[]; stepTimeoutMs: number },
): Promise<CandidateResult> {
  const steps: { label: string; send: MessageKind; done: (r: Reply) => boolean }[] = [
    { label: 'consent', send: { type: 'text', body: 'hello' }, done: (r) => r.ids.includes('consent.accept') },
    {
      label: 'process list',
      send: { type: 'button_reply', id: 'consent.accept', title: 'I accept' },
      done: (r) => r.ids.includes(PROCESS_CODE),
    },
    {
      label: 'name question',
      send: { type: 'list_reply', id: PROCESS_CODE, title: 'Backend developer' },
      done: (r) => /name/i.test(r.text),
    },
    { label: 'email question', send: { type: 'text', body: c.name }, done: (r) => /email/i.test(r.text) },
    { label: 'CV request', send: { type: 'text', body: c.email }, done: (r) => /CV/.test(r.text) },
    {
      label: 'first question',
      send: { type: 'document', mediaId: c.cv < ctx.cvMediaIds.length ? (ctx.cvMediaIds[c.cv] as string) : '' },
      done: (r) => r.ids.includes('answer.yes'),
    },
    {
      label: 'number question',
      send: { type: 'button_reply', id: 'answer.yes', title: 'Yes' },
      done: (r) => /Node/i.test(r.text),
    },
    { label: 'choice question', send: { type: 'text', body: '5' }, done: (r) => r.ids.includes('answer.opt.0') },
    {
      label: 'closing',
      send: { type: 'list_reply', id: 'answer.opt.0', title: 'Remote' },
      done: (r) => /is complete/.test(r.text),
    },
  ];
  const seenBodies = new Set<string>();
  let seen = 0;
  for (const step of steps) {
    try {
      await ctx.driver.sendMessage(c.waId, c.name, step.send);
    } catch (err) {
      return { waId: c.waId, completed: false, failedAt: step.label, error: (err as Error).message };
    }
    const deadline = Date.now() + ctx.stepTimeoutMs;
    let satisfied = false;
    while (!satisfied) {
      const all = ctx.replies.repliesTo(c.waId);
      const fresh = all.slice(seen);
      seen = all.length;
      if (fresh.length) ctx.driver.reportStatuses(fresh, c.waId);
      for (const m of fresh) {
        const key = JSON.stringify(m.body);
        if (seenBodies.has(key)) continue;
        seenBodies.add(key);
        if (step.done(view(m))) satisfied = true;
      }
      if (satisfied) break;
      if (Date.now() > deadline) {
        return { waId: c.waId, completed: false, failedAt: step.label, error: 'no reply in time' };
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { waId: c.waId, completed: true };
}

/** Runs every candidate, starting them spread over `rampMs`. */
export async function runCandidates(
  specs: CandidateSpec[],
  ctx: { driver: Driver; graph: FakeGraphApi; cvMediaIds: string[]; stepTimeoutMs: number; rampMs: number },
): Promise<CandidateResult[]> {
  const replies = createReplyIndex(ctx.graph);
  return Promise.all(
    specs.map(async (c, i) => {
      await new Promise((r) => setTimeout(r, (ctx.rampMs * i) / Math.max(1, specs.length)));
      return runCandidate(c, { ...ctx, replies });
    }),
  );
}
