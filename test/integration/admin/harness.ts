import { eq } from 'drizzle-orm';
import { applications, candidates } from '../../../src/db/schema.ts';
import { buildCvPdf } from '../../fakes/cv-files.ts';
import type { FakeGraphApi } from '../../fakes/graph-api.ts';
import { newWaId, type TestApp, until } from '../../support/app.ts';
import type { TestDb } from '../../support/db.ts';
import { bodyOf, type JsonBody } from '../../support/http.ts';
import { candidatePhone, hasIds } from '../conversation/candidate.ts';

/** A process body for POST /api/processes; `code` varies per test so processes never collide. */
export function processBody(code: string, extra: Record<string, unknown> = {}) {
  return {
    code,
    title: `Backend developer ${code}`,
    description: 'TypeScript backend',
    requirements: { skills: ['TypeScript', 'PostgreSQL'], minYears: 2, languages: ['English'] },
    questions: [{ id: 'permit', text: 'Do you have a work permit?', type: 'yes_no', knockout: 'no' }],
    thresholds: { shortlist: 60, reject: 20 },
    recruiters: [],
    status: 'open',
    ...extra,
  };
}

export async function createProcess(t: TestApp, body: Record<string, unknown>): Promise<JsonBody> {
  const res = await t.api('POST', '/api/processes', body);
  const json = await bodyOf(res);
  if (res.status !== 201) throw new Error(`process not created: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/**
 * Drives a scripted candidate through a whole application to `code` (one yes/no question) and waits
 * until it is screened; returns the phone and the application row.
 */
export async function apply(
  t: TestApp,
  graph: FakeGraphApi,
  db: TestDb,
  code: string,
  options: {
    waId?: string;
    name?: string;
    email?: string;
    locale?: 'es' | 'en';
    permit?: boolean;
    /** The CV as a PDF (default: the sample CV). */
    cv?: Buffer;
  } = {},
) {
  const locale = options.locale ?? 'es';
  const waId = options.waId ?? newWaId(locale === 'es' ? '34' : '44');
  const c = candidatePhone(t, graph, waId);
  c.skip();
  await c.say({ type: 'text', body: locale === 'es' ? 'hola' : 'hello' }, hasIds('consent.accept'), 'consent');
  await c.say({ type: 'button_reply', id: 'consent.accept', title: 'OK' }, hasIds(code), 'process list');
  await c.say({ type: 'list_reply', id: code, title: code }, (r) => r.length > 0, 'name question');
  await c.say({ type: 'text', body: options.name ?? 'Ana García' }, (r) => r.length > 0, 'email question');
  await c.say({ type: 'text', body: options.email ?? 'ana.garcia@example.com' }, (r) => r.length > 0, 'CV request');
  const mediaId = graph.addMedia(options.cv ?? (await buildCvPdf(2)), 'application/pdf');
  await c.say({ type: 'document', mediaId, filename: 'cv.pdf' }, hasIds('answer.yes', 'answer.no'), 'question');
  const yes = options.permit ?? true;
  await c.say(
    { type: 'button_reply', id: yes ? 'answer.yes' : 'answer.no', title: yes ? 'Yes' : 'No' },
    (r) => r.length > 0,
    'closing',
  );
  const [candidate] = await db.client.db.select().from(candidates).where(eq(candidates.phone, c.phone));
  if (!candidate) throw new Error('no candidate row');
  const application = await until('a screened application', async () => {
    const rows = await db.client.db.select().from(applications).where(eq(applications.candidateId, candidate.id));
    return rows.find((r) => !['in_progress', 'submitted'].includes(r.status));
  });
  return { phone: c, candidate, application };
}
