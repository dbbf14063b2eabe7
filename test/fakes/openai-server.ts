import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An OpenAI-compatible HTTP server on 127.0.0.1 for tests: the real `openai` SDK talks to it through its
 * baseURL. It answers `POST /v1/chat/completions` (structured output: the JSON is the message content) and
 * `POST /v1/responses` (the JSON is the output text), with whatever `respond` returns for the request;
 * scripted faults (status codes, delays) are queued with `enqueue` and used first, one per request.
 */

export interface FakeRequest {
  path: string;
  body: {
    model?: string;
    messages?: { role: string; content: string }[];
    input?: unknown;
    response_format?: { type: string; json_schema?: { name: string; schema: unknown; strict?: boolean } };
    text?: unknown;
  };
  headers: IncomingMessage['headers'];
}

export interface FakeFault {
  /** HTTP status to answer with (e.g. 429, 500); omit to answer normally after `delayMs`. */
  status?: number;
  /** Waits this long before answering (a timeout when longer than the client's). */
  delayMs?: number;
  headers?: Record<string, string>;
}

export interface FakeOpenAiServer {
  /** Base URL including `/v1`, for `new OpenAI({ baseURL })`. */
  readonly url: string;
  /** Every request received, in order (including the failed ones). */
  readonly requests: FakeRequest[];
  /** Completed chat/responses answers (HTTP 200), i.e. what a real account would be billed for. */
  readonly completions: number;
  enqueue(...faults: FakeFault[]): void;
  /** Replaces the answer builder. */
  respondWith(respond: (request: FakeRequest) => unknown | Promise<unknown>): void;
  close(): Promise<void>;
}

export interface FakeOpenAiOptions {
  /** Builds the structured JSON answer for a request; the default answers an empty CV profile. */
  respond?: (request: FakeRequest) => unknown | Promise<unknown>;
  /** Delay before every normal answer (to let concurrent callers pile up). */
  latencyMs?: number;
  usage?: { prompt: number; completion: number };
}

export const emptyProfileAnswer = {
  summary: null,
  location: null,
  totalYearsExperience: null,
  skills: [],
  roles: [],
  education: [],
  languages: [],
};

/** The user message of a request (chat `messages`, or Responses `input`): where an analyzer puts the CV. */
export function userMessage(request: FakeRequest): string {
  const { messages, input } = request.body;
  if (typeof input === 'string') return input;
  const list = (messages ?? (Array.isArray(input) ? input : [])) as { role?: string; content?: unknown }[];
  return list
    .filter((m) => m.role === 'user' && typeof m.content === 'string')
    .map((m) => m.content as string)
    .join('\n');
}

/** The text between the first XML-like tag pair of the user message (the analyzer's CV wrapper). */
export function taggedCv(request: FakeRequest): string {
  const match = /<([\w-]+)>\n([\s\S]*)\n<\/\1>/.exec(userMessage(request));
  return match?.[2] ?? '';
}

export async function startFakeOpenAi(options: FakeOpenAiOptions = {}): Promise<FakeOpenAiServer> {
  let respond = options.respond ?? (() => emptyProfileAnswer);
  const usage = options.usage ?? { prompt: 420, completion: 180 };
  const faults: FakeFault[] = [];
  const requests: FakeRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let completions = 0;
  let counter = 0;

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = (req.url ?? '').split('?')[0] ?? '';
    let body: FakeRequest['body'] = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
    } catch {
      return sendJson(res, 400, { error: { message: 'invalid JSON', type: 'invalid_request_error' } });
    }
    const request: FakeRequest = { path, body, headers: req.headers };
    requests.push(request);

    const fault = faults.shift();
    if (fault?.delayMs) await wait(fault.delayMs);
    if (fault?.status) {
      return sendJson(
        res,
        fault.status,
        { error: { message: `fake error ${fault.status}`, type: 'fake_error', code: null } },
        fault.headers,
      );
    }
    if (options.latencyMs) await wait(options.latencyMs);
    if (res.destroyed) return;

    const id = `fake-${++counter}`;
    const created = Math.floor(Date.now() / 1000);
    const content = JSON.stringify(await respond(request));
    if (path.endsWith('/chat/completions')) {
      completions++;
      return sendJson(res, 200, {
        id: `chatcmpl-${id}`,
        object: 'chat.completion',
        created,
        model: body.model ?? 'fake',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content, refusal: null },
            finish_reason: 'stop',
            logprobs: null,
          },
        ],
        usage: {
          prompt_tokens: usage.prompt,
          completion_tokens: usage.completion,
          total_tokens: usage.prompt + usage.completion,
        },
      });
    }
    if (path.endsWith('/responses')) {
      completions++;
      return sendJson(res, 200, {
        id: `resp-${id}`,
        object: 'response',
        created_at: created,
        status: 'completed',
        model: body.model ?? 'fake',
        output: [
          {
            type: 'message',
            id: `msg-${id}`,
            status: 'completed',
            role: 'assistant',
            content: [{ type: 'output_text', text: content, annotations: [] }],
          },
        ],
        usage: {
          input_tokens: usage.prompt,
          output_tokens: usage.completion,
          total_tokens: usage.prompt + usage.completion,
        },
      });
    }
    return sendJson(res, 404, { error: { message: `no route ${path}`, type: 'invalid_request_error' } });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => sendJson(res, 500, { error: { message: 'fake server failure' } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    get completions() {
      return completions;
    },
    enqueue: (...more) => faults.push(...more),
    respondWith(next) {
      respond = next;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
