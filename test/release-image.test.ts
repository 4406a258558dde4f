/**
 * A release command from its own image (`release: { build: ./migrator, command }`), against a
 * real control plane, Docker and HAProxy: the CLI's upload carries the migrator's context
 * (`sources["web:release"]`), the build phase builds it (tagged
 * `slipway/<project>-web-release:src-…`, labelled for the project) and pins it with the
 * release; the release command runs in it (a file only the migrator image has) with the
 * release's environment, before any replica starts; an unchanged migrator is reused; a failing
 * one fails the deployment before any replica starts while the live release keeps serving.
 * Bad requests are refused naming the field.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import type { ApiError } from '../src/client/api-client';
import { ControlPlaneProcess } from './support/control-plane-process';
import { getWithHost } from './support/http-get';
import { TestProject } from './support/test-project';
import { deployAndWait, deploymentLog, waitDeployment } from './support/wait-deployment';

const cp = await ControlPlaneProcess.create('release-image');
const app = new TestProject('relimg');
const docker = new Docker();

before(async () => {
  mkdirSync(path.join(app.dir, 'migrator'));
  writeFileSync(path.join(app.dir, 'migrator', 'Dockerfile'), 'ARG BASE=slipway/node:20\nFROM ${BASE}\nCOPY migrate.js /migrator/migrate.js\nCMD ["node", "/migrator/migrate.js"]\n');
  writeFileSync(
    path.join(app.dir, 'migrator', 'migrate.js'),
    'if (process.argv.includes("--fail")) { console.error("migration 42 failed"); process.exit(4); }\nconsole.log(`migrator image: migrated for ${process.env.APP_VERSION} ${process.env.SLIPWAY_RELEASE}`);\n',
  );
  await cp.start();
  await cp.client.createBaseImage('node');
});

after(async () => {
  await cp.destroy();
  // The images this test built for its project (the shared slipway/node base stays).
  for (const repo of ['slipway/relimg-web-release', 'slipway/relimg-web']) {
    for (const img of await docker.listImages({ filters: { reference: [repo] } })) await docker.getImage(img.Id).remove({ force: true }).catch(() => undefined);
  }
});

const migrator = (command: string[]) => ({ release: { build: './migrator', command } });

test('the release command runs from the migrator image built from its own context, before any replica starts', async () => {
  const d = await deployAndWait(cp.client, app.write({ version: 'one', replicas: 1, service: migrator(['node', '/migrator/migrate.js']) }));
  const log = await deploymentLog(cp.client, d.id);
  assert.equal(d.state, 'succeeded', log);
  assert.match(log, /building slipway\/relimg-web-release:src-[0-9a-f]{16} from context/);
  assert.match(log, /in a one-off container of v1 from its release image slipway\/relimg-web-release:src-[0-9a-f]{16} \(sha256:/);
  assert.equal((log.match(/release \| migrator image: migrated for one v1/g) ?? []).length, 1, log);
  assert.ok(log.indexOf('release | migrator image') < log.search(/started relimg-web-/), 'the command ran before any replica started');

  const images = await docker.listImages({ filters: { reference: ['slipway/relimg-web-release'] } });
  assert.equal(images.length, 1);
  assert.equal(images[0]!.Labels?.['slipway.image.project'], 'relimg', 'labelled like service builds (image policy)');
  assert.equal((await getWithHost(cp.httpPort, app.domain)).status, 200);

  // Unchanged migrator source: the image is reused, not rebuilt.
  const again = await deployAndWait(cp.client, app.write({ version: 'two', replicas: 1, service: migrator(['node', '/migrator/migrate.js']) }));
  const againLog = await deploymentLog(cp.client, again.id);
  assert.equal(again.state, 'succeeded', againLog);
  assert.match(againLog, /reusing image slipway\/relimg-web-release:src-/);
  assert.match(againLog, /release \| migrator image: migrated for two v2/);
});

test('a failing migrator fails the deployment before any replica starts; the live release serves on', async () => {
  const d = await deployAndWait(cp.client, app.write({ version: 'three', replicas: 1, service: migrator(['node', '/migrator/migrate.js', '--fail']) }));
  const log = await deploymentLog(cp.client, d.id);
  assert.equal(d.state, 'failed', log);
  assert.equal(d.errorCode, 'SLW_RELEASE_COMMAND_FAILED');
  assert.match(d.error ?? '', /exited with code 4; no traffic moved/);
  assert.match(log, /release \| migration 42 failed/);
  assert.doesNotMatch(log, /started relimg-web-/, 'no replica of the failed release started');
  const res = await getWithHost(cp.httpPort, app.domain);
  assert.equal(res.status, 200);
  assert.match(res.body, /"version":"two"/);
});

test('the release context is required, and only where slipway.yml builds one; both refused naming the field', async () => {
  const config = app.configText({ version: 'four', replicas: 1, service: migrator(['node', '/migrator/migrate.js']) });
  const before = (await cp.client.deployments('relimg')).deployments.length;
  // The service's own context is uploaded already (same bytes as before); only the release one is left out.
  const { uploadBuildContexts } = await import('../src/client/upload-contexts');
  const sources = await uploadBuildContexts(cp.client, { config, dir: app.dir });
  assert.ok(sources['web:release'], 'the CLI uploads the release context under web:release');
  const { 'web:release': _release, ...withoutRelease } = sources;
  await assert.rejects(cp.client.deploy({ config, sources: withoutRelease }), (e: ApiError) => {
    assert.equal(e.status, 400);
    assert.match(e.message, /services\.web\.release builds from a directory, but the deploy carried no source for it/);
    assert.equal(e.details[0]?.path, 'sources.web:release');
    return true;
  });
  const plain = app.configText({ version: 'four', replicas: 1 });
  await assert.rejects(cp.client.deploy({ config: plain, sources }), (e: ApiError) => e.status === 400 && e.details[0]?.path === 'sources.web:release');
  await assert.rejects(cp.client.deploy({ config, sources: { ...sources, 'web:other': sources.web! } }), (e: ApiError) => e.status === 400 && e.details.some((x) => (x.path ?? '').startsWith('sources')));
  assert.equal((await cp.client.deployments('relimg')).deployments.length, before, 'nothing was recorded');
});

test('deployed from git, the release image is built from the same commit', async () => {
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=Slipway Test', '-c', 'user.email=test@slipway.invalid', '-c', 'init.defaultBranch=main', ...args], { cwd: app.dir, encoding: 'utf8' }).trim();
  const config = app.configText({ version: 'git', replicas: 1, service: migrator(['node', '/migrator/migrate.js']) });
  writeFileSync(path.join(app.dir, 'slipway.yml'), config);
  git('init', '-q');
  git('add', '-A');
  git('commit', '-q', '-m', 'with a migrator');
  const commit = git('rev-parse', 'HEAD');
  const { deployments } = await cp.client.deploy({ config, git: { url: `file://${app.dir}`, ref: 'main' } });
  const d = await waitDeployment(cp.client, deployments[0]!.id);
  const log = await deploymentLog(cp.client, d.id);
  assert.equal(d.state, 'succeeded', log);
  assert.equal((log.match(new RegExp(`commit ${commit}: context`, 'g')) ?? []).length, 2, 'the service and its release image, from one commit');
  assert.match(log, /commit [0-9a-f]{40}: context migrator is \d+ files/);
  assert.match(log, /release \| migrator image: migrated for git v\d+/);
});
