import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { outbox } from '../../../src/db/schema.ts';
import { ADMIN_TOKEN, backendPairs, startTestApp, type TestApp } from '../../support/app.ts';
import { createTestDb, type TestDb } from '../../support/db.ts';
import { bodyOf, type JsonBody } from '../../support/http.ts';
import { createTestKv, type TestKv } from '../../support/kv.ts';
import { createProcess, processBody } from './harness.ts';

const UNKNOWN_ID = '0190f0f0-0000-7000-8000-000000000000';

/** Asserts a 400 `validation_failed` whose details name `path`. */
async function expectFieldError(res: Response, path: string) {
  const body = await bodyOf(res);
  expect(res.status, JSON.stringify(body)).toBe(400);
  expect(body.error.code).toBe('validation_failed');
  expect(body.error.details.map((d: { path: string }) => d.path)).toContain(path);
}

async function expectError(res: Response, status: number, code: string): Promise<JsonBody> {
  const body = await bodyOf(res);
  expect(res.status, JSON.stringify(body)).toBe(status);
  expect(body.error.code).toBe(code);
  return body;
}

describe.each(backendPairs)('admin API on %s + %s', (dbBackend, kvBackend) => {
  let db: TestDb;
  let kv: TestKv;
  let t: TestApp;

  beforeAll(async () => {
    db = await createTestDb(dbBackend);
    kv = await createTestKv(kvBackend);
    t = await startTestApp({ overrides: { db: db.client, kv: kv.store } });
  });
  afterAll(async () => {
    await t.close();
    await kv.destroy();
    await db.destroy();
  });

  const raw = (path: string, init: RequestInit = {}) => fetch(`${t.url}${path}`, init);

  describe('auth', () => {
    test('no token, a wrong token and a malformed header are 401; the right token passes', async () => {
      await expectError(await raw('/api/processes'), 401, 'unauthorized');
      await expectError(
        await raw('/api/processes', { headers: { authorization: 'Bearer wrong-token' } }),
        401,
        'unauthorized',
      );
      await expectError(
        await raw('/api/processes', { headers: { authorization: `Bearer ${ADMIN_TOKEN}x` } }),
        401,
        'unauthorized',
      );
      await expectError(await raw('/api/processes', { headers: { authorization: ADMIN_TOKEN } }), 401, 'unauthorized');
      await expectError(
        await raw('/api/processes', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }),
        401,
        'unauthorized',
      );
      expect((await raw('/api/processes', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(200);
    });

    test('without ADMIN_API_TOKEN the API is disabled (503), never open', async () => {
      const off = await startTestApp({ overrides: { db: db.client, kv: kv.store }, env: { ADMIN_API_TOKEN: '' } });
      try {
        for (const [method, path] of [
          ['GET', '/api/processes'],
          ['POST', '/api/processes'],
          ['GET', '/api/events?state=dead'],
          ['DELETE', `/api/candidates/${UNKNOWN_ID}`],
        ] as const) {
          const res = await fetch(`${off.url}${path}`, { method });
          await expectError(res, 503, 'disabled');
          const withToken = await off.api(method, path);
          await expectError(withToken, 503, 'disabled');
        }
      } finally {
        await off.close();
      }
    });

    test('/api/openapi.json is an OpenAPI 3.1 document listing every endpoint', async () => {
      const res = await raw('/api/openapi.json');
      expect(res.status).toBe(200);
      const doc = await bodyOf(res);
      expect(doc.openapi).toMatch(/^3\.1\./);
      expect(doc.info.title).toBeTruthy();
      const operations = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(
        ([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
      );
      expect(operations.sort()).toEqual(
        [
          'POST /api/processes',
          'GET /api/processes',
          'GET /api/processes/{id}',
          'PATCH /api/processes/{id}',
          'GET /api/applications',
          'GET /api/applications/{id}',
          'POST /api/applications/{id}/status',
          'DELETE /api/candidates/{id}',
          'GET /api/events',
          'POST /api/events/{id}/retry',
          'GET /api/cache/stats',
        ].sort(),
      );
      expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
      expect(doc.components.schemas.CreateProcess.required).toEqual(
        expect.arrayContaining(['code', 'title', 'requirements']),
      );
      const create = doc.paths['/api/processes'].post;
      expect(create.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/CreateProcess');
      expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(['201', '400', '401']));
      const decide = doc.paths['/api/applications/{id}/status'].post;
      expect(decide.responses['409']).toBeDefined();
    });
  });

  describe('validation', () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['no code', { code: undefined }, 'code'],
      ['a code with spaces', { code: 'has space' }, 'code'],
      ['a short title', { title: 'ab' }, 'title'],
      ['no requirements', { requirements: undefined }, 'requirements'],
      ['skills not a list', { requirements: { skills: 'TypeScript' } }, 'requirements.skills'],
      ['negative minYears', { requirements: { skills: [], minYears: -1 } }, 'requirements.minYears'],
      ['an unknown question type', { questions: [{ text: 'Why?', type: 'essay' }] }, 'questions.0.type'],
      ['a choice question without options', { questions: [{ text: 'Shift?', type: 'choice' }] }, 'questions.0.options'],
      ['min above max', { questions: [{ text: 'Years?', type: 'number', min: 5, max: 1 }] }, 'questions.0.min'],
      ['reject above shortlist', { thresholds: { shortlist: 50, reject: 60 } }, 'thresholds.reject'],
      ['a threshold above 100', { thresholds: { shortlist: 150, reject: 10 } }, 'thresholds.shortlist'],
      ['a recruiter without a name', { recruiters: [{ phone: '+34600111222' }] }, 'recruiters.0.name'],
      ['a recruiter phone not in E.164', { recruiters: [{ name: 'R', phone: '600111222' }] }, 'recruiters.0.phone'],
      [
        'a recruiter webhook that is not http(s)',
        { recruiters: [{ name: 'R', webhookUrl: 'ftp://example.com/hook' }] },
        'recruiters.0.webhookUrl',
      ],
      ['an unknown notifyOn status', { notifyOn: ['promoted'] }, 'notifyOn.0'],
      ['an unknown status', { status: 'archived' }, 'status'],
    ];
    test.each(cases)('POST /api/processes with %s is 400 naming the field', async (_name, patch, path) => {
      await expectFieldError(await t.api('POST', '/api/processes', processBody('VALID1', patch)), path);
    });

    test('a body that is not JSON is 400 bad_request; a body that is not an object is 400', async () => {
      const res = await raw('/api/processes', {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: '{"code": ',
      });
      await expectError(res, 400, 'bad_request');
      await expectError(await t.api('POST', '/api/processes', ['x']), 400, 'validation_failed');
    });

    test('a duplicate process code is 409', async () => {
      await createProcess(t, processBody('DUP1', { status: 'draft' }));
      await expectError(await t.api('POST', '/api/processes', processBody('dup1')), 409, 'conflict');
    });

    test('PATCH /api/processes/:id: nothing to update, bad fields, unknown and malformed ids', async () => {
      const p = await createProcess(t, processBody('PATCHV', { status: 'draft' }));
      const empty = await expectError(await t.api('PATCH', `/api/processes/${p.id}`, {}), 400, 'validation_failed');
      expect(empty.error.details[0].message).toMatch(/nothing to update/);
      await expectFieldError(await t.api('PATCH', `/api/processes/${p.id}`, { title: 'x' }), 'title');
      await expectFieldError(await t.api('PATCH', `/api/processes/${p.id}`, { status: 'gone' }), 'status');
      await expectFieldError(
        await t.api('PATCH', `/api/processes/${p.id}`, { thresholds: { shortlist: 10, reject: 90 } }),
        'thresholds.reject',
      );
      await expectError(await t.api('PATCH', `/api/processes/${UNKNOWN_ID}`, { title: 'Another' }), 404, 'not_found');
      await expectError(await t.api('PATCH', '/api/processes/not-an-id', { title: 'Another' }), 404, 'not_found');
    });

    test.each([
      ['/api/processes?status=archived', 'status'],
      ['/api/processes?limit=0', 'limit'],
      ['/api/processes?limit=1000', 'limit'],
      ['/api/processes?limit=ten', 'limit'],
      ['/api/processes?offset=-1', 'offset'],
      ['/api/applications?processId=123', 'processId'],
      ['/api/applications?status=sleeping', 'status'],
      ['/api/applications?sort=name', 'sort'],
      ['/api/applications?limit=1.5', 'limit'],
      ['/api/events?state=lost', 'state'],
      ['/api/events?offset=x', 'offset'],
    ])('GET %s is 400 naming %s', async (path, field) => {
      await expectFieldError(await t.api('GET', path), field);
    });

    test('POST /api/applications/:id/status: bad bodies are 400, unknown and malformed ids 404', async () => {
      for (const [body, field] of [
        [{}, 'status'],
        [{ status: 'withdrawn' }, 'status'],
        [{ status: 'in_progress' }, 'status'],
        [{ status: 'interview', note: 'x'.repeat(1001) }, 'note'],
      ] as const) {
        await expectFieldError(await t.api('POST', `/api/applications/${UNKNOWN_ID}/status`, body), field);
      }
      await expectError(
        await t.api('POST', `/api/applications/${UNKNOWN_ID}/status`, { status: 'interview' }),
        404,
        'not_found',
      );
      await expectError(await t.api('POST', '/api/applications/42/status', { status: 'interview' }), 404, 'not_found');
    });

    test.each([
      ['GET', `/api/processes/${UNKNOWN_ID}`],
      ['GET', '/api/processes/1'],
      ['GET', `/api/applications/${UNKNOWN_ID}`],
      ['GET', '/api/applications/abc'],
      ['DELETE', `/api/candidates/${UNKNOWN_ID}`],
      ['DELETE', '/api/candidates/%27%20or%201=1'],
      ['POST', `/api/events/${UNKNOWN_ID}/retry`],
      ['POST', '/api/events/nope/retry'],
    ])('%s %s is 404', async (method, path) => {
      await expectError(await t.api(method, path), 404, 'not_found');
    });
  });

  describe('processes', () => {
    test('create fills defaults, uppercases the code and gives an unguessable uuid v7 id', async () => {
      const p = await createProcess(t, { ...processBody('new-one'), questions: [{ text: 'Years?', type: 'number' }] });
      expect(p.code).toBe('NEW-ONE');
      expect(p.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(p.questions[0].id).toBe('q1');
      expect(p.thresholds).toEqual({ shortlist: 60, reject: 20 });
      expect(p.notifyOn).toBeNull();
      const got = await bodyOf(await t.api('GET', `/api/processes/${p.id}`));
      expect(got).toMatchObject({ id: p.id, code: 'NEW-ONE', status: 'open' });
    });

    test('list: pagination with limit, offset and total, and the status filter', async () => {
      const codes = ['PAGE1', 'PAGE2', 'PAGE3'];
      for (const code of codes) await createProcess(t, processBody(code, { status: 'draft' }));
      const all = await bodyOf(await t.api('GET', '/api/processes?limit=200'));
      const total = all.total as number;
      expect(all.items).toHaveLength(total);
      const page1 = await bodyOf(await t.api('GET', '/api/processes?limit=2&offset=0'));
      const page2 = await bodyOf(await t.api('GET', `/api/processes?limit=2&offset=${total - 1}`));
      expect(page1).toMatchObject({ total, limit: 2, offset: 0 });
      expect(page1.items).toHaveLength(2);
      expect(page2.items).toHaveLength(1);
      expect(page2.items[0].id).toBe(all.items[total - 1].id);
      expect(page1.items.map((p: JsonBody) => p.id)).toEqual(all.items.slice(0, 2).map((p: JsonBody) => p.id));

      const drafts = await bodyOf(await t.api('GET', '/api/processes?status=draft&limit=200'));
      expect(drafts.items.length).toBeGreaterThanOrEqual(3);
      expect(drafts.items.every((p: JsonBody) => p.status === 'draft')).toBe(true);
      expect(drafts.total).toBe(all.items.filter((p: JsonBody) => p.status === 'draft').length);
    });

    test('open, pause, reopen and close; refused changes are 409 with the allowed ones', async () => {
      const p = await createProcess(t, processBody('LIFE1', { status: 'draft' }));
      const path = `/api/processes/${p.id}`;
      const refused = await expectError(await t.api('PATCH', path, { status: 'paused' }), 409, 'invalid_transition');
      expect(refused.error.details).toEqual({ from: 'draft', allowed: ['open', 'closed'] });
      for (const status of ['open', 'paused', 'open', 'closed']) {
        const res = await t.api('PATCH', path, { status });
        expect((await bodyOf(res)).status, status).toBe(status);
      }
      const closed = await expectError(await t.api('PATCH', path, { status: 'open' }), 409, 'invalid_transition');
      expect(closed.error.details).toEqual({ from: 'closed', allowed: [] });
      // Each change raised process.status_changed, in the same transaction.
      const events = await db.client.db
        .select({ payload: outbox.payload })
        .from(outbox)
        .where(eq(outbox.type, 'process.status_changed'))
        .orderBy(asc(outbox.createdAt), asc(outbox.id));
      const mine = events.map((e) => e.payload as JsonBody).filter((e) => e.processId === p.id);
      expect(mine.map((e) => `${e.from}->${e.to}`)).toEqual([
        'draft->open',
        'open->paused',
        'paused->open',
        'open->closed',
      ]);
    });

    test('a refused change leaves the process, and its events, untouched', async () => {
      const p = await createProcess(t, processBody('LIFE2', { status: 'draft' }));
      await expectError(
        await t.api('PATCH', `/api/processes/${p.id}`, { status: 'paused', title: 'Renamed title' }),
        409,
        'invalid_transition',
      );
      const got = await bodyOf(await t.api('GET', `/api/processes/${p.id}`));
      expect(got).toMatchObject({ title: p.title, status: 'draft' });
      const events = await db.client.db.select().from(outbox).where(eq(outbox.type, 'process.status_changed'));
      expect(events.filter((e) => (e.payload as JsonBody).processId === p.id)).toEqual([]);
    });

    test('cached lists and details are invalidated after commit: a change is visible at once', async () => {
      const p = await createProcess(t, processBody('CACHE1', { status: 'draft' }));
      const detail = `/api/processes/${p.id}`;
      const list = '/api/processes?status=open&limit=200';
      // Prime both caches, twice, so the second read is a cache hit.
      for (let i = 0; i < 2; i++) {
        await t.api('GET', detail);
        await t.api('GET', list);
      }
      const before = await bodyOf(await t.api('GET', '/api/cache/stats'));
      const processesStats = JSON.stringify(before);
      expect(processesStats).toContain('processes');

      await t.api('PATCH', detail, { title: 'Renamed opening', status: 'open' });
      expect(await bodyOf(await t.api('GET', detail))).toMatchObject({ title: 'Renamed opening', status: 'open' });
      const open = await bodyOf(await t.api('GET', list));
      expect(open.items.map((x: JsonBody) => x.id)).toContain(p.id);

      await t.api('PATCH', detail, { status: 'paused' });
      const after = await bodyOf(await t.api('GET', list));
      expect(after.items.map((x: JsonBody) => x.id)).not.toContain(p.id);
      expect((await bodyOf(await t.api('GET', detail))).status).toBe('paused');

      // A new process shows in a cached list at once too.
      await t.api('GET', '/api/processes?limit=200');
      const q = await createProcess(t, processBody('CACHE2', { status: 'draft' }));
      const all = await bodyOf(await t.api('GET', '/api/processes?limit=200'));
      expect(all.items.map((x: JsonBody) => x.id)).toContain(q.id);
    });

    test('GET /api/cache/stats reports the caches', async () => {
      const res = await t.api('GET', '/api/cache/stats');
      expect(res.status).toBe(200);
      expect(JSON.stringify(await bodyOf(res))).toMatch(/processes/);
    });
  });
});
