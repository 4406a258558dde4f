/**
 * Build once, promote the same bytes: staging and production of one project run side by
 * side with their own replicas, domains and secrets; `promote` deploys staging's exact
 * image digest to production without a build; `approval: required` holds it in
 * awaiting_approval until approved, and cancel leaves everything as it was.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { ApiError } from '../src/client/api-client';
import { cliFor } from './support/cli';
import { ControlPlaneProcess } from './support/control-plane-process';
import { getWithHost } from './support/http-get';
import { TestProject } from './support/test-project';
import { deployAndWait, deploymentLog, waitDeployment } from './support/wait-deployment';

const execFileP = promisify(execFile);
const cp = await ControlPlaneProcess.create('promo');
const app = new TestProject('promo');
const slipway = cliFor(cp, app.dir);
const stagingDomain = `staging.${app.domain}`;
const variant = {
  version: 'prod-config',
  replicas: 2,
  environments: {
    staging: { services: { web: { replicas: 1, domains: [stagingDomain], env: { APP_VERSION: 'staging-config' } } } },
    production: { approval: 'required' },
  },
};

async function envValue(env: string, name: string): Promise<string[]> {
  const cs = await new Docker().listContainers({ filters: { label: ['slipway.project=promo', `slipway.env=${env}`], status: ['running'] } });
  return Promise.all(cs.map(async (c) => (await execFileP('docker', ['exec', c.Id, 'node', '-e', `process.stdout.write(process.env.${name} ?? '')`])).stdout));
}

before(async () => {
  await cp.start();
  await cp.client.createBaseImage('node');
  app.write(variant);
  await cp.client.createEnvironment('promo', 'staging');
});
after(() => cp.destroy());

test('staging runs on its own; production with approval required waits, and cancel changes nothing', async () => {
  await cp.client.changeSecrets('promo', 'staging', { set: { API_KEY: 'staging-key' } });
  await cp.client.changeSecrets('promo', 'production', { set: { API_KEY: 'production-key' } });
  const staging = await deployAndWait(cp.client, { ...app.write(variant), env: 'staging' });
  assert.equal(staging.state, 'succeeded', await deploymentLog(cp.client, staging.id));

  const promote = await slipway('promote', '--from', 'staging', '--to', 'production');
  assert.equal(promote.code, 0, promote.stdout + promote.stderr);
  const id = /deployment ([0-9a-f-]{36}) awaits approval in production/.exec(promote.stdout)?.[1];
  assert.ok(id, promote.stdout);
  await new Promise((r) => setTimeout(r, 1500));
  const waiting = (await cp.client.deployment(id)).deployment;
  assert.equal(waiting.state, 'awaiting_approval');
  assert.deepEqual(await envValue('production', 'API_KEY'), [], 'nothing runs in production yet');
  assert.equal((await cp.client.releases('promo', 'web', 'production')).releases.length, 0);

  await assert.rejects(
    cp.client.promote({ config: app.configText(variant), from: 'staging', to: 'production' }),
    (e: ApiError) => e.status === 409 && e.message.includes(`deployment ${id}`) && /awaiting approval/.test(e.message),
  );
  const cancel = await slipway('cancel', id);
  assert.equal(cancel.code, 0, cancel.stderr);
  assert.equal((await cp.client.deployment(id)).deployment.state, 'cancelled');
  await assert.rejects(cp.client.approve(id), (e: ApiError) => e.status === 409 && /it is cancelled, not awaiting approval/.test(e.message));
  assert.deepEqual(await envValue('production', 'API_KEY'), []);
});

test('an approved promotion deploys the identical digest without a build, with production config and secrets', async () => {
  const { deployments } = await cp.client.promote({ config: app.configText(variant), from: 'staging', to: 'production' });
  const id = deployments[0]!.id;
  assert.equal(deployments[0]!.state, 'awaiting_approval');
  assert.deepEqual(deployments[0]!.source?.env, 'staging');

  const approve = await slipway('approve', id);
  assert.equal(approve.code, 0, approve.stdout + approve.stderr);
  assert.match(approve.stdout, /✔ web: deployed/);
  const done = await waitDeployment(cp.client, id);
  assert.equal(done.state, 'succeeded');
  assert.equal(done.kind, 'promote');
  assert.ok(!done.steps.some((s) => s.name === 'build'), `no build step: ${done.steps.map((s) => s.name).join(', ')}`);

  const [prodRelease] = (await cp.client.releases('promo', 'web', 'production')).releases;
  const [stagingRelease] = (await cp.client.releases('promo', 'web', 'staging')).releases;
  assert.equal(prodRelease!.imageDigest, stagingRelease!.imageDigest, 'the identical image digest');
  assert.equal(done.source?.imageDigest, stagingRelease!.imageDigest);
  assert.equal(done.source?.release, stagingRelease!.number);

  assert.deepEqual(await envValue('production', 'API_KEY'), ['production-key', 'production-key']);
  assert.deepEqual(await envValue('staging', 'API_KEY'), ['staging-key']);
  const prod = JSON.parse((await getWithHost(cp.httpPort, app.domain)).body) as { version: string };
  const stg = JSON.parse((await getWithHost(cp.httpPort, stagingDomain)).body) as { version: string };
  assert.equal(prod.version, 'prod-config');
  assert.equal(stg.version, 'staging-config');
  assert.equal((await cp.client.status('promo', 'production')).services[0]!.readyReplicas, 2);
  assert.equal((await cp.client.status('promo', 'staging')).services[0]!.readyReplicas, 1);
});

test('bad promotions and unknown environments get clear errors and change nothing', async () => {
  const config = app.configText(variant);
  await assert.rejects(cp.client.promote({ config, from: 'qa', to: 'production' }), (e: ApiError) => e.status === 404 && /environment "qa" does not exist/.test(e.message));
  await assert.rejects(cp.client.promote({ config, from: 'staging', to: 'staging' }), (e: ApiError) => e.status === 400 && /both "staging"/.test(e.message));
  await assert.rejects(cp.client.promote({ config, from: 'staging', services: ['nope'] }), (e: ApiError) => e.status === 404 && /nope not defined/.test(e.message));
  const typo = await slipway('deploy', '--env', 'stagng');
  assert.equal(typo.code, 1);
  assert.match(typo.stderr, /environment "stagng" does not exist in project "promo".*slipway env create stagng/);
  assert.deepEqual((await cp.client.environments('promo')).environments.map((e) => e.name).sort(), ['production', 'staging']);
});
