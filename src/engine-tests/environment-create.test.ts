/**
 * `env create` and `secrets list` on environments that do not exist (issue 24 item 11), through
 * the API in-process (fastify.inject) over the real Environments and Secrets on the engine world
 * (SQLite in memory, memory ports): creating a missing environment is a 201 (production too:
 * on a brand-new project, and after it was destroyed), creating one that exists is a 409 that
 * changes nothing, and listing the secrets of a missing environment is a 404 that names the
 * known ones and how to create it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/server';
import type { ApiDeps } from '../api/api-deps';
import { FailureLimiter } from '../api/rate-limit';
import type { Principal } from '../engine/access';
import { Environments } from '../engine/environments';
import { Secrets } from '../engine/secrets';
import { engineWorld, type EngineWorld } from './engine-world.test-support';

const admin: Principal = { actor: 'user:admin', scope: 'admin', project: null, tokenId: 'tok_admin', expiresAt: null, dashboardSession: false };
let world: EngineWorld;
let app: FastifyInstance;

before(async () => {
  world = await engineWorld();
  const deps = {
    access: { authenticate: async () => admin },
    audit: { record: async () => undefined },
    authLimiter: new FailureLimiter(1000, 60_000),
    environments: new Environments(world.ctx),
    secrets: new Secrets(world.ctx, async () => ({ id: 'unused' })),
    logger: pino({ level: 'silent' }),
  } as unknown as ApiDeps;
  app = buildApi(deps, { strictResponses: true });
  await app.ready();
});

after(async () => {
  await app?.close();
  await world?.close();
});

const call = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) =>
  app.inject({ method, url, headers: { authorization: 'Bearer admin' }, ...(payload !== undefined ? { payload: payload as object } : {}) });
const create = (project: string, name: string) => call('POST', `/api/v1/projects/${project}/environments`, { name });
const envNames = async (project: string) => ((await call('GET', `/api/v1/projects/${project}/environments`)).json().environments as Array<{ name: string }>).map((e) => e.name).sort();

test('env create production on a brand-new project: created (201), once; again is a 409 that changes nothing', async () => {
  const first = await create('fresh', 'production');
  assert.equal(first.statusCode, 201, first.body);
  assert.equal(first.json().environment.name, 'production');
  assert.deepEqual(await envNames('fresh'), ['production']);

  const again = await create('fresh', 'production');
  assert.equal(again.statusCode, 409, again.body);
  assert.equal(again.json().error.code, 'SLW_CONFLICT');
  assert.match(again.json().error.message, /environment "production" already exists in project "fresh"; nothing was changed/);
  assert.deepEqual(await envNames('fresh'), ['production']);

  const staging = await create('other', 'staging');
  assert.equal(staging.statusCode, 201, staging.body);
  assert.deepEqual(await envNames('other'), ['production', 'staging'], 'a new project comes with production');
});

test('after env destroy production: secrets list is a 404, other writes do not bring it back, env create production is a 201', async () => {
  assert.equal((await create('shop2', 'staging')).statusCode, 201);
  const destroyed = await call('DELETE', '/api/v1/projects/shop2/environments/production?confirm=production');
  assert.equal(destroyed.statusCode, 200, destroyed.body);
  assert.deepEqual(await envNames('shop2'), ['staging']);

  const list = await call('GET', '/api/v1/projects/shop2/environments/production/secrets');
  assert.equal(list.statusCode, 404, list.body);
  assert.match(list.json().error.message, /environment "production" does not exist in project "shop2" \(it has: staging\); create it with "slipway env create production"/);

  assert.equal((await create('shop2', 'qa')).statusCode, 201);
  assert.deepEqual(await envNames('shop2'), ['qa', 'staging'], 'creating another environment does not recreate production');

  const recreated = await create('shop2', 'production');
  assert.equal(recreated.statusCode, 201, recreated.body);
  assert.equal(recreated.json().environment.name, 'production');
  assert.deepEqual(await envNames('shop2'), ['production', 'qa', 'staging']);
  const empty = await call('GET', '/api/v1/projects/shop2/environments/production/secrets');
  assert.equal(empty.statusCode, 200, empty.body);
  assert.deepEqual([empty.json().version, empty.json().secrets], [null, []]);
});

test('secrets list of a missing environment is a 404 naming the known ones; of a project not created yet, only production reads as empty', async () => {
  assert.equal((await create('shop3', 'staging')).statusCode, 201);
  const nope = await call('GET', '/api/v1/projects/shop3/environments/nope/secrets');
  assert.equal(nope.statusCode, 404, nope.body);
  assert.equal(nope.json().error.code, 'SLW_NOT_FOUND');
  assert.match(nope.json().error.message, /environment "nope" does not exist in project "shop3" \(it has: production, staging\); create it with "slipway env create nope"/);

  const unknownProject = await call('GET', '/api/v1/projects/never/environments/nope/secrets');
  assert.equal(unknownProject.statusCode, 404, unknownProject.body);
  assert.match(unknownProject.json().error.message, /project "never" does not exist/);
  // Production secrets may be set before the first deploy (that creates the project): nothing set yet.
  const before = await call('GET', '/api/v1/projects/never/environments/production/secrets');
  assert.equal(before.statusCode, 200, before.body);
  assert.deepEqual([before.json().version, before.json().secrets], [null, []]);
  assert.equal((await call('GET', '/api/v1/projects/never/environments')).statusCode, 404, 'reading created nothing');
});
