import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake WhatsApp Graph API on 127.0.0.1: records sent messages, can be told to fail the next N calls,
 * and serves media by id (`GET /{media-id}`) then by download URL, both behind the bearer token.
 * `url` includes a version segment like the real one (`http://127.0.0.1:PORT/v21.0`).
 */
export interface SentMessage {
  /** The Graph API message id we answered with. */
  id: string;
  phoneNumberId: string;
  to: string;
  type: string;
  body: Record<string, unknown>;
  at: number;
}

export type Failure =
  | { kind: 'status'; status: number; metaCode?: number; retryAfter?: string }
  /** Drops the connection without an answer (a network error for the client). */
  | { kind: 'drop' };

export const failures = {
  serverError: (): Failure => ({ kind: 'status', status: 503 }),
  http429: (retryAfter?: string): Failure => ({ kind: 'status', status: 429, ...(retryAfter ? { retryAfter } : {}) }),
  /** Meta's throughput rate limit: HTTP 400 with error code 130429. */
  rateLimit: (): Failure => ({ kind: 'status', status: 400, metaCode: 130429 }),
  /** Pair rate limit (too many messages to one user). */
  pairRateLimit: (): Failure => ({ kind: 'status', status: 400, metaCode: 131056 }),
  /** A permanent failure: message undeliverable. */
  undeliverable: (): Failure => ({ kind: 'status', status: 400, metaCode: 131026 }),
  drop: (): Failure => ({ kind: 'drop' }),
};

interface StoredMedia {
  data: Buffer;
  mimeType: string;
  /** What GET /{media-id} claims; defaults to the real size (tests may lie to exercise the streaming cap). */
  declaredSize: number;
}

export interface FakeGraphApi {
  /** Base URL to use as WHATSAPP_GRAPH_URL. */
  url: string;
  accessToken: string;
  sent: SentMessage[];
  /** Every request seen, in order (method, path, whether its bearer token was right). */
  requests: { method: string; path: string; authorized: boolean }[];
  /** The next calls (any endpoint, in order) fail like this. */
  failNext(...failures: Failure[]): void;
  addMedia(data: Buffer, mimeType: string, options?: { declaredSize?: number }): string;
  /** Resolves once at least `count` messages were sent (or rejects after `timeoutMs`). */
  waitForSent(count: number, timeoutMs?: number): Promise<SentMessage[]>;
  /** Messages sent to one recipient (digits, with or without +). */
  sentTo(phone: string): SentMessage[];
  reset(): void;
  close(): Promise<void>;
}

