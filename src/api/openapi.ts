/**
 * The OpenAPI 3.1 document of the API, built from the same zod schemas the routes parse
 * their input with (z.toJSONSchema), plus each route's declared scope. Every registered
 * route must have an entry here: buildApi refuses to start otherwise, so the document
 * cannot silently miss a route. Served at GET /api/v1/openapi.json.
 */
import { z } from 'zod';
import * as s from '../core/contract/requests';

export interface RouteDoc {
  summary: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** A body that is not JSON (uploads). */
  rawBody?: string;
  /** The success status and what it returns. */
  ok?: { status: number; description: string; contentType?: string };
}

const json = (status: number, description: string): NonNullable<RouteDoc['ok']> => ({ status, description });

export const ROUTE_DOCS: Record<string, RouteDoc> = {
  'GET /api/v1/health': { summary: 'Health of the control plane and its dependencies (store, Docker, edge, secrets); 503 when one fails' },
  'GET /api/v1/openapi.json': { summary: 'This document' },
  'POST /api/v1/login': { summary: 'Sign in with a password; returns a new token (shown once)', body: s.loginBody, ok: json(201, 'the token and its record') },
  'GET /api/v1/whoami': { summary: 'The principal of the bearer token' },
  'GET /api/v1/tokens': { summary: 'API tokens (never their secrets)' },
  'POST /api/v1/tokens': { summary: 'Create a token (shown once)', body: s.tokenBody, ok: json(201, 'the token and its record') },
  'DELETE /api/v1/tokens/:id': { summary: 'Revoke a token', params: s.tokenParams },
  'GET /api/v1/users': { summary: 'Users' },
  'POST /api/v1/users': { summary: 'Add a user', body: s.userBody, ok: json(201, 'the user') },
  'DELETE /api/v1/users/:name': { summary: 'Remove a user and the tokens issued to them', params: s.userParams },
  'GET /api/v1/audit': { summary: 'Audit entries, newest first', query: s.auditQuery },
  'GET /api/v1/projects': { summary: 'Projects the token may see, with environments and services' },
  'GET /api/v1/projects/:project/status': { summary: 'Services, replicas, live releases and edge state of an environment', params: s.projectParams, query: s.envQuery },
  'GET /api/v1/projects/:project/services/:service/releases': { summary: 'Releases of a service, newest first', params: s.serviceParams, query: s.envQuery },
  'GET /api/v1/projects/:project/services/:service/logs': { summary: 'Container logs as NDJSON (follow=true streams)', params: s.serviceParams, query: s.logsQuery, ok: { status: 200, description: 'one log entry per line', contentType: 'application/x-ndjson' } },
  'POST /api/v1/projects/:project/services/:service/run': { summary: 'Run a one-off command in the live release; streams NDJSON output then the exit', params: s.serviceParams, body: s.runBody, ok: { status: 200, description: 'output lines, then the exit event', contentType: 'application/x-ndjson' } },
  'POST /api/v1/projects/:project/services/:service/rollback': { summary: 'Roll back to a release (default: the previous one)', params: s.serviceParams, body: s.rollbackBody, ok: json(202, 'the deployment') },
  'POST /api/v1/deployments': { summary: 'Deploy services of slipway.yml from uploaded contexts, git or a prebuilt image', body: s.deployBody, ok: json(202, 'the deployments started (or awaiting approval)') },
  'POST /api/v1/promotions': { summary: "Deploy another environment's exact image with this environment's config and secrets", body: s.promoteBody, ok: json(202, 'the deployments') },
  'POST /api/v1/deployments/:id/approve': { summary: 'Approve a deployment awaiting approval', params: s.deploymentParams },
  'POST /api/v1/deployments/:id/cancel': { summary: 'Cancel a deployment awaiting approval', params: s.deploymentParams },
  'GET /api/v1/projects/:project/deployments': { summary: 'Deployments, newest first', params: s.projectParams, query: s.deploymentsQuery },
  'GET /api/v1/deployments/:id': { summary: 'A deployment with its steps', params: s.deploymentParams },
  'GET /api/v1/deployments/:id/logs': { summary: 'Deployment log lines after a sequence number', params: s.deploymentParams, query: s.afterQuery },
  'GET /api/v1/deployments/:id/events': { summary: 'Deployment log, state and end events as SSE; resumable with Last-Event-ID', params: s.deploymentParams, query: s.afterQuery, ok: { status: 200, description: 'server-sent events', contentType: 'text/event-stream' } },
  'GET /api/v1/projects/:project/environments': { summary: 'Environments with their services and live releases', params: s.projectParams },
  'POST /api/v1/projects/:project/environments': { summary: 'Create an environment', params: s.projectParams, body: s.environmentBody, ok: json(201, 'the environment') },
  'DELETE /api/v1/projects/:project/environments/:env': { summary: 'Destroy an environment: replicas, routes, releases, history', params: s.environmentParams, query: s.destroyQuery },
  'GET /api/v1/projects/:project/environments/:env/secrets': { summary: 'Secret names, versions and update times (never values)', params: s.environmentParams },
  'PATCH /api/v1/projects/:project/environments/:env/secrets': { summary: 'Set or unset secrets; rolls out a new release unless deploy=false', params: s.environmentParams, body: s.secretsChangeBody },
  'POST /api/v1/secrets/rotate-key': { summary: 'Rotate the master key and re-seal everything' },
  'GET /api/v1/projects/:project/jobs': { summary: 'Scheduled job runs and skipped ticks, newest first', params: s.projectParams, query: s.jobsQuery },
  'GET /api/v1/jobs/:id': { summary: 'A job run with its output tail', params: s.jobRunParams },
  'GET /api/v1/sources/:sha256': { summary: 'Whether the server has this build context', params: s.sourceParams },
  'PUT /api/v1/sources/:sha256': { summary: 'Upload a build context (tar, its sha256 in the path)', params: s.sourceParams, rawBody: 'application/x-tar', ok: json(201, 'stored (200 when it already was)') },
  'POST /api/v1/base-images': { summary: 'Build an offline base image from this host', body: s.baseImageBody },
  'PUT /api/v1/projects/:project/webhook': { summary: 'Register (or re-key) the push webhook; returns its secret once', params: s.projectParams, body: s.webhookBody, ok: json(201, 'the webhook, its URL and secret') },
  'GET /api/v1/projects/:project/webhook': { summary: 'The push webhook (never its secret)', params: s.projectParams },
  'DELETE /api/v1/projects/:project/webhook': { summary: 'Remove the push webhook', params: s.projectParams },
  'POST /api/v1/webhooks/:project': { summary: 'A push delivery, signed (X-Hub-Signature-256, or X-Slipway-Signature + timestamp + delivery id)', params: s.projectParams, rawBody: 'application/json', ok: json(202, 'deploying (200 for ping or ignored pushes)') },
  'GET /api/v1/notifications/targets': { summary: 'Notification targets (never their secrets)' },
  'POST /api/v1/notifications/targets': { summary: 'Add a notification target; a webhook target gets an HMAC secret, shown once', body: s.notificationTargetBody, ok: json(201, 'the target and its secret') },
  'DELETE /api/v1/notifications/targets/:id': { summary: 'Remove a notification target', params: s.notificationTargetParams },
  'GET /api/v1/notifications/deliveries': { summary: 'Deliveries of outbox events to targets, newest first', query: s.deliveriesQuery },
};

