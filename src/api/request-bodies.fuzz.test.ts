/**
 * Fuzz of every API request body (issue 18, "Also"): for each route of the route table with a
 * body, arbitrary JSON values and mutations of a valid body go through the server's own
 * parsing (parseInput) and error mapping; none may answer 5xx, throw anything but a coded
 * 4xx error, or hold the event loop past the bound, and every refusal names a field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ROUTES } from '../core/contract/routes';
import { isSlipwayError, type ErrorDetail } from '../core/errors';
import { httpStatusOf } from './error-response';
import { parseInput } from './parse-body';

const STALL_BOUND_MS = 50;
const TIME_LIMIT_MS = 80;

const CONFIG = 'project: shop\nservices:\n  web: { image: "slipway/node:20", port: 3000 }\n';
const SHA = 'a'.repeat(64);

/** A valid body per route: the mutations start from it. A new body route must add one. */
const VALID_BODIES: Record<string, unknown> = {
  'POST /api/v1/login': { user: 'ada', password: 'correct horse battery', tokenName: 'cli', expiresIn: '30d' },
  'POST /api/v1/session': { user: 'ada', password: 'correct horse battery' },
  'POST /api/v1/tokens': { name: 'ci', scope: 'deploy', project: 'shop', expiresIn: '90d' },
  'POST /api/v1/users': { name: 'ada', password: 'correct horse battery', scope: 'deploy' },
  'POST /api/v1/projects/:project/services/:service/run': { env: 'production', argv: ['node', '-e', '1'], timeout: '10m' },
  'POST /api/v1/projects/:project/services/:service/rollback': { env: 'production', release: 2 },
  'POST /api/v1/projects/:project/services/:service/redeploy': { env: 'production', image: 'slipway/node:20' },
  'POST /api/v1/projects/:project/services/:service/scale': { env: 'production', replicas: 3 },
  'POST /api/v1/projects/:project/services/:service/restart': { env: 'staging' },
  'POST /api/v1/projects/:project/services/:service/stop': { env: 'staging' },
  'POST /api/v1/projects/:project/services/:service/start': { env: 'production' },
  'POST /api/v1/deployments': { config: CONFIG, env: 'staging', services: ['web'], sources: { web: { sha256: SHA, commit: null } } },
  'POST /api/v1/promotions': { config: CONFIG, from: 'staging', to: 'production', services: ['web'] },
  'POST /api/v1/projects/:project/environments': { name: 'preview-x' },
  'PATCH /api/v1/projects/:project/environments/:env/secrets': { set: { API_KEY: 'v' }, unset: ['OLD'], deploy: false },
  'POST /api/v1/certificates': { domain: 'shop.example.com', cert: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----', key: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----' },
  'POST /api/v1/images/allowed': { images: ['nginx:*'] },
  'POST /api/v1/base-images': { kind: 'node', force: false },
  'PUT /api/v1/projects/:project/webhook': { repository: 'https://git.example.com/shop.git', path: '' },
  'POST /api/v1/notifications/targets': { kind: 'webhook', url: 'https://hooks.example.com/x', events: [] },
  'PUT /api/v1/alerts/defaults': { error_rate: { above: '5%', for: '10m' }, disk: 'off' },
  'POST /api/v1/alerts/silences': { rule: 'error_rate', project: 'shop', service: 'web', for: '2h', reason: 'migration' },
  'POST /api/v1/projects/:project/envs/:env/accessories/:name/sql': { sql: 'select count(*) from orders;', timeout: '1m' },
  'POST /api/v1/projects/:project/envs/:env/accessories/:name/backups': { type: 'full' },
  'POST /api/v1/projects/:project/envs/:env/accessories/:name/restore': { backup: '1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b', inPlace: false },
};

const bodyRoutes = Object.entries(ROUTES as Record<string, { body?: unknown }>).filter(([, r]) => r.body !== undefined);

/** What the server does with a body: parse it, or answer the coded error's status. */
function answer(key: string, body: unknown): { status: number; details: ErrorDetail[] } {
  const schema = (ROUTES as unknown as Record<string, { body: Parameters<typeof parseInput>[0] }>)[key]!.body;
  // The wire format: only what JSON can carry reaches the schema.
  const wire = body === undefined ? undefined : (JSON.parse(JSON.stringify(body)) as unknown);
  const c0 = process.cpuUsage();
  try {
    parseInput(schema, wire, 'body');
    return { status: 200, details: [] };
  } catch (err) {
    assert.ok(isSlipwayError(err), `${key}: only coded errors may escape the body parse, got ${String(err)}`);
    return { status: httpStatusOf(err.code), details: err.details };
  } finally {
    const c = process.cpuUsage(c0);
    const ms = (c.user + c.system) / 1000;
    assert.ok(ms < STALL_BOUND_MS, `${key}: the body parse took ${ms.toFixed(1)} ms of CPU (bound ${STALL_BOUND_MS} ms)`);
  }
}

function assertRefusalNamesField(key: string, r: ReturnType<typeof answer>, body: unknown): void {
  assert.ok(r.status < 500, `${key}: ${JSON.stringify(body)?.slice(0, 200)} → ${r.status}`);
  if (r.status === 200) return;
  assert.equal(r.status, 400, key);
  assert.ok(r.details.length > 0, `${key}: a refusal carries details`);
  for (const d of r.details) assert.ok(!!d.path && d.message.length > 0, `${key}: every error names a field: ${JSON.stringify(d)}`);
}

test('every route with a body has a valid example, and it is accepted', () => {
  assert.deepEqual(bodyRoutes.map(([k]) => k).sort(), Object.keys(VALID_BODIES).sort(), 'VALID_BODIES must list exactly the routes that take a body');
  for (const [key] of bodyRoutes) {
    for (let i = 0; i < 3; i++) answer(key, VALID_BODIES[key]); // warms the JIT up for the CPU bound
    assert.equal(answer(key, VALID_BODIES[key]).status, 200, key);
  }
});

const opts = { interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false, numRuns: 20_000 } as const;
const weird = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom<unknown>('30d', '1000000000000000d', 1e308, -1, 0, '', 'foo\nbar', 'a\0b', '%E0%A4%A', '__proto__', 'x'.repeat(5000), [], {}, null, true, JSON.parse('{"__proto__": {"admin": true}}') as unknown),
);

for (const [key] of bodyRoutes) {
  test(`fuzz ${key}: arbitrary JSON bodies are refused with a 400 naming a field, never a 5xx`, () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (body) => assertRefusalNamesField(key, answer(key, body), body)), opts);
    fc.assert(fc.property(fc.dictionary(fc.string({ maxLength: 12 }), weird, { maxKeys: 6 }), (body) => assertRefusalNamesField(key, answer(key, body), body)), opts);
  });

  test(`fuzz ${key}: a valid body with one field replaced, removed or added`, () => {
    const valid = VALID_BODIES[key] as Record<string, unknown>;
    const fields = Object.keys(valid);
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.constantFrom('replace', 'delete', 'add'), weird, fc.string({ maxLength: 12 }), (field, op, value, extra) => {
        const body: Record<string, unknown> = { ...valid };
        if (op === 'replace') body[field] = value;
        else if (op === 'delete') delete body[field];
        else body[extra] = value;
        assertRefusalNamesField(key, answer(key, body), body);
      }),
      opts,
    );
  });
}
