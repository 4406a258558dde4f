/**
 * Environments: production and staging of one project run side by side with their
 * own replica counts, domains and env values (overrides in slipway.yml); destroying
 * staging removes its replicas, routes and records while production keeps serving.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Docker from 'dockerode';
import { ApiError } from '../src/client/api-client';
import { cliFor } from './support/cli';
import { ControlPlaneProcess } from './support/control-plane-process';
import { getWithHost } from './support/http-get';
import { TestProject } from './support/test-project';
import { deployAndWait, deploymentLog } from './support/wait-deployment';

const cp = await ControlPlaneProcess.create('envs');
const app = new TestProject('envs');
const cli = cliFor(cp, app.dir);
const stagingDomain = `staging.${app.domain}`;
const variant = {
  version: 'prod',
  environments: { staging: { services: { web: { replicas: 1, domains: [stagingDomain], env: { APP_VERSION: 'staging' } } } } },
};

before(async () => {
  await cp.start();
  await cp.client.createBaseImage('node');
});
after(() => cp.destroy());

test('production and staging run side by side with their own replicas, domains and env', async () => {
  const prod = await deployAndWait(cp.client, app.write(variant));
  assert.equal(prod.state, 'succeeded', await deploymentLog(cp.client, prod.id));
  const staging = await deployAndWait(cp.client, app.write(variant, 'staging'));
  assert.equal(staging.state, 'succeeded', await deploymentLog(cp.client, staging.id));
  assert.equal(staging.env, 'staging');
  assert.equal(staging.releaseNumber, 1, 'release numbers are per environment');

  const p = JSON.parse((await getWithHost(cp.httpPort, app.domain)).body) as { version: string; release: string };
  const s = JSON.parse((await getWithHost(cp.httpPort, stagingDomain)).body) as { version: string; release: string };
  assert.equal(p.version, 'prod');
  assert.equal(s.version, 'staging');

  const prodStatus = (await cp.client.status('envs', 'production')).services[0]!;
  const stagingStatus = (await cp.client.status('envs', 'staging')).services[0]!;
  assert.equal(prodStatus.replicas.length, 2);
  assert.equal(stagingStatus.replicas.length, 1);
  const { environments } = await cp.client.environments('envs');
  assert.deepEqual(environments.map((e) => e.name).sort(), ['production', 'staging']);
  assert.deepEqual(environments.find((e) => e.name === 'staging')!.services[0]!.domains, [stagingDomain]);
});

test('destroying staging removes its replicas, route and records; production keeps serving', async () => {
  await assert.rejects(cp.client.destroyEnvironment('envs', 'qa'), (e: ApiError) => e.status === 404 && /environment "qa" does not exist/.test(e.message));
  const unconfirmed = await fetch(`http://127.0.0.1:${cp.apiPort}/api/v1/projects/envs/environments/staging?confirm=production`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${cp.token}` },
  });
  assert.equal(unconfirmed.status, 400);
  assert.equal((await cp.client.environments('envs')).environments.length, 2, 'nothing changed without confirmation');

  const { destroyed } = await cp.client.destroyEnvironment('envs', 'staging');
  assert.deepEqual(destroyed, { environment: 'staging', replicasRemoved: 1, routesRemoved: 1, accessoriesStopped: [], volumesDeleted: [], volumesKept: [] });
  assert.equal((await getWithHost(cp.httpPort, stagingDomain)).status, 404);
  assert.equal((await getWithHost(cp.httpPort, app.domain)).status, 200);
  const left = await new Docker().listContainers({ all: true, filters: { label: ['slipway.project=envs', 'slipway.env=staging'] } });
  assert.equal(left.length, 0);
  await assert.rejects(cp.client.releases('envs', 'web', 'staging'), (e: ApiError) => e.status === 404);
  assert.equal((await cp.client.status('envs', 'production')).services[0]!.readyReplicas, 2);
});

test('env create of a missing environment succeeds (production too: after env destroy, on a new project); of an existing one is refused; secrets list of a missing one fails', async () => {
  const destroyed = await cli('env', 'destroy', 'production', '--yes');
  assert.equal(destroyed.code, 0, destroyed.stderr);
  assert.equal((await getWithHost(cp.httpPort, app.domain)).status, 404);

  const list = await cli('secrets', 'list');
  assert.notEqual(list.code, 0, 'secrets list of a destroyed environment is an error');
  assert.match(list.stderr, /environment "production" does not exist in project "envs" \(it has: none\); create it with "slipway env create production"/);

  const created = await cli('env', 'create', 'production');
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /created environment production; deploy to it with: slipway deploy --env production/);
  const again = await cli('env', 'create', 'production');
  assert.equal(again.code, 1);
  assert.match(again.stderr, /environment "production" already exists in project "envs"; nothing was changed/);
  assert.deepEqual((await cp.client.environments('envs')).environments.map((e) => e.name), ['production']);
  const empty = await cli('secrets', 'list', '--json');
  assert.equal(empty.code, 0, empty.stderr);
  assert.deepEqual(JSON.parse(empty.stdout), { project: 'envs', env: 'production', version: null, secrets: [] });

  const nope = await cli('secrets', 'list', '--env', 'nope');
  assert.notEqual(nope.code, 0);
  assert.match(nope.stderr, /environment "nope" does not exist in project "envs" \(it has: production\); create it with "slipway env create nope"/);

  const fresh = await cli('env', 'create', 'production', '-p', 'envs-new');
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.match(fresh.stdout, /created environment production/);
  assert.deepEqual((await cp.client.environments('envs-new')).environments.map((e) => e.name), ['production']);
  const freshStaging = await cli('env', 'create', 'staging', '-p', 'envs-new');
  assert.equal(freshStaging.code, 0, freshStaging.stderr);
  assert.equal((await cli('env', 'create', 'staging', '-p', 'envs-new')).code, 1);
  assert.deepEqual((await cp.client.environments('envs-new')).environments.map((e) => e.name).sort(), ['production', 'staging']);
});
