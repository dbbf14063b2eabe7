import { z } from 'zod';

/**
 * Bumped whenever the prompt, the schema or the grounding rules change: it is part of the analysis cache
 * key, so old cached profiles are simply never read again.
 */
export const ANALYSIS_VERSION = 'cv-profile-v1';

/** What the model must return (OpenAI strict structured output: every field present, unknown is null). */
export const cvExtractionSchema = z.object({
  summary: z.string().nullable().describe('Two sentences at most, only facts stated in the CV; null if none'),
  location: z.string().nullable().describe('City/region/country as written in the CV; null if not stated'),
  totalYearsExperience: z
    .number()
    .nullable()
    .describe('Total years of professional experience if stated or computable from role dates; else null'),
  skills: z
    .array(
      z.object({
        name: z.string().describe('The skill exactly as written in the CV'),
        evidence: z.array(z.string()).describe('1-3 short quotes copied verbatim from the CV'),
      }),
    )
    .describe('Skills, tools and technologies the CV names'),
  roles: z.array(
    z.object({
      title: z.string(),
      organization: z.string().nullable(),
      start: z.string().nullable().describe('YYYY-MM or YYYY; null if not stated'),
      end: z.string().nullable().describe('YYYY-MM or YYYY; null if current or not stated'),
      current: z.boolean(),
    }),
  ),
  education: z.array(
    z.object({
      degree: z.string(),
      institution: z.string().nullable(),
      year: z.number().nullable(),
    }),
  ),
  languages: z.array(
    z.object({
      name: z.string().describe('Language name in English, e.g. English, Spanish'),
      level: z.string().nullable().describe('Level as written in the CV (e.g. C1, native); null if not stated'),
    }),
  ),
});
export type CvExtraction = z.infer<typeof cvExtractionSchema>;

export interface CvSkill {
  name: string;
  evidence: string[];
}

/** A structured CV profile: what the analyzer extracted, after grounding against the CV text. */
export interface CvProfile extends CvExtraction {
  /** Email addresses found in the text (deterministic, never from a model). */
  emails: string[];
}

export function emptyProfile(): CvProfile {
  return {
    summary: null,
    location: null,
    totalYearsExperience: null,
    skills: [],
    roles: [],
    education: [],
    languages: [],
    emails: [],
  };
}

/** Turns a CV into a profile. `kind` and `model` are part of the analysis cache key. */
export interface CvAnalyzer {
  readonly kind: string;
  readonly model: string;
  /**
   * True when the result depends on `hints` (then the hints are part of the cache key). An analyzer that
   * costs money must not depend on them, so that one CV is analysed once whatever process it is sent to.
   */
  readonly usesHints?: boolean;
  analyze(text: string, hints: { skills: string[] }): Promise<CvProfile>;
}

export type AnalysisFlagKind = 'prompt_injection' | 'hidden_text';

/** Something in the CV the recruiter should see: an attempt to steer the model, or text a reader cannot see. */
export interface AnalysisFlag {
  kind: AnalysisFlagKind;
  /** A short excerpt of the offending text (stored with the application, never logged). */
  excerpt: string;
}