export async function startFakeGraphApi(
  options: { accessToken?: string; version?: string } = {},
): Promise<FakeGraphApi> {
  const accessToken = options.accessToken ?? `fake-token-${randomBytes(6).toString('hex')}`;
  const version = options.version ?? 'v21.0';
  const sent: SentMessage[] = [];
  const requests: FakeGraphApi['requests'] = [];
  const queued: Failure[] = [];
  const media = new Map<string, StoredMedia>();
  const waiters = new Set<() => void>();
  let counter = 0;
  let base = '';

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname.replace(new RegExp(`^/${version.replace('.', '\\.')}`), '');
    const authorized = req.headers.authorization === `Bearer ${accessToken}`;
    requests.push({ method: req.method ?? 'GET', path, authorized });
    const body = await readBody(req);

    const failure = queued.shift();
    if (failure?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (failure) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (failure.retryAfter) headers['retry-after'] = failure.retryAfter;
      res.writeHead(failure.status, headers).end(
        JSON.stringify({
          error: {
            message: `(#${failure.metaCode ?? failure.status}) simulated failure`,
            type: 'OAuthException',
            code: failure.metaCode ?? failure.status,
            error_data: { messaging_product: 'whatsapp', details: 'simulated by the fake Graph API' },
            fbtrace_id: 'Afake',
          },
        }),
      );
      return;
    }
    if (!authorized) {
      json(res, 401, {
        error: { message: 'Invalid OAuth access token.', type: 'OAuthException', code: 190, fbtrace_id: 'Afake' },
      });
      return;
    }

    const sendMatch = /^\/([^/]+)\/messages$/.exec(path);
    if (req.method === 'POST' && sendMatch) {
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        json(res, 400, { error: { message: 'Invalid JSON', code: 100 } });
        return;
      }
      if (parsed.messaging_product !== 'whatsapp' || typeof parsed.to !== 'string' || typeof parsed.type !== 'string') {
        json(res, 400, { error: { message: '(#100) Invalid parameter', type: 'OAuthException', code: 100 } });
        return;
      }
      const id = `wamid.FAKE${String(++counter).padStart(8, '0')}${randomBytes(4).toString('hex')}`;
      sent.push({
        id,
        phoneNumberId: decodeURIComponent(sendMatch[1] as string),
        to: parsed.to,
        type: parsed.type,
        body: parsed,
        at: Date.now(),
      });
      for (const wake of waiters) wake();
      json(res, 200, {
        messaging_product: 'whatsapp',
        contacts: [{ input: parsed.to, wa_id: String(parsed.to).replace(/^\+/, '') }],
        messages: [{ id, message_status: 'accepted' }],
      });
      return;
    }

    const downloadMatch = /^\/_media\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && downloadMatch) {
      const m = media.get(decodeURIComponent(downloadMatch[1] as string));
      if (!m) return json(res, 404, { error: { message: 'media not found', code: 100 } });
      res.writeHead(200, { 'content-type': m.mimeType });
      // Without content-length, written in chunks: the client must cap while streaming.
      for (let i = 0; i < m.data.length; i += 64 * 1024) {
        if (!res.write(m.data.subarray(i, i + 64 * 1024))) await new Promise((r) => res.once('drain', r));
        if (res.destroyed) return;
      }
      res.end();
      return;
    }

    const mediaMatch = /^\/(\d+)$/.exec(path);
    if (req.method === 'GET' && mediaMatch) {
      const id = mediaMatch[1] as string;
      const m = media.get(id);
      if (!m) return json(res, 404, { error: { message: 'Unsupported get request.', code: 100, error_subcode: 33 } });
      json(res, 200, {
        messaging_product: 'whatsapp',
        url: `${base}/_media/${id}`,
        mime_type: m.mimeType,
        sha256: 'fake',
        file_size: String(m.declaredSize),
        id,
      });
      return;
    }
    json(res, 404, { error: { message: `No fake route for ${req.method} ${path}`, code: 100 } });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}/${version}`;

  return {
    url: base,
    accessToken,
    sent,
    requests,
    failNext: (...f) => {
      queued.push(...f);
    },
    addMedia(data, mimeType, opts = {}) {
      const id = String(1_000_000_000_000 + media.size + 1);
      media.set(id, { data, mimeType, declaredSize: opts.declaredSize ?? data.length });
      return id;
    },
    sentTo: (phone) => sent.filter((s) => s.to.replace(/^\+/, '') === phone.replace(/^\+/, '')),
    waitForSent(count, timeoutMs = 10_000) {
      if (sent.length >= count) return Promise.resolve(sent.slice());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`fake Graph API: ${sent.length} of ${count} messages sent within ${timeoutMs} ms`));
        }, timeoutMs);
        const check = () => {
          if (sent.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(sent.slice());
        };
        waiters.add(check);
      });
    },
    reset() {
      sent.length = 0;
      requests.length = 0;
      queued.length = 0;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** What a sent Graph API message shows the candidate: its text and its button/row ids. */
export function view(m: SentMessage): { text: string; ids: string[] } {
  // biome-ignore lint/suspicious/noExplicitAny: Graph API message bodies are read loosely.
  const body = m.body as Record<string, any>;
  if (body.type === 'text') return { text: body.text.body, ids: [] };
  if (body.type === 'interactive') {
    const i = body.interactive;
    const ids =
      i.type === 'button'
        ? i.action.buttons.map((b: { reply: { id: string } }) => b.reply.id)
        : i.action.sections.flatMap((s: { rows: { id: string }[] }) => s.rows.map((r) => r.id));
    return { text: i.body.text, ids };
  }
  if (body.type === 'template') return { text: JSON.stringify(body.template), ids: [] };
  return { text: '', ids: [] };
}
