/**
 * Redeploy: the live release again, without slipway.yml and without a build. Without an
 * image it is a new release of the same digest and config (every replica replaced while the
 * edge keeps serving); with a prebuilt image on the host it runs that image with the live
 * config. An image that is not on the host is refused and records nothing. An environment
 * with `approval: required` holds a redeploy that changes the image, not one that keeps it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import type { ApiError } from '../src/client/api-client';
import { deployDirectory } from '../src/client/upload-contexts';
import { cliFor } from './support/cli';
import { ControlPlaneProcess } from './support/control-plane-process';
import { getWithHost } from './support/http-get';
import { TestProject } from './support/test-project';
import { deployAndWait, deploymentLog, waitDeployment } from './support/wait-deployment';

const execFileP = promisify(execFile);
const cp = await ControlPlaneProcess.create('redeploy');
const app = new TestProject('redeploy');
const slipway = cliFor(cp, app.dir);
const docker = new Docker();
const stagingDomain = `staging.${app.domain}`;
/** A second image of the example app that answers `"app": "hello-other"`. */
const OTHER = 'slipway-test/redeploy-other:1';
const scratch = mkdtempSync(path.join(os.tmpdir(), 'slipway-redeploy-img-'));

const variant = {
  version: 'one',
  replicas: 2,
  environments: { staging: { approval: 'required', services: { web: { replicas: 1, domains: [stagingDomain] } } } },
};

async function served(host = app.domain): Promise<{ app: string; release: string; version: string }> {
  const r = await getWithHost(cp.httpPort, host);
  assert.equal(r.status, 200, r.body);
  return JSON.parse(r.body) as { app: string; release: string; version: string };
}

async function releases(env = 'production') {
  return (await cp.client.releases('redeploy', 'web', env)).releases;
}

async function deploymentCount(env = 'production'): Promise<number> {
  return (await cp.client.deployments('redeploy', { service: 'web', env, limit: 200 })).deployments.length;
}

before(async () => {
  await cp.start();
  await cp.client.createBaseImage('node');
  // The other image: the same app with one visible difference, built the way users build
  // prebuilt images (docker build on the host, from Slipway's offline node base).
  cpSync(path.resolve(import.meta.dirname, '../examples/hello'), scratch, { recursive: true });
  const server = path.join(scratch, 'server.js');
  writeFileSync(server, readFileSync(server, 'utf8').replace("app: 'hello'", "app: 'hello-other'"));
  await execFileP('docker', ['build', '-q', '-t', OTHER, scratch], { env: { ...process.env, DOCKER_BUILDKIT: '0' } });
  app.write(variant);
  await cp.client.createEnvironment('redeploy', 'staging');
});
after(async () => {
  await cp.destroy();
  await docker.getImage(OTHER).remove({ force: true }).catch(() => undefined);
  rmSync(scratch, { recursive: true, force: true });
});

test('redeploy without an image: a new release with the same digest and config, every replica replaced, no request fails', async () => {
  const first = await deployAndWait(cp.client, app.write(variant));
  assert.equal(first.state, 'succeeded', await deploymentLog(cp.client, first.id));
  const [v1] = await releases();
  const before = await docker.listContainers({ filters: { label: ['slipway.project=redeploy', 'slipway.env=production'] } });

  let failures = 0;
  let requests = 0;
  let loading = true;
  const load = (async () => {
    while (loading) {
      requests++;
      try {
        if ((await getWithHost(cp.httpPort, app.domain)).status !== 200) failures++;
      } catch {
        failures++;
      }
    }
  })();
  const r = await slipway('redeploy', 'web');
  loading = false;
  await load;
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /redeploying v1 of redeploy\/web in production \(same image and config, no build\)/);
  assert.match(r.stdout, /✔ web runs v2/);
  assert.equal(failures, 0, `${failures} of ${requests} requests failed during the redeploy`);

  const [v2] = await releases();
  assert.equal(v2!.number, 2);
  assert.ok(v2!.current);
  assert.equal(v2!.imageDigest, v1!.imageDigest, 'the same image digest');
  assert.equal(v2!.imageRef, v1!.imageRef);
  assert.equal(v2!.sourceRef, v1!.sourceRef);
  const { deployments } = await cp.client.deployments('redeploy', { service: 'web', limit: 1 });
  const d = deployments[0]!;
  assert.equal(d.kind, 'deploy');
  assert.equal(d.state, 'succeeded');
  assert.equal(d.releaseNumber, 2);
  assert.ok(!d.steps.some((s) => s.name === 'build'), `no build step: ${d.steps.map((s) => s.name).join(', ')}`);

  const body = await served();
  assert.equal(body.release, 'v2');
  assert.equal(body.version, 'one', 'the same config');
  const now = await docker.listContainers({ filters: { label: ['slipway.project=redeploy', 'slipway.env=production'] } });
  assert.equal(now.length, 2);
  assert.ok(now.every((c) => !before.some((b) => b.Id === c.Id)), 'every replica was replaced');
});

