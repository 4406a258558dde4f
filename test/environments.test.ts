/**
 * Environments: production and staging of one project run side by side with their
 * own replica counts, domains and env values (overrides in slipway.yml); destroying
 * staging removes its replicas, routes and records while production keeps serving.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Docker from 'dockerode';
import { ApiError } from '../src/client/api-client';
import { ControlPlaneProcess } from './support/control-plane-process';
import { getWithHost } from './support/http-get';
import { TestProject } from './support/test-project';
import { deployAndWait, deploymentLog } from './support/wait-deployment';

const cp = await ControlPlaneProcess.create('envs');
const app = new TestProject('envs');
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
