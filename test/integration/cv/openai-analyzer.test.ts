import OpenAI from 'openai';
import { zodTextFormat } from 'openai/helpers/zod';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { createOfflineAnalyzer } from '../../../src/cv/analyzer-offline.ts';
import { createOpenAiAnalyzer, type OpenAiAnalyzerOptions } from '../../../src/cv/analyzer-openai.ts';
import { AnalysisUnavailableError } from '../../../src/cv/errors.ts';
import { createCvMetrics } from '../../../src/cv/metrics.ts';
import { normalizeCvText } from '../../../src/cv/normalize.ts';
import { cvExtractionSchema } from '../../../src/cv/profile.ts';
import { createLogger } from '../../../src/logger.ts';
import { sampleCvText } from '../../fakes/cv-files.ts';
import { type FakeOpenAiServer, type FakeRequest, startFakeOpenAi, taggedCv } from '../../fakes/openai-server.ts';

const logger = createLogger({ level: 'silent' });
const cv = normalizeCvText(sampleCvText);

/** The fake "model": the offline heuristics on the CV it was sent, plus one skill the CV never mentions. */
async function fakeModel(request: FakeRequest) {
  const { emails: _emails, ...profile } = await createOfflineAnalyzer({ now: () => new Date('2025-06-15') }).analyze(
    taggedCv(request),
    { skills: [] },
  );
  return { ...profile, skills: [...profile.skills, { name: 'Haskell', evidence: ['Haskell at scale'] }] };
}

const rejection = async (promise: Promise<unknown>) => {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AnalysisUnavailableError);
  return err as AnalysisUnavailableError;
};

describe('OpenAI analyzer against an OpenAI-compatible server', () => {
  let server: FakeOpenAiServer;
  const analyzers: { close(): void }[] = [];

  beforeAll(async () => {
    server = await startFakeOpenAi({ respond: fakeModel });
  });
  afterAll(() => server.close());
  afterEach(() => {
    for (const a of analyzers.splice(0)) a.close();
    server.requests.length = 0;
  });

  function create(overrides: Partial<OpenAiAnalyzerOptions> = {}) {
    const registry = new Registry();
    const analyzer = createOpenAiAnalyzer({
      apiKey: 'sk-test',
      baseURL: server.url,
      model: 'gpt-test',
      timeoutMs: 5_000,
      logger,
      metrics: createCvMetrics(registry),
      breaker: { volumeThreshold: 1, resetTimeoutMs: 300 },
      ...overrides,
    });
    analyzers.push(analyzer);
    return { analyzer, registry };
  }

  test('sends the CV as labelled untrusted data and parses the structured output', async () => {
    const { analyzer, registry } = create();
    const profile = await analyzer.analyze(cv, { skills: ['Ignored'] });

    expect(profile.skills.map((s) => s.name)).toContain('Kubernetes');
    expect(profile.roles[0]).toEqual({
      title: 'Senior Backend Engineer',
      organization: 'Acme Payments',
      start: '2019-03',
      end: null,
      current: true,
    });
    expect(profile.languages).toContainEqual({ name: 'Spanish', level: 'native' });

    const [request] = server.requests;
    expect(request?.path).toBe('/v1/chat/completions');
    expect(request?.body.model).toBe('gpt-test');
    expect(request?.body.response_format).toMatchObject({
      type: 'json_schema',
      json_schema: { name: 'cv_profile', strict: true },
    });
    const system = request?.body.messages?.find((m) => m.role === 'system')?.content ?? '';
    expect(system).toMatch(/untrusted data/);
    expect(system).toMatch(/Never infer/);
    expect(taggedCv(request!)).toBe(cv);
    // The process's skills are not sent: one CV, one analysis, whatever the process.
    expect(JSON.stringify(request?.body)).not.toContain('Ignored');

    const tokens = await registry.getSingleMetric('cv_openai_tokens_total')?.get();
    expect(tokens?.values.map((v) => [v.labels.type, v.value])).toEqual([
      ['prompt', 420],
      ['completion', 180],
    ]);
  });

  test('a 429 is retried with backoff and then succeeds', async () => {
    const { analyzer } = create();
    server.enqueue({ status: 429, headers: { 'retry-after-ms': '10' } });
    const profile = await analyzer.analyze(cv, { skills: [] });
    expect(profile.skills.length).toBeGreaterThan(0);
    expect(server.requests).toHaveLength(2);
  });

  test('5xx beyond the retries rejects as upstream, retryable', async () => {
    const { analyzer } = create({ maxRetries: 1, breaker: { volumeThreshold: 5 } });
    server.enqueue(
      { status: 503, headers: { 'retry-after-ms': '1' } },
      { status: 500, headers: { 'retry-after-ms': '1' } },
    );
    const err = await rejection(analyzer.analyze(cv, { skills: [] }));
    expect(err).toMatchObject({ reason: 'upstream', retryable: true, code: 'dependency_unavailable' });
    expect(server.requests).toHaveLength(2);
  });

  test('a timeout opens the breaker: calls fail fast without reaching OpenAI, then recover', async () => {
    const { analyzer, registry } = create({ timeoutMs: 150, maxRetries: 0 });
    server.enqueue({ delayMs: 3_000 });
    expect(await rejection(analyzer.analyze(cv, { skills: [] }))).toMatchObject({ reason: 'timeout' });
    expect(analyzer.state()).toBe('open');
    expect((await registry.getSingleMetric('cv_openai_breaker_state')?.get())?.values[0]?.value).toBe(2);

    expect(await rejection(analyzer.analyze(cv, { skills: [] }))).toMatchObject({
      reason: 'circuit_open',
      retryable: true,
    });
    expect(server.requests).toHaveLength(1);

    await waitFor(() => analyzer.state() !== 'open');
    expect((await analyzer.analyze(cv, { skills: [] })).skills.length).toBeGreaterThan(0);
    expect(analyzer.state()).toBe('closed');
  });

  test('the fake also answers the Responses API for the real SDK', async () => {
    const client = new OpenAI({ apiKey: 'sk-test', baseURL: server.url, maxRetries: 0 });
    const response = await client.responses.parse({
      model: 'gpt-test',
      input: [{ role: 'user', content: `<cv>\n${cv}\n</cv>` }],
      text: { format: zodTextFormat(cvExtractionSchema, 'cv_profile') },
    });
    expect(response.output_parsed?.skills.map((s) => s.name)).toContain('TypeScript');
    expect(server.requests[0]?.path).toBe('/v1/responses');
  });

  test('an answer that fails the schema is not retryable and does not open the breaker', async () => {
    const { analyzer } = create();
    server.respondWith(() => ({ skills: 'not a list' }));
    try {
      expect(await rejection(analyzer.analyze(cv, { skills: [] }))).toMatchObject({
        reason: 'invalid_output',
        retryable: false,
      });
      expect(analyzer.state()).toBe('closed');
    } finally {
      server.respondWith(fakeModel);
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5_000) {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
