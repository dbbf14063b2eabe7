import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import {
  CreateProcessBody,
  DecisionBody,
  ErrorResponse,
  IdParams,
  ListApplicationsQuery,
  ListEventsQuery,
  ListProcessesQuery,
  UpdateProcessBody,
} from './admin-schemas.ts';

const json = (schema: z.ZodType, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
const anyObject = z.record(z.string(), z.unknown());
const errors = {
  400: json(ErrorResponse, 'Invalid request (field errors in details)'),
  401: json(ErrorResponse, 'Missing or wrong bearer token'),
  404: json(ErrorResponse, 'Unknown id'),
};

/** The admin API's OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
export function buildOpenApiDocument(): object {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  const security = [{ bearer: [] }];
  const path = (
    method: 'get' | 'post' | 'patch' | 'delete',
    route: string,
    summary: string,
    request: Record<string, unknown>,
    ok: ReturnType<typeof json>,
    extra: Record<number, ReturnType<typeof json>> = {},
  ) =>
    registry.registerPath({
      method,
      path: route,
      summary,
      security,
      request,
      responses: { [method === 'post' && route === '/api/processes' ? 201 : 200]: ok, ...errors, ...extra },
    });

  path(
    'post',
    '/api/processes',
    'Create a process (job opening)',
    { body: json(CreateProcessBody, 'The process') },
    json(anyObject, 'Created'),
    {
      409: json(ErrorResponse, 'Code already used'),
    },
  );
  path(
    'get',
    '/api/processes',
    'List processes',
    { query: ListProcessesQuery },
    json(anyObject, '{ items, total, limit, offset }'),
  );
  path('get', '/api/processes/{id}', 'Get a process', { params: IdParams }, json(anyObject, 'The process'));
  path(
    'patch',
    '/api/processes/{id}',
    'Update a process; status open | paused | closed',
    { params: IdParams, body: json(UpdateProcessBody, 'Fields to change') },
    json(anyObject, 'The updated process'),
    {
      409: json(ErrorResponse, 'Status change not allowed'),
    },
  );
  path(
    'get',
    '/api/applications',
    'List applications, filtered, sorted by score by default',
    { query: ListApplicationsQuery },
    json(anyObject, '{ items, total, limit, offset }'),
  );
  path(
    'get',
    '/api/applications/{id}',
    'An application: candidate, answers, CV analysis with evidence and flags, score breakdown, status history, transcript',
    { params: IdParams },
    json(anyObject, 'The application'),
  );
  path(
    'post',
    '/api/applications/{id}/status',
    'Record a recruiter decision',
    { params: IdParams, body: json(DecisionBody, 'The decision') },
    json(anyObject, 'The application after the change'),
    {
      409: json(ErrorResponse, 'Transition not allowed; details.allowed lists the allowed ones'),
    },
  );
  path(
    'delete',
    '/api/candidates/{id}',
    "Erase a candidate's personal data",
    { params: IdParams },
    json(anyObject, '{ erased: true }'),
  );
  path(
    'get',
    '/api/events',
    'Outbox events by state (dead letters by default)',
    { query: ListEventsQuery },
    json(anyObject, '{ items, limit, offset }'),
  );
  path(
    'post',
    '/api/events/{id}/retry',
    'Retry a dead event',
    { params: IdParams },
    json(anyObject, '{ retried: true }'),
  );
  path(
    'get',
    '/api/cache/stats',
    'Cache hit ratio per prefix, memory, top keys',
    {},
    json(anyObject, 'Cache statistics'),
  );

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'wa-recruiter admin API',
      version: '1.0.0',
      description: 'Recruiters define processes, review ranked applications with explainable scores, and decide.',
    },
  });
}