export interface DocumentedRoute {
  method: string;
  url: string;
  scope: string | null;
}

const toJson = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;

export function openApiDocument(routes: DocumentedRoute[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const doc = ROUTE_DOCS[`${r.method} ${r.url}`];
    if (!doc) throw new Error(`route ${r.method} ${r.url} has no entry in ROUTE_DOCS (src/api/openapi.ts)`);
    const openPath = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const parameters = [...paramsOf(doc.params, 'path'), ...paramsOf(doc.query, 'query')];
    const ok = doc.ok ?? json(200, 'success');
    const op: Record<string, unknown> = {
      operationId: `${r.method.toLowerCase()}${r.url.replace(/\/api\/v1/, '').replace(/[/:{}.-]+(\w)/g, (_m, c: string) => c.toUpperCase())}`,
      summary: doc.summary,
      'x-slipway-scope': r.scope ?? 'public',
      security: r.scope ? [{ bearerAuth: [] }] : [],
      ...(parameters.length ? { parameters } : {}),
      responses: {
        [String(ok.status)]: { description: ok.description, content: { [ok.contentType ?? 'application/json']: { schema: {} } } },
        default: { description: 'an error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    };
    if (doc.body) op.requestBody = { required: true, content: { 'application/json': { schema: toJson(doc.body) } } };
    if (doc.rawBody) op.requestBody = { required: true, content: { [doc.rawBody]: { schema: { type: 'string', contentMediaType: doc.rawBody } } } };
    (paths[openPath] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Slipway control plane API', version, description: 'Every route needs `Authorization: Bearer <token>` with the scope in x-slipway-scope (read < deploy < admin), except public ones.' },
    servers: [{ url: '/' }],
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message', 'details'],
              properties: {
                code: { type: 'string', description: 'stable code, e.g. SLW_BAD_REQUEST, SLW_UNAUTHORIZED, SLW_FORBIDDEN, SLW_NOT_FOUND' },
                message: { type: 'string' },
                details: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } }, required: ['message'] } },
              },
            },
          },
        },
      },
    },
  };
}

function paramsOf(schema: z.ZodObject | undefined, where: 'path' | 'query'): Array<Record<string, unknown>> {
  if (!schema) return [];
  const js = toJson(schema) as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, prop]) => ({
    name,
    in: where,
    required: where === 'path' ? true : (js.required ?? []).includes(name) && !Object.hasOwn(prop as object, 'default'),
    schema: prop,
  }));
}
