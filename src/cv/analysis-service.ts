import type { Requirements } from '../db/schema.ts';
import type { Logger } from '../logger.ts';
import { AnalysisUnavailableError } from './errors.ts';
import { addRequiredSkills, groundProfile } from './grounding.ts';
import { screenCvText } from './injection.ts';
import type { CvMetrics } from './metrics.ts';
import { normalizeCvText, sha256Hex } from './normalize.ts';

export { hashCvText } from './normalize.ts';

import { ANALYSIS_VERSION, type AnalysisFlag, type CvAnalyzer, type CvProfile } from './profile.ts';

/** The part of CacheService the analysis needs (a CacheService with prefix `analysis` satisfies it). */
export interface AnalysisCache {
  getOrSet<T>(key: string, factory: () => Promise<T>, options?: { ttlSeconds?: number }): Promise<T>;
}

export interface CvAnalysisServiceDeps {
  analyzer: CvAnalyzer;
  cache: AnalysisCache;
  logger: Logger;
  metrics?: CvMetrics;
  /** CV_ANALYSIS_TTL_SECONDS; the cache's own default TTL when undefined. */
  ttlSeconds?: number;
  now?: () => Date;
}

export interface CvAnalysis {
  /** sha256 of the normalized CV text: the CV's identity (store it as applications.cv_hash). */
  cvHash: string;
  profile: CvProfile;
  /** For the recruiter: attempts to steer the model, text hidden from a reader. */
  flags: AnalysisFlag[];
  analyzer: { kind: string; model: string; version: string };
}

export interface CvAnalysisService {
  /**
   * Analyses a CV for one process. `hiddenText` is what the extractor found but a reader cannot see.
   * Rejects with AnalysisUnavailableError when the analyzer cannot answer now (leave the application pending).
   */
  analyze(text: string, requirements: Requirements, options?: { hiddenText?: string[] }): Promise<CvAnalysis>;
  /** The cache key a text is analysed under, relative to the cache's prefix. */
  cacheKey(text: string, requirements: Requirements): string;
  /** The start of every cache key of one CV (for erasure: delete `analysis:` + this prefix). */
  cacheKeyPrefix(cvHash: string): string;
}

/**
 * CV text -> grounded profile + flags, cached by content: the same CV, from any candidate, for any process,
 * on any instance, is analysed once per analyzer/model/version. The per-process part (required skills the
 * CV mentions) is added after the cache, so it never splits it.
 */
export function createCvAnalysisService(deps: CvAnalysisServiceDeps): CvAnalysisService {
  const { analyzer, cache, logger, metrics } = deps;
  const now = deps.now ?? (() => new Date());

  // The CV's hash first, so that erasing a candidate can delete every analysis of their CV by prefix.
  function keyFor(cvHash: string, requirements: Requirements): string {
    const parts = [cvHash, analyzer.kind, analyzer.model, ANALYSIS_VERSION];
    if (analyzer.usesHints) parts.push(sha256Hex(JSON.stringify(hintsOf(requirements).skills)).slice(0, 16));
    return parts.join(':');
  }

  async function analyzeUncached(clean: string, requirements: Requirements, cvHash: string): Promise<CvProfile> {
    const started = performance.now();
    let outcome = 'ok';
    try {
      const raw = await analyzer.analyze(clean, hintsOf(requirements));
      const { profile, dropped } = groundProfile(raw, clean, now());
      if (dropped.skills.length) metrics?.groundingDropped.inc({ field: 'skills' }, dropped.skills.length);
      if (dropped.languages.length) metrics?.groundingDropped.inc({ field: 'languages' }, dropped.languages.length);
      logger.info(
        {
          cvHash: cvHash.slice(0, 12),
          analyzer: analyzer.kind,
          skills: profile.skills.length,
          dropped: dropped.skills.length,
        },
        'cv analysed',
      );
      return profile;
    } catch (err) {
      const error =
        err instanceof AnalysisUnavailableError
          ? err
          : new AnalysisUnavailableError('upstream', 'CV analyzer failed', { cause: err });
      outcome = error.reason;
      throw error;
    } finally {
      metrics?.analysisDuration.observe({ analyzer: analyzer.kind, outcome }, (performance.now() - started) / 1000);
    }
  }

  return {
    cacheKey(text, requirements) {
      return keyFor(sha256Hex(normalizeCvText(text)), requirements);
    },
    cacheKeyPrefix: (cvHash) => `${cvHash}:`,
    async analyze(text, requirements, options = {}) {
      const normalized = normalizeCvText(text);
      const cvHash = sha256Hex(normalized);
      const { clean, flags } = screenCvText(normalized, options.hiddenText);
      for (const flag of flags) metrics?.analysisFlags.inc({ kind: flag.kind });
      if (flags.length) logger.warn({ cvHash: cvHash.slice(0, 12), flags: flags.map((f) => f.kind) }, 'cv flagged');
      const cached = await cache.getOrSet(
        keyFor(cvHash, requirements),
        () => analyzeUncached(clean, requirements, cvHash),
        deps.ttlSeconds === undefined ? undefined : { ttlSeconds: deps.ttlSeconds },
      );
      return {
        cvHash,
        profile: addRequiredSkills(cached, clean, requirements.skills),
        flags,
        analyzer: { kind: analyzer.kind, model: analyzer.model, version: ANALYSIS_VERSION },
      };
    },
  };
}

function hintsOf(requirements: Requirements): { skills: string[] } {
  return { skills: [...new Set(requirements.skills.map((s) => s.trim()).filter(Boolean))].sort() };
}
