import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export function createCvMetrics(registry: Registry) {
  const registers = [registry];
  return {
    extractionDuration: new Histogram({
      name: 'cv_extraction_duration_seconds',
      help: 'Time to extract a CV in the isolated worker, by outcome (ok or the refusal reason)',
      labelNames: ['outcome'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    extractionWorkerKills: new Counter({
      name: 'cv_extraction_worker_kills_total',
      help: 'Extraction workers killed or lost, by reason (timeout, memory, crash, oversized_reply)',
      labelNames: ['reason'] as const,
      registers,
    }),
    analysisDuration: new Histogram({
      name: 'cv_analysis_duration_seconds',
      help: 'Time to analyse a CV (cache misses only), by analyzer kind and outcome',
      labelNames: ['analyzer', 'outcome'] as const,
      buckets: [0.005, 0.05, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    analysisFlags: new Counter({
      name: 'cv_analysis_flags_total',
      help: 'CV analyses flagged for the recruiter, by flag kind (prompt_injection, hidden_text)',
      labelNames: ['kind'] as const,
      registers,
    }),
    groundingDropped: new Counter({
      name: 'cv_analysis_grounding_dropped_total',
      help: 'Skills or languages returned by an analyzer and dropped because the CV text does not contain them',
      labelNames: ['field'] as const,
      registers,
    }),
    openaiTokens: new Counter({
      name: 'cv_openai_tokens_total',
      help: 'OpenAI tokens used by CV analysis, by type (prompt, completion)',
      labelNames: ['type'] as const,
      registers,
    }),
    openaiRequestDuration: new Histogram({
      name: 'cv_openai_request_duration_seconds',
      help: 'OpenAI CV analysis call latency including SDK retries, by outcome',
      labelNames: ['outcome'] as const,
      buckets: [0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120],
      registers,
    }),
    openaiBreakerState: new Gauge({
      name: 'cv_openai_breaker_state',
      help: 'Circuit breaker around OpenAI: 0 closed, 1 half-open, 2 open',
      registers,
    }),
  };
}
export type CvMetrics = ReturnType<typeof createCvMetrics>;
