/**
 * Disk retention and the low-disk guard against a real Docker engine and HAProxy. Thirty
 * deploys of distinct images (`redeploy --image`, one replica, `retention.releases: 3`) leave
 * only the images of the newest releases on the host; a rollback within them runs without a
 * build, one beyond them is refused naming the release and the two ways back. With
 * SLIPWAY_MIN_FREE_DISK=100% every disk is low: deploys are refused with SLW_LOW_DISK before
 * anything is recorded, `slipway servers` and /readyz say so.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import pino from 'pino';
import { DockerRuntime } from '../src/drivers/docker/docker-runtime';
import type { ApiError } from '../src/client/api-client';
import { cliFor } from './support/cli';
import { ControlPlaneProcess } from './support/control-plane-process';
import { getWithHost } from './support/http-get';
import { TestProject } from './support/test-project';
import { deployAndWait, deploymentLog, waitDeployment } from './support/wait-deployment';

const execFileP = promisify(execFile);
const PROJECT = 'diskret';
const cp = await ControlPlaneProcess.create('disk-retention');
const app = new TestProject(PROJECT);
const slipway = cliFor(cp, app.dir);
const docker = new Docker();
const KEEP = 3;
const DEPLOYS = 30;
const IMAGE_REPO = 'slipway-test/disk-retention';
const scratch = mkdtempSync(path.join(os.tmpdir(), 'slipway-disk-retention-img-'));

const variant = { version: 'one', replicas: 1, service: { retention: { releases: KEEP } }, deploy: { drain_timeout: '2s', stop_timeout: '3s' } };

async function releases() {
  return (await cp.client.releases(PROJECT, 'web', 'production')).releases;
}

async function present(digest: string): Promise<boolean> {
  return docker
    .getImage(digest)
    .inspect()
    .then(() => true, () => false);
}

/** A distinct image of the example app: the classic builder caches every step but the label, so each takes well under a second. */
async function buildImage(n: number): Promise<string> {
  const tag = `${IMAGE_REPO}:${n}`;
  await execFileP('docker', ['build', '-q', '--label', `slipway.test.n=${n}`, '-t', tag, scratch], { env: { ...process.env, DOCKER_BUILDKIT: '0' } });
  return tag;
}

before(async () => {
  await cp.start();
  await cp.client.createBaseImage('node');
  cpSync(path.resolve(import.meta.dirname, '../examples/hello'), scratch, { recursive: true });
  const first = await deployAndWait(cp.client, app.write(variant));
  assert.equal(first.state, 'succeeded', await deploymentLog(cp.client, first.id));
});

after(async () => {
  await cp.destroy();
  for (const repo of [IMAGE_REPO, `slipway/${PROJECT}-web`]) {
    for (const img of await docker.listImages({ filters: { reference: [repo] } })) await docker.getImage(img.Id).remove({ force: true }).catch(() => undefined);
  }
  rmSync(scratch, { recursive: true, force: true });
  rmSync(app.dir, { recursive: true, force: true });
});

