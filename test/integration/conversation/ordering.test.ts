import { asc, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createDbClient, type DbClient } from '../../../src/db/client.ts';
import { applications, candidates, inboundMessages, outbox, transcriptEntries } from '../../../src/db/schema.ts';
import { type FakeGraphApi, startFakeGraphApi } from '../../fakes/graph-api.ts';
import { messagesPayload } from '../../fakes/whatsapp-payloads.ts';
import { startTestApp, type TestApp, until } from '../../support/app.ts';
import { createTestDb, type TestDb } from '../../support/db.ts';
import { bodyOf } from '../../support/http.ts';
import { createTestKv, type TestKv, testPrefix } from '../../support/kv.ts';
import { candidatePhone, hasText, view } from './candidate.ts';

/**
 * One phone, two app instances on one database (and one Redis prefix when TEST_REDIS_URL is set).
 *
 * What the engine guarantees: a phone's messages are processed one at a time (the conversation row
 * lock), never interleaved, each recorded once. Deliveries that race (posted concurrently) may take
 * the lock in any order, so "in order" means the order in which they were committed: the i-th
 * committed answer fills question i and its reply asks question i + 1. Deliveries posted one after
 * another (each acknowledged before the next) are committed, and so answered, in the order sent.
 */
const MESSAGES = 20;
// One question per message (20 is the most a process may have): the last message submits.
const QUESTIONS = Array.from({ length: MESSAGES }, (_, i) => {
  const n = String(i + 1).padStart(2, '0');
  return { id: `q${n}`, text: `Question q${n}?`, type: 'text' as const };
});
const PROCESS = {
  code: 'ORD1',
  title: 'Ordering',
  description: 'Many text questions',
  requirements: { skills: ['TypeScript'] },
  questions: QUESTIONS,
  thresholds: { shortlist: 60, reject: 20 },
  recruiters: [],
  status: 'open',
};
const CV = `Ana García. Backend developer with eight years of TypeScript, Node.js and PostgreSQL. ${'Built and ran payment and messaging services at scale. '.repeat(4)}`;

/** The question a reply asks (2..20), or 'closing' for anything else (the last answer submits). */
const askedBy = (text: string) => {
  const n = /Question q(\d+)\?/.exec(text)?.[1];
  return n ? Number(n) : 'closing';
};
/** What the replies to the i-th committed message ask: question i + 2, then the closing message. */
const expectedAsks = Array.from({ length: MESSAGES }, (_, i) => (i + 2 <= MESSAGES ? i + 2 : 'closing'));

let waSeq = 0;
const newWaId = () => `346${String(Date.now()).slice(-6)}${String(++waSeq).padStart(2, '0')}`;

