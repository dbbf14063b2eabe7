import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { applications, candidates, inboundMessages, outbox } from '../../../src/db/schema.ts';
import { buildCvPdf } from '../../fakes/cv-files.ts';
import { type FakeGraphApi, failures } from '../../fakes/graph-api.ts';
import { backendProcess } from '../../fakes/processes.ts';
import { messagesPayload, textPayload } from '../../fakes/whatsapp-payloads.ts';
import {
  type AppFixture,
  backendPairs,
  newWaId,
  settled,
  startAppFixture,
  type TestApp,
  until,
} from '../../support/app.ts';
import type { TestDb } from '../../support/db.ts';
import { bodyOf } from '../../support/http.ts';
import type { TestKv } from '../../support/kv.ts';
import { candidatePhone, hasIds, hasText } from './candidate.ts';

const PROCESS = backendProcess('DEV1');

describe.each(backendPairs)('a candidate applies on %s + %s', (dbBackend, kvBackend) => {
  let f: AppFixture;
  let db: TestDb;
  let kv: TestKv;
  let graph: FakeGraphApi;
  let t: TestApp;

  beforeAll(async () => {
    f = await startAppFixture(dbBackend, kvBackend);
    ({ db, kv, graph, t } = f);
    const res = await t.api('POST', '/api/processes', PROCESS);
    expect(res.status, JSON.stringify(await bodyOf(res.clone()))).toBe(201);
  });
  afterAll(() => f?.close());

  async function applyAll(locale: 'es' | 'en') {
    const waId = newWaId(locale === 'es' ? '34' : '44');
    const c = candidatePhone(t, graph, waId);
    await c.say(
      { type: 'text', body: locale === 'es' ? 'hola' : 'hello' },
      hasIds('consent.accept'),
      'consent request',
    );
    await c.say({ type: 'button_reply', id: 'consent.accept', title: 'OK' }, hasIds('DEV1'), 'process list');
    await c.say({ type: 'list_reply', id: 'DEV1', title: 'Backend developer' }, (r) => r.length > 0, 'name question');
    await c.say({ type: 'text', body: 'Ana García' }, (r) => r.length > 0, 'email question');
    await c.say({ type: 'text', body: 'ana.garcia@example.com' }, (r) => r.length > 0, 'CV request');
    const mediaId = graph.addMedia(await buildCvPdf(2), 'application/pdf');
    await c.say({ type: 'document', mediaId, filename: 'cv.pdf' }, hasIds('answer.yes', 'answer.no'), 'first question');
    await c.say({ type: 'button_reply', id: 'answer.yes', title: 'Yes' }, (r) => r.length > 0, 'number question');
    await c.say({ type: 'text', body: '5' }, hasIds('answer.opt.0'), 'choice question');
    const closing = await c.say(
      { type: 'list_reply', id: 'answer.opt.0', title: 'Remote' },
      (r) => r.length > 0,
      'closing',
    );
    return { c, closing };
  }

  test.each(['es', 'en'] as const)('from the first hello to the closing message with a PDF CV (%s)', async (locale) => {
    const { c, closing } = await applyAll(locale);
    expect(closing.map((m) => m.text).join(' ')).toMatch(
      locale === 'es' ? /gracias|postulación/i : /thank|application/i,
    );
    const [candidate] = await db.client.db.select().from(candidates).where(eq(candidates.phone, c.phone));
    expect(candidate).toMatchObject({ name: 'Ana García', email: 'ana.garcia@example.com', locale });
    const app = await until('screened application', async () => {
      const [row] = await db.client.db.select().from(applications).where(eq(applications.candidateId, candidate!.id));
      return row && !['in_progress', 'submitted'].includes(row.status) ? row : undefined;
    });
    expect(app.cvText).toContain('TypeScript');
    expect(app.analysisState).toBe('done');
    expect(app.score).toBeGreaterThan(0);
    expect(app.answers).toEqual({ permit: true, years: 5, mode: 'Remote' });
  });

  test('the same delivery posted three times has one set of effects', async () => {
    const waId = newWaId('34');
    const payload = textPayload('hola', { waId, name: 'Dup' });
    const statuses = [await t.postWebhook(payload), await t.postWebhook(payload), await t.postWebhook(payload)];
    expect(statuses).toEqual([200, 200, 200]);
    await until('the consent request', () => graph.sentTo(waId).length > 0);
    await settled(db);
    expect(graph.sentTo(waId)).toHaveLength(1);
    const id = (payload.entry as { changes: { value: { messages: { id: string }[] } }[] }[])[0]!.changes[0]!.value
      .messages[0]!.id;
    const rows = await db.client.db.select().from(inboundMessages).where(eq(inboundMessages.id, id));
    expect(rows).toHaveLength(1);
  });

  test('a Graph API that fails twice then succeeds delivers the reply once', async () => {
    const waId = newWaId('34');
    graph.failNext(failures.serverError(), failures.serverError());
    expect(await t.postWebhook(textPayload('hola', { waId }))).toBe(200);
    await until('the reply after two failures', () => graph.sentTo(waId).length > 0);
    await settled(db);
    expect(graph.sentTo(waId)).toHaveLength(1);
  });

  test('a flushed session store: the next message continues from Postgres', async () => {
    const waId = newWaId('34');
    const c = candidatePhone(t, graph, waId);
    await c.say({ type: 'text', body: 'hola' }, hasIds('consent.accept'));
    await c.say({ type: 'button_reply', id: 'consent.accept', title: 'OK' }, hasIds('DEV1'));
    await c.say({ type: 'list_reply', id: 'DEV1', title: 'Backend developer' }, (r) => r.length > 0);
    await c.say({ type: 'text', body: 'Luis Pérez' }, (r) => r.length > 0);
    await kv.store.deletePrefix('sessions:');
    const next = await c.say({ type: 'text', body: 'luis@example.com' }, (r) => r.length > 0);
    expect(next.map((m) => m.text).join(' ')).toMatch(/CV|currículum/i);
    const [candidate] = await db.client.db.select().from(candidates).where(eq(candidates.phone, c.phone));
    expect(candidate?.email).toBe('luis@example.com');
  });

  test('every outbox event of these conversations was delivered', async () => {
    await settled(db);
    const dead = await db.client.db.select().from(outbox).where(eq(outbox.state, 'dead'));
    expect(dead.map((e) => `${e.type}: ${e.lastError}`)).toEqual([]);
  });

  test('the recruiter hears about screened applications', async () => {
    await until('a recruiter notification', () => graph.sentTo('34600000999').length > 0);
    expect(hasText(/DEV1/)(graph.sentTo('34600000999').map((m) => ({ text: JSON.stringify(m.body) })))).toBe(true);
  });

  test('messages of one delivery are handled in order', async () => {
    const waId = newWaId('34');
    const payload = messagesPayload(
      [
        { type: 'text', body: 'hola' },
        { type: 'text', body: 'sí' },
      ],
      { waId },
    );
    expect(await t.postWebhook(payload)).toBe(200);
    await until('consent then the process list', () => graph.sentTo(waId).length >= 2);
    const [candidate] = await db.client.db
      .select()
      .from(candidates)
      .where(eq(candidates.phone, `+${waId}`));
    expect(candidate?.consentAt).toBeInstanceOf(Date);
  });
});