test(`${DEPLOYS} deploys of distinct images leave only the images of the newest ${KEEP} releases; the others are marked pruned`, async () => {
  for (let n = 1; n <= DEPLOYS; n++) {
    const image = await buildImage(n);
    const { deployment } = await cp.client.redeploy(PROJECT, 'web', { image });
    const done = await waitDeployment(cp.client, deployment.id);
    assert.equal(done.state, 'succeeded', await deploymentLog(cp.client, deployment.id));
  }
  const all = await releases();
  assert.equal(all.length, DEPLOYS + 1, 'the build and every redeploy made a release');
  const live = all.find((r) => r.current)!;
  assert.equal(live.number, DEPLOYS + 1);
  // Pruning runs right after each deployment ends (after its lease): give the last one time to finish.
  const deadline = Date.now() + 120_000;
  let kept: number[] = [];
  for (;;) {
    kept = [];
    for (const r of all) if (await present(r.imageDigest)) kept.push(r.number);
    if (kept.length <= KEEP || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const newest = all.slice(0, KEEP).map((r) => r.number);
  assert.ok(kept.length <= KEEP + 1, `at most ${KEEP} + the live release's images remain, found releases ${kept.join(', ')}`);
  assert.deepEqual(kept.sort((a, b) => b - a), newest, 'exactly the newest releases keep their images (the live one among them)');
  // The test images themselves are gone from the host (every tag removed with the image), bar the kept ones.
  const left = (await docker.listImages({ filters: { reference: [IMAGE_REPO] } })).flatMap((i) => i.RepoTags ?? []);
  assert.deepEqual(left.sort(), [DEPLOYS - 2, DEPLOYS - 1, DEPLOYS].map((n) => `${IMAGE_REPO}:${n}`).sort());

  const view = await releases();
  for (const r of view) assert.equal(r.imagePruned, !newest.includes(r.number), `v${r.number} imagePruned`);
  const cli = await slipway('releases', 'web');
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, new RegExp(`${IMAGE_REPO}:1 \\(pruned\\)`), cli.stdout);
  assert.doesNotMatch(cli.stdout, new RegExp(`${IMAGE_REPO}:${DEPLOYS} \\(pruned\\)`), cli.stdout);
  // The deployment log says what retention removed.
  const lastDeploy = (await cp.client.deployments(PROJECT, { service: 'web', env: 'production', limit: 1 })).deployments[0]!;
  assert.match(await deploymentLog(cp.client, lastDeploy.id), new RegExp(`retention: removed 1 image\\(s\\) of releases beyond the newest ${KEEP} of web in production \\(v${DEPLOYS + 1 - KEEP}\\)`));
});

test('the Runtime port never removes an image a container was created from (even a stopped one), and removes every tag otherwise', async () => {
  const runtime = new DockerRuntime({ network: cp.network, logger: pino({ level: 'silent' }) });
  const tag = await buildImage(900);
  await docker.getImage(tag).tag({ repo: IMAGE_REPO, tag: '900-alias' });
  const digest = (await docker.getImage(tag).inspect()).Id;
  const container = await docker.createContainer({ Image: digest, name: `slipway-test-disk-retention-holder-${process.pid}` });
  try {
    const kept = await runtime.removeImage(digest);
    assert.equal(kept.removed, false);
    assert.match(kept.reason ?? '', /used by container slipway-test-disk-retention-holder/);
    assert.ok(await present(digest), 'the image stays');
    assert.deepEqual((await docker.getImage(digest).inspect()).RepoTags?.sort(), [`${IMAGE_REPO}:900`, `${IMAGE_REPO}:900-alias`], 'and keeps every tag');
  } finally {
    await container.remove({ force: true });
  }
  const gone = await runtime.removeImage(digest);
  assert.equal(gone.removed, true, gone.reason);
  assert.deepEqual(gone.untagged.sort(), [`${IMAGE_REPO}:900`, `${IMAGE_REPO}:900-alias`]);
  assert.equal(await present(digest), false);
  assert.deepEqual(await runtime.removeImage(digest), { removed: true, untagged: [] }, 'a missing image counts as removed');
  runtime.close();
});

test('a rollback within the retained releases runs without a build', async () => {
  const target = DEPLOYS; // v30: the one before the live v31
  const r = await slipway('rollback', 'web', `v${target}`);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const d = (await cp.client.deployments(PROJECT, { service: 'web', env: 'production', limit: 1 })).deployments[0]!;
  assert.equal(d.kind, 'rollback');
  assert.equal(d.state, 'succeeded', await deploymentLog(cp.client, d.id));
  assert.match(await deploymentLog(cp.client, d.id), /no build/);
  const served = await getWithHost(cp.httpPort, app.domain);
  assert.equal(served.status, 200, served.body);
  assert.equal((JSON.parse(served.body) as { release: string }).release, `v${target}`);
});

test('a rollback beyond the retained releases is refused, naming the release and offering redeploy --image or a rebuild', async () => {
  const before = (await cp.client.deployments(PROJECT, { service: 'web', env: 'production', limit: 200 })).deployments.length;
  const cli = await slipway('rollback', 'web', 'v5');
  assert.notEqual(cli.code, 0);
  const out = cli.stdout + cli.stderr;
  assert.match(out, /v5: its image slipway-test\/disk-retention:4 \(sha256:[0-9a-f]{12}\) was pruned by image retention/, out);
  assert.ok(out.includes(`slipway redeploy web --image ${IMAGE_REPO}:4`), out);
  assert.ok(out.includes('slipway deploy web'), out);
  const err = await cp.client.rollback(PROJECT, 'web', { env: 'production', release: 5 }).then(
    () => assert.fail('rollback to a pruned release was accepted'),
    (e: ApiError) => e,
  );
  assert.equal(err.status, 410);
  assert.equal(err.code, 'SLW_IMAGE_PRUNED');
  const afterCount = (await cp.client.deployments(PROJECT, { service: 'web', env: 'production', limit: 200 })).deployments.length;
  assert.equal(afterCount, before, 'nothing was recorded');
});

test('low disk (SLIPWAY_MIN_FREE_DISK=100%): deploys refused with SLW_LOW_DISK before anything is recorded; servers and /readyz say so', async () => {
  await cp.stop();
  await cp.start({ SLIPWAY_MIN_FREE_DISK: '100%' });
  const count = async () => (await cp.client.deployments(PROJECT, { service: 'web', env: 'production', limit: 200 })).deployments.length;
  const deploymentsBefore = await count();
  const releasesBefore = (await releases()).length;

  const image = await buildImage(DEPLOYS + 1);
  const err = await cp.client.redeploy(PROJECT, 'web', { image }).then(
    () => assert.fail('a redeploy was accepted on a low disk'),
    (e: ApiError) => e,
  );
  assert.equal(err.status, 507);
  assert.equal(err.code, 'SLW_LOW_DISK');
  assert.match(err.message, /redeploying web refused: low disk on \/\S+ \(.* free of .* \(needs .*\); SLIPWAY_MIN_FREE_DISK\)/);
  const cli = await slipway('deploy', 'web');
  assert.notEqual(cli.code, 0);
  assert.match(cli.stdout + cli.stderr, /deploying web refused: low disk/, cli.stdout + cli.stderr);
  assert.equal(await count(), deploymentsBefore, 'no deployment was recorded');
  assert.equal((await releases()).length, releasesBefore, 'no release was recorded');

  const servers = await slipway('servers');
  assert.equal(servers.code, 0, servers.stderr);
  assert.match(servers.stdout, /LOW DISK: /);
  assert.match(servers.stdout, /low disk on \/\S+ .*new builds and deployments are refused/);
  const { servers: view } = await cp.client.servers();
  assert.equal(view[0]!.disk?.low, true);

  const ready = await cp.client.readiness();
  assert.equal(ready.status, 'degraded');
  assert.equal(ready.checks.disk?.status, 'fail');
  assert.match(ready.checks.disk?.output ?? '', /low disk/);

  // Rollbacks still run on a low disk (they need no new image).
  const rb = await slipway('rollback', 'web', `v${DEPLOYS + 1}`);
  assert.equal(rb.code, 0, rb.stdout + rb.stderr);
});
