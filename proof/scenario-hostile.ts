import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { messagesPayload } from '../test/fakes/whatsapp-payloads.ts';
import { createProcess, RECRUITER_PHONE } from './candidates.ts';
import { ADMIN_TOKEN, APP_SECRET, type Instance, type PrivatePostgres, startWorld } from './infra.ts';
import { result, type ScenarioResult } from './scenario.ts';

/**
 * 6. Hostile input against one instance: fast-check generates webhook bodies (wrong types, missing fields,
 * huge strings, unicode, deep nesting, bad signatures, not JSON) and malformed admin API requests.
 * Zero 5xx, zero crashes, nothing recorded for rejected requests, and the instances' logs hold no phone
 * number, email or CV text in clear.
 */

const HOSTILE = 'wamid.HOSTILE';
let seq = 0;
const hostileId = () => `${HOSTILE}${++seq}x${Math.random().toString(36).slice(2)}`;
const hostilePhone = () => `49${String(170_000_000 + (seq % 1_000_000)).padStart(9, '0')}`;

interface Request {
  kind: string;
  body: string | Buffer;
  signature?: string;
  contentType?: string;
  /** Message ids the body carries (must not be recorded when the request is rejected). */
  ids: string[];
}

const sign = (raw: string | Buffer, secret = APP_SECRET) =>
  `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;

function validPayload(body: string) {
  const id = hostileId();
  const payload = messagesPayload([{ type: 'text', body }], { waId: hostilePhone(), name: 'Hostile' });
  const msg = (payload.entry as { changes: { value: { messages: { id: string }[] } }[] }[])[0]?.changes[0]?.value
    .messages[0];
  if (msg) msg.id = id;
  return { payload, id };
}

/** Replaces the value at a random path of `obj` with `value` (or deletes it when `value` is undefined). */
function mutate(obj: unknown, pathPick: number[], value: unknown): unknown {
  const root = structuredClone(obj) as Record<string, unknown>;
  let node: Record<string, unknown> = root;
  for (let depth = 0; depth < pathPick.length; depth++) {
    const keys = Object.keys(node);
    if (!keys.length) break;
    const key = keys[(pathPick[depth] as number) % keys.length] as string;
    const child = node[key];
    if (depth === pathPick.length - 1 || child === null || typeof child !== 'object') {
      if (value === undefined) delete node[key];
      else node[key] = value;
      break;
    }
    node = child as Record<string, unknown>;
  }
  return root;
}

const nested = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;

const webhookRequest: fc.Arbitrary<Request> = fc.oneof(
  // A valid body with a bad or missing signature.
  fc
    .record({
      text: fc.string({ maxLength: 50 }),
      sig: fc.oneof(
        fc.constant(undefined),
        fc.constant('sha256='),
        fc.uint8Array({ minLength: 32, maxLength: 32 }).map((h) => `sha256=${Buffer.from(h).toString('hex')}`),
        fc.string({ maxLength: 80 }),
        fc.constant('wrong-secret'),
      ),
    })
    .map(({ text, sig }) => {
      const { payload, id } = validPayload(text);
      const raw = JSON.stringify(payload);
      return {
        kind: 'bad signature',
        body: raw,
        signature: sig === 'wrong-secret' ? sign(raw, 'not-the-secret') : sig,
        ids: [id],
      };
    }),
  // A signed Meta payload with one field replaced by anything (wrong type) or removed.
  fc
    .record({
      path: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
      value: fc.oneof(fc.constant(undefined), fc.jsonValue({ maxDepth: 3 })),
      text: fc.string({ unit: 'binary', maxLength: 200 }),
    })
    .map(({ path, value, text }) => {
      const { payload, id } = validPayload(text);
      const raw = JSON.stringify(mutate(payload, path, value));
      return { kind: 'mutated', body: raw, signature: sign(raw), ids: [id] };
    }),
  // Signed arbitrary JSON.
  fc
    .jsonValue({ maxDepth: 4 })
    .map((v) => JSON.stringify(v) ?? 'null')
    .map((raw) => ({ kind: 'any json', body: raw, signature: sign(raw), ids: [] })),
  // Huge and exotic strings in a message text.
  fc
    .record({
      size: fc.integer({ min: 10_000, max: 1_500_000 }),
      unit: fc.constantFrom('😀', 'ñ', '\u0000', '\u202e', 'a', '\ud800'),
    })
    .map(({ size, unit }) => {
      const { payload, id } = validPayload(unit.repeat(Math.ceil(size / unit.length)));
      const raw = JSON.stringify(payload);
      return { kind: 'huge string', body: raw, signature: sign(raw), ids: [id] };
    }),
  // Deep nesting.
  fc.integer({ min: 100, max: 200_000 }).map((depth) => {
    const raw = `{"object":"whatsapp_business_account","entry":${nested(depth)}}`;
    return { kind: 'deep nesting', body: raw, signature: sign(raw), ids: [] };
  }),
  // Not JSON at all (signed), or a wrong content type.
  fc
    .record({
      bytes: fc.uint8Array({ maxLength: 2_000 }),
      type: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', ''),
    })
    .map(({ bytes, type }) => {
      const raw = Buffer.from(bytes);
      return { kind: 'not json', body: raw, signature: sign(raw), contentType: type, ids: [] };
    }),
);

interface AdminRequest {
  method: string;
  path: string;
  auth?: string;
  body?: string;
}

const adminRequest: fc.Arbitrary<AdminRequest> = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PATCH', 'PUT', 'DELETE'),
  path: fc.oneof(
    fc.constantFrom('/api/processes', '/api/applications', '/api/events', '/api/cache/stats', '/api/whatsapp/qr'),
    fc
      .tuple(
        fc.constantFrom('/api/processes/', '/api/applications/', '/api/candidates/', '/api/events/'),
        fc.oneof(fc.uuid(), fc.string({ maxLength: 40 }).map(encodeURIComponent), fc.constant('%E0%A4%A')),
        fc.constantFrom('', '/status', '/retry'),
      )
      .map(([a, b, c]) => `${a}${b}${c}`),
    fc
      .tuple(
        fc.constantFrom('/api/applications', '/api/processes', '/api/events'),
        fc.dictionary(
          fc.constantFrom('status', 'limit', 'cursor', 'process', 'minScore', 'state'),
          fc.string({ maxLength: 20 }),
        ),
      )
      .map(([p, q]) => `${p}?${new URLSearchParams(q)}`),
  ),
  auth: fc.oneof(fc.constant(`Bearer ${ADMIN_TOKEN}`), fc.constant(undefined), fc.string({ maxLength: 30 })),
  body: fc.oneof(
    fc.constant(undefined),
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null'),
    fc.string({ maxLength: 200 }),
  ),
});

async function send(instance: Instance, r: Request): Promise<number> {
  const headers: Record<string, string> = {};
  if (r.contentType !== '') headers['content-type'] = r.contentType ?? 'application/json';
  if (r.signature !== undefined) headers['x-hub-signature-256'] = r.signature;
  try {
    const res = await fetch(`${instance.url}/webhooks/whatsapp`, {
      method: 'POST',
      headers,
      body: r.body,
      signal: AbortSignal.timeout(30_000),
    });
    await res.body?.cancel();
    return res.status;
  } catch {
    return 0;
  }
}

async function sendAdmin(instance: Instance, r: AdminRequest): Promise<number> {
  const headers: Record<string, string> = {};
  if (r.auth !== undefined) headers.authorization = r.auth;
  if (r.body !== undefined) headers['content-type'] = 'application/json';
  try {
    const res = await fetch(`${instance.url}${r.path}`, {
      method: r.method,
      headers,
      body: r.method === 'GET' ? undefined : r.body,
      signal: AbortSignal.timeout(30_000),
    });
    await res.body?.cancel();
    return res.status;
  } catch {
    return 0;
  }
}

async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

/** Phones, emails and CV lines that must never appear in a log line. */
export function findSecretsInLogs(lines: string[], secrets: string[]): string[] {
  const found: string[] = [];
  for (const line of lines) {
    for (const s of secrets) if (line.includes(s)) found.push(`${s} in: ${line.slice(0, 160)}`);
    const email = /[\w.+-]+@[\w-]+\.[\w.]+/.exec(line);
    if (email && !/@(sentry|example\.invalid)/.test(email[0])) found.push(`email ${email[0]}`);
  }
  return found;
}

export async function scenarioHostile(
  pg: PrivatePostgres,
  o: { bodies: number; adminRequests: number; secrets: () => string[] },
): Promise<ScenarioResult> {
  const started = performance.now();
  const world = await startWorld(pg, { instances: 1 });
  try {
    const instance = world.instances[0] as Instance;
    await createProcess(instance);
    const statuses: Record<string, Record<number, number>> = {};
    const rejectedIds: string[] = [];
    const count = (kind: string, status: number) => {
      const k = statuses[kind] ?? {};
      k[status] = (k[status] ?? 0) + 1;
      statuses[kind] = k;
    };

    // Generated in batches: 10,000 bodies with megabyte strings do not fit in memory at once.
    let sentBodies = 0;
    for (let batch = 0; sentBodies < o.bodies; batch++) {
      const bodies = fc.sample(webhookRequest, { numRuns: Math.min(250, o.bodies - sentBodies), seed: 9 + batch });
      sentBodies += bodies.length;
      await pool(bodies, 8, async (r) => {
        const status = await send(instance, r);
        count(r.kind, status);
        if (status !== 200) rejectedIds.push(...r.ids);
      });
    }

    const [before] = await world.sql<{ n: number }[]>`select count(*)::int as n from processes`;
    let created = 0;
    const admin = fc.sample(adminRequest, { numRuns: o.adminRequests, seed: 9 });
    await pool(admin, 8, async (r) => {
      const status = await sendAdmin(instance, r);
      count(`admin ${r.method}`, status);
      if (status === 201 && r.method === 'POST' && r.path === '/api/processes') created++;
    });
    const [after] = await world.sql<{ n: number }[]>`select count(*)::int as n from processes`;

    const recorded = await world.sql<{ id: string }[]>`
      select id from inbound_messages where id = any(${rejectedIds})`;
    const serverErrors = Object.entries(statuses).flatMap(([kind, by]) =>
      Object.entries(by)
        .filter(([s]) => Number(s) >= 500 || s === '0')
        .map(([s, n]) => `${kind} → ${s === '0' ? 'no answer' : s} ×${n}`),
    );
    const crashed = instance.exits.map((e) => `instance exited (${e.code ?? e.signal})`);
    const leaks = findSecretsInLogs(instance.log, [...o.secrets(), RECRUITER_PHONE.slice(1)]);

    const found = [
      ...serverErrors,
      ...crashed,
      ...(recorded.length ? [`${recorded.length} rejected messages were recorded`] : []),
      ...(after && before && after.n - before.n !== created
        ? [`processes grew by ${after.n - before.n}, ${created} created`]
        : []),
    ];
    const figures: Record<string, number | string> = {
      'webhook bodies': sentBodies,
      'admin requests': admin.length,
      'rejected with ids': rejectedIds.length,
      'rejected recorded': recorded.length,
      '5xx or no answer': serverErrors.length,
    };
    for (const [kind, by] of Object.entries(statuses))
      figures[kind] = Object.entries(by)
        .map(([s, n]) => `${s}:${n}`)
        .join(' ');
    return result('6 hostile input', started, figures, found, leaks.slice(0, 10));
  } finally {
    await world.close();
  }
}