describe.runIf(!!process.env.TEST_DATABASE_URL)('one phone, two instances', () => {
  let db: TestDb;
  const clients: DbClient[] = [];
  const kvs: TestKv[] = [];
  let graph: FakeGraphApi;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    db = await createTestDb('postgres');
    graph = await startFakeGraphApi();
    const prefix = testPrefix();
    const kvBackend = process.env.TEST_REDIS_URL ? 'redis' : 'memory';
    const instances: TestApp[] = [];
    for (let i = 0; i < 2; i++) {
      const client = createDbClient({ kind: 'postgres', url: db.url as string, max: 5 });
      const kv = await createTestKv(kvBackend, prefix);
      clients.push(client);
      kvs.push(kv);
      instances.push(await startTestApp({ overrides: { db: client, kv: kv.store }, graph }));
    }
    [a, b] = instances as [TestApp, TestApp];
    const res = await a.api('POST', '/api/processes', PROCESS);
    expect(res.status, JSON.stringify(await bodyOf(res.clone()))).toBe(201);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    for (const kv of kvs) await kv.destroy();
    for (const client of clients) await client.close();
    await graph?.close();
    await db?.destroy();
  });

  /** A candidate at the first screening question, having talked to both instances. */
  async function atFirstQuestion() {
    const waId = newWaId();
    const onA = candidatePhone(a, graph, waId);
    const onB = candidatePhone(b, graph, waId);
    await onA.say({ type: 'text', body: 'hello' }, (r) => r.length > 0, 'consent request');
    await onB.say({ type: 'button_reply', id: 'consent.accept', title: 'OK' }, (r) => r.length > 0, 'process list');
    onB.skip();
    await onA.say({ type: 'text', body: 'ORD1' }, (r) => r.length > 0, 'name question');
    await onB.say({ type: 'text', body: 'Ana García' }, (r) => r.length > 0, 'email question');
    await onA.say({ type: 'text', body: 'ana@example.com' }, (r) => r.length > 0, 'CV request');
    onA.skip();
    await onB.say({ type: 'text', body: CV }, hasText(/Question q01\?/), 'first question');
    const [candidate] = await db.client.db
      .select()
      .from(candidates)
      .where(eq(candidates.phone, `+${waId}`));
    if (!candidate) throw new Error('no candidate row');
    return { waId, candidate, repliesBefore: graph.sentTo(waId).length };
  }

  /** Waits for one reply per message, then for the outbox to have nothing left for anyone. */
  async function settle(waId: string, expected: number) {
    await until(`${expected} replies`, () => graph.sentTo(waId).length >= expected);
    await until('an empty outbox backlog', async () => {
      const pending = await db.client.db.select({ id: outbox.id }).from(outbox).where(eq(outbox.state, 'pending'));
      return pending.length === 0;
    });
  }

  async function committedTurns(candidateId: string) {
    return db.client.db
      .select({ id: transcriptEntries.id, direction: transcriptEntries.direction, body: transcriptEntries.body })
      .from(transcriptEntries)
      .where(eq(transcriptEntries.candidateId, candidateId))
      .orderBy(asc(transcriptEntries.id));
  }

  async function check(waId: string, candidateId: string, repliesBefore: number, ids: string[], texts: string[]) {
    await settle(waId, repliesBefore + MESSAGES);

    // Every message recorded once, for this candidate.
    const recorded = await db.client.db
      .select({ id: inboundMessages.id, candidateId: inboundMessages.candidateId })
      .from(inboundMessages)
      .where(inArray(inboundMessages.id, ids));
    expect(recorded).toHaveLength(MESSAGES);
    expect(recorded.every((r) => r.candidateId === candidateId)).toBe(true);

    // The transcript is written in commit order (bigserial under the phone's lock): each message's
    // entry is followed by its replies before the next message's, never interleaved, and each reply
    // asks the question after the answers committed before it.
    const all = await committedTurns(candidateId);
    const turns = all.slice(all.findIndex((e) => e.direction === 'in' && texts.includes(e.body)));
    const committedAnswers: string[] = [];
    const asked: (number | 'closing')[] = [];
    for (const e of turns) {
      if (e.direction === 'in') committedAnswers.push(e.body);
      else if (asked.length < committedAnswers.length) asked.push(askedBy(e.body));
      else expect(askedBy(e.body), 'only the closing turn has several replies').toBe('closing');
    }
    expect(asked).toEqual(expectedAsks);
    expect([...committedAnswers].sort()).toEqual([...texts].sort());

    // Answer k is the k-th committed message: none lost, none doubled, none shifted.
    const [app] = await db.client.db.select().from(applications).where(eq(applications.candidateId, candidateId));
    const expected = Object.fromEntries(committedAnswers.map((text, k) => [QUESTIONS[k]!.id, text]));
    expect(app?.answers).toEqual(expected);
    expect(app?.status).not.toBe('in_progress');

    // Each question was sent to the phone exactly once (each instance delivers the replies it
    // committed, so their arrival order at the Graph API across instances is not guaranteed).
    const sent = graph
      .sentTo(waId)
      .slice(repliesBefore)
      .map((m) => askedBy(view(m).text))
      .filter((q) => q !== 'closing');
    expect([...sent].sort((x, y) => x - y)).toEqual(expectedAsks.filter((q) => q !== 'closing'));
    return committedAnswers;
  }

  test(`${MESSAGES} messages posted concurrently to both instances are processed one at a time`, async () => {
    const { waId, candidate, repliesBefore } = await atFirstQuestion();
    const texts = Array.from({ length: MESSAGES }, (_, i) => `answer ${String(i + 1).padStart(2, '0')}`);
    const payloads = texts.map((body) => messagesPayload([{ type: 'text', body }], { waId }));
    const ids = payloads.map(messageIdOf);
    const statuses = await Promise.all(payloads.map((p, i) => (i % 2 ? b : a).postWebhook(p)));
    expect(statuses).toEqual(Array(MESSAGES).fill(200));
    await check(waId, candidate.id, repliesBefore, ids, texts);
  });

  test(`${MESSAGES} messages posted one after another, alternating instances, are answered in the order sent`, async () => {
    const { waId, candidate, repliesBefore } = await atFirstQuestion();
    const texts = Array.from({ length: MESSAGES }, (_, i) => `reply ${String(i + 1).padStart(2, '0')}`);
    const ids: string[] = [];
    for (const [i, body] of texts.entries()) {
      const payload = messagesPayload([{ type: 'text', body }], { waId });
      ids.push(messageIdOf(payload));
      expect(await (i % 2 ? b : a).postWebhook(payload)).toBe(200);
    }
    const committed = await check(waId, candidate.id, repliesBefore, ids, texts);
    expect(committed).toEqual(texts);
  });
});

function messageIdOf(payload: unknown): string {
  const p = payload as { entry: { changes: { value: { messages: { id: string }[] } }[] }[] };
  return p.entry[0]!.changes[0]!.value.messages[0]!.id;
}
