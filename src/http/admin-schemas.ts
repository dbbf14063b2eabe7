import { z } from 'zod';
import { APPLICATION_STATUSES, RECRUITER_DECISIONS } from '../recruiting/status.ts';

/** Request and response schemas of the admin API: validation and the OpenAPI document come from these. */

const processCode = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{1,23}$/, '2-24 letters, digits, "-" or "_"')
  .transform((s) => s.toUpperCase());

export const QuestionInput = z
  .object({
    id: z
      .string()
      .regex(/^[a-z0-9_-]{1,32}$/)
      .optional(),
    text: z.string().trim().min(3).max(300),
    type: z.enum(['yes_no', 'number', 'text', 'choice']),
    options: z.array(z.string().trim().min(1).max(24)).min(2).max(10).optional(),
    min: z.number().optional(),
    max: z.number().optional(),
    knockout: z.union([z.boolean(), z.string(), z.array(z.string())]).optional(),
  })
  .refine((q) => q.type !== 'choice' || (q.options?.length ?? 0) >= 2, {
    message: 'a choice question needs at least two options',
    path: ['options'],
  })
  .refine((q) => q.min === undefined || q.max === undefined || q.min <= q.max, {
    message: 'min must not exceed max',
    path: ['min'],
  })
  .meta({ id: 'Question' });

const Requirements = z
  .object({
    skills: z.array(z.string().trim().min(1).max(60)).max(50),
    minYears: z.number().min(0).max(60).optional(),
    languages: z.array(z.string().trim().min(2).max(30)).max(10).optional(),
  })
  .meta({ id: 'Requirements' });

const Thresholds = z
  .object({ shortlist: z.number().int().min(0).max(100), reject: z.number().int().min(0).max(100) })
  .refine((t) => t.reject <= t.shortlist, { message: 'reject must not exceed shortlist', path: ['reject'] })
  .meta({ id: 'Thresholds' });

const Recruiter = z
  .object({
    name: z.string().trim().min(1).max(100),
    phone: z
      .string()
      .regex(/^\+[1-9]\d{6,14}$/, 'E.164, e.g. +34600111222')
      .optional(),
    webhookUrl: z.url({ protocol: /^https?$/ }).optional(),
  })
  .meta({ id: 'Recruiter' });

export const PROCESS_STATUSES = ['draft', 'open', 'paused', 'closed'] as const;

export const CreateProcessBody = z
  .object({
    code: processCode,
    title: z.string().trim().min(3).max(120),
    description: z.string().trim().max(2000).default(''),
    requirements: Requirements,
    questions: z.array(QuestionInput).max(20).default([]),
    thresholds: Thresholds.default({ shortlist: 70, reject: 40 }),
    recruiters: z.array(Recruiter).max(20).default([]),
    notifyOn: z.array(z.enum(APPLICATION_STATUSES)).nullable().default(null),
    status: z.enum(PROCESS_STATUSES).default('draft'),
  })
  .meta({ id: 'CreateProcess' });
export type CreateProcessInput = z.infer<typeof CreateProcessBody>;

export const UpdateProcessBody = z
  .object({
    title: z.string().trim().min(3).max(120),
    description: z.string().trim().max(2000),
    requirements: Requirements,
    questions: z.array(QuestionInput).max(20),
    thresholds: Thresholds,
    recruiters: z.array(Recruiter).max(20),
    notifyOn: z.array(z.enum(APPLICATION_STATUSES)).nullable(),
    status: z.enum(PROCESS_STATUSES),
  })
  .partial()
  .refine((b) => Object.keys(b).length > 0, { message: 'nothing to update' })
  .meta({ id: 'UpdateProcess' });
export type UpdateProcessInput = z.infer<typeof UpdateProcessBody>;

const limit = z.coerce.number().int().min(1).max(200).default(50);
const offset = z.coerce.number().int().min(0).default(0);

export const ListProcessesQuery = z.object({ status: z.enum(PROCESS_STATUSES).optional(), limit, offset });

export const ListApplicationsQuery = z.object({
  processId: z.uuid().optional(),
  status: z.enum(APPLICATION_STATUSES).optional(),
  sort: z.enum(['score', 'created']).default('score'),
  limit,
  offset,
});

export const DecisionBody = z
  .object({ status: z.enum(RECRUITER_DECISIONS), note: z.string().trim().max(1000).optional() })
  .meta({ id: 'Decision' });

export const ListEventsQuery = z.object({
  state: z.enum(['dead', 'pending', 'delivered']).default('dead'),
  limit,
  offset,
});

export const IdParams = z.object({ id: z.uuid({ error: 'not a valid id' }) });

export const ErrorResponse = z
  .object({
    error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
  })
  .meta({ id: 'Error' });