test('redeploy with another prebuilt image runs it with the live config', async () => {
  const other = await docker.getImage(OTHER).inspect();
  const { deployment } = await cp.client.redeploy('redeploy', 'web', { image: OTHER });
  assert.equal(deployment.kind, 'deploy');
  assert.notEqual(deployment.state, 'awaiting_approval', 'production requires no approval');
  const done = await waitDeployment(cp.client, deployment.id);
  assert.equal(done.state, 'succeeded', await deploymentLog(cp.client, deployment.id));
  assert.match(await deploymentLog(cp.client, deployment.id), new RegExp(`redeploying v2 of redeploy/web in production with image ${OTHER} \\(sha256:`));

  const [v3] = await releases();
  assert.equal(v3!.number, 3);
  assert.equal(v3!.imageRef, OTHER);
  assert.equal(v3!.imageDigest, other.Id);
  assert.equal(v3!.sourceRef, null);
  const body = await served();
  assert.equal(body.app, 'hello-other', 'the edge serves the new image');
  assert.equal(body.release, 'v3');
  assert.equal(body.version, 'one', 'with the live config');
});

test('an image not on the host, or a service with no live release, is refused and records nothing', async () => {
  const deploymentsBefore = await deploymentCount();
  const releasesBefore = (await releases()).length;
  await assert.rejects(
    cp.client.redeploy('redeploy', 'web', { image: 'slipway-test/not-here:1' }),
    (e: ApiError) => e.status === 404 && e.code === 'SLW_NOT_FOUND' && /image "slipway-test\/not-here:1" is not on this host/.test(e.message) && e.details[0]?.path === 'image',
  );
  const cli = await slipway('redeploy', 'web', '--image', 'slipway-test/not-here:1');
  assert.equal(cli.code, 1);
  assert.match(cli.stderr, /image "slipway-test\/not-here:1" is not on this host.*\[SLW_NOT_FOUND\]/);
  assert.equal(await deploymentCount(), deploymentsBefore, 'no deployment recorded');
  assert.equal((await releases()).length, releasesBefore, 'no release recorded');

  await assert.rejects(
    cp.client.redeploy('redeploy', 'web', { env: 'staging' }),
    (e: ApiError) => e.status === 404 && /web has no live release in staging; deploy it first with slipway deploy/.test(e.message),
  );
  await assert.rejects(cp.client.redeploy('redeploy', 'nope', {}), (e: ApiError) => e.status === 404 && /service "nope" does not exist/.test(e.message));
  await assert.rejects(cp.client.redeploy('redeploy', 'web', { env: 'qa' }), (e: ApiError) => e.status === 404 && /environment "qa" does not exist/.test(e.message));
  await assert.rejects(
    cp.client.redeploy('redeploy', 'web', { image: '' }),
    (e: ApiError) => e.status === 400 && e.details.some((d) => d.path === 'image'),
  );
  assert.equal(await deploymentCount('staging'), 0);
});

test('approval: required holds a redeploy that changes the image (its plan survives approval), not one that keeps it', async () => {
  // The first deploy to staging waits for approval (slipway.yml says so) and records the policy.
  const { deployments } = await deployDirectory(cp.client, { ...app.write(variant), env: 'staging' });
  assert.equal(deployments[0]!.state, 'awaiting_approval');
  await cp.client.approve(deployments[0]!.id);
  const first = await waitDeployment(cp.client, deployments[0]!.id);
  assert.equal(first.state, 'succeeded', await deploymentLog(cp.client, first.id));
  const [s1] = await releases('staging');
  assert.equal((await served(stagingDomain)).app, 'hello');

  const held = await slipway('redeploy', 'web', '--env', 'staging', '--image', OTHER);
  assert.equal(held.code, 0, held.stdout + held.stderr);
  const id = /⏸ deployment ([0-9a-f-]{36}): redeploy of redeploy\/web in staging with .* awaits approval: slipway approve/.exec(held.stdout)?.[1];
  assert.ok(id, held.stdout);
  const waiting = (await cp.client.deployment(id)).deployment;
  assert.equal(waiting.state, 'awaiting_approval');
  assert.equal(waiting.kind, 'deploy');
  assert.equal((await releases('staging')).length, 1, 'nothing released while it waits');
  assert.equal((await served(stagingDomain)).app, 'hello', 'nothing changed while it waits');

  await cp.client.approve(id);
  const approved = await waitDeployment(cp.client, id);
  assert.equal(approved.state, 'succeeded', await deploymentLog(cp.client, id));
  const [s2] = await releases('staging');
  assert.equal(s2!.number, s1!.number + 1);
  assert.equal(s2!.imageRef, OTHER);
  const facts = (r: typeof s1) => ({ replicas: r!.replicas, domains: r!.domains, env: r!.env });
  assert.deepEqual(facts(s2), facts(s1), 'the live config, as stored in the plan');
  assert.equal((await served(stagingDomain)).app, 'hello-other');

  // Same image (none given, or the live one by name): like a rollback, no approval.
  const again = await cp.client.redeploy('redeploy', 'web', { env: 'staging' });
  assert.notEqual(again.deployment.state, 'awaiting_approval');
  assert.equal((await waitDeployment(cp.client, again.deployment.id)).state, 'succeeded');
  const byName = await slipway('redeploy', 'web', '--env', 'staging', '--image', OTHER, '--json');
  assert.equal(byName.code, 0, byName.stdout + byName.stderr);
  const json = JSON.parse(byName.stdout) as { state: string; kind: string; releaseNumber: number };
  assert.equal(json.state, 'succeeded');
  assert.equal(json.kind, 'deploy');
  assert.equal(json.releaseNumber, s2!.number + 2);
  const [s4] = await releases('staging');
  assert.equal(s4!.imageDigest, s2!.imageDigest);
});
