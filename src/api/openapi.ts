/**
 * The OpenAPI 3.1 document of the API, generated from the route table
 * (src/core/contract/routes.ts: the zod schemas the routes parse their input with and
 * declare their answers with, z.toJSONSchema) plus each route's declared scope. Every
 * registered route must be in that table: buildApi refuses to start otherwise, so the
 * document cannot silently miss a route. Served at GET /api/v1/openapi.json.
 */
import { z } from 'zod';
import { routeContract } from '../core/contract/routes';

export interface DocumentedRoute {
  method: string;
  url: string;
  scope: string | null;
}

const toJson = (schema: z.ZodType, io: 'input' | 'output' = 'input') =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;

export function openApiDocument(routes: DocumentedRoute[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const doc = routeContract(`${r.method} ${r.url}`);
    if (!doc) throw new Error(`route ${r.method} ${r.url} has no entry in ROUTES (src/core/contract/routes.ts)`);
    const openPath = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const parameters = [...paramsOf(doc.params, 'path'), ...paramsOf(doc.query, 'query')];
    const ok = doc.ok ?? { status: 200, description: 'success' };
    const answer = doc.text
      ? { [doc.text]: { schema: { type: 'string', description: doc.text.startsWith('text/html') ? 'an HTML page or a static asset of the dashboard' : 'Prometheus text exposition format' } } }
      : doc.stream
      ? { [doc.stream.contentType]: { schema: { type: 'string', description: `each ${doc.stream.contentType === 'text/event-stream' ? 'event' : 'line'}'s data is JSON`, 'x-item-schema': toJson(doc.stream.item, 'output') } } }
      : { 'application/json': { schema: doc.response ? toJson(doc.response, 'output') : {} } };
    const responses: Record<string, unknown> = { [String(ok.status)]: { description: ok.description, content: answer } };
    for (const status of doc.alsoOk ?? []) responses[String(status)] = { description: 'see the schema', content: answer };
    responses.default = { description: 'an error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
    const op: Record<string, unknown> = {
      operationId: `${r.method.toLowerCase()}${r.url.replace(/\/api\/v1/, '').replace(/[/:{}.-]+(\w)/g, (_m, c: string) => c.toUpperCase())}`,
      summary: doc.summary,
      'x-slipway-scope': r.scope ?? 'public',
      security: r.scope ? [{ bearerAuth: [] }] : [],
      ...(parameters.length ? { parameters } : {}),
      responses,
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
