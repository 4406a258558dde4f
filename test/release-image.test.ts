/**
 * A release command from its own image (`release: { build: ./migrator, command }`), against a
 * real control plane, Docker and HAProxy: the CLI's upload carries the migrator's context
 * (`sources["web:release"]`), the build phase builds it (tagged
 * `slipway/<project>-web-release:src-…`, labelled for the project) and pins it with the
 * release; the release command runs in it (a file only the migrator image has) with the
 * release's environment, before any replica starts; an unchanged migrator is reused; a failing
 * one fails the deployment before any replica starts while the live release keeps serving.
 * Bad requests are refused naming the field. `release: { image, command }` with an image built on
 * this host runs the command in that image (by its ID) before any replica starts, the release
 * keeps that ID pinned when the tag moves on, and a rollback never runs the command.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import Docker from 'dockerode';
import type { ApiError } from '../src/client/api-client';
import { runBuild } from '../src/drivers/docker/build';
import { packEntries } from '../src/source/tar-pack';
import { ControlPlaneProcess } from './support/control-plane-process';
import { getWithHost } from './support/http-get';
import { TestProject } from './support/test-project';
import { deployAndWait, deploymentLog, waitDeployment } from './support/wait-deployment';

const cp = await ControlPlaneProcess.create('release-image');
const app = new TestProject('relimg');
const docker = new Docker();
/** Images built by the test itself (a moved tag leaves the previous one untagged). */
const builtHere: string[] = [];

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
  for (const repo of ['slipway/relimg-web-release', 'slipway/relimg-web', 'slipway/relimg-pinned']) {
    for (const img of await docker.listImages({ filters: { reference: [repo] } })) await docker.getImage(img.Id).remove({ force: true }).catch(() => undefined);
  }
  for (const id of builtHere) await docker.getImage(id).remove({ force: true }).catch(() => undefined);
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

test('release: { image, command }: the command runs in that local image (by ID) before any replica; the release keeps it pinned when the tag moves; a rollback never runs it', async () => {
  const PINNED = 'slipway/relimg-pinned:local';
  // A migrator image made on this host outside Slipway (as `docker build` would): the tag is what slipway.yml names.
  const buildPinned = async (word: string): Promise<string> => {
    const migrate = `console.log(\`pinned migrator ${word}: migrated for \${process.env.APP_VERSION} \${process.env.SLIPWAY_RELEASE}\`);\n`;
    await runBuild(docker, packEntries([
      { type: 'content', name: 'Dockerfile', content: 'FROM slipway/node:20\nCOPY migrate.js /pinned/migrate.js\n', mode: 0o644 },
      { type: 'content', name: 'migrate.js', content: migrate, mode: 0o644 },
    ]), { tag: PINNED, dockerfile: 'Dockerfile' });
    const id = (await docker.getImage(PINNED).inspect()).Id;
    builtHere.push(id);
    return id;
  };
  /** The release image a release of web recorded (the store, as the engine reads it back). */
  const pinnedOf = (n: number): { imageRef?: string; imageDigest?: string; command?: unknown } => {
    const db = new Database(path.join(cp.dataDir, 'slipway.db'), { readonly: true });
    try {
      const row = db.prepare("SELECT r.config FROM releases r JOIN services s ON s.id = r.service_id JOIN projects p ON p.id = s.project_id JOIN environments e ON e.id = r.environment_id WHERE p.name = 'relimg' AND s.name = 'web' AND e.name = 'production' AND r.number = ?").get(n) as { config: string } | undefined;
      assert.ok(row, `release v${n} is recorded`);
      const config = JSON.parse(row.config) as { release?: { imageRef?: string; imageDigest?: string }; releaseCommand?: unknown };
      return { ...config.release, command: config.releaseCommand };
    } finally {
      db.close();
    }
  };
  const service = { release: { image: PINNED, command: ['node', '/pinned/migrate.js'] } };

  const idA = await buildPinned('A');
  const d = await deployAndWait(cp.client, app.write({ version: 'pin-a', replicas: 1, service }));
  const log = await deploymentLog(cp.client, d.id);
  assert.equal(d.state, 'succeeded', log);
  const n = d.releaseNumber!;
  assert.match(log, /preparing the release command's image \(image slipway\/relimg-pinned:local\)/);
  assert.ok(log.includes(`✔ release image: ${PINNED} (${idA.slice(0, 19)})`), log);
  assert.ok(log.includes(`running release command ["node","/pinned/migrate.js"] in a one-off container of v${n} from its release image ${PINNED} (${idA.slice(0, 19)})`), log);
  assert.equal((log.match(new RegExp(`release \\| pinned migrator A: migrated for pin-a v${n}$`, 'gm')) ?? []).length, 1, log);
  assert.ok(log.indexOf('release | pinned migrator A') < log.search(/started relimg-web-/), 'the command ran before any replica started');
  assert.deepEqual(pinnedOf(n), { imageRef: PINNED, imageDigest: idA, source: { kind: 'image', ref: PINNED }, command: ['node', '/pinned/migrate.js'] });
  assert.match((await getWithHost(cp.httpPort, app.domain)).body, /"version":"pin-a"/);

  // The tag moves to another image: the next release runs and pins that one; v<n> keeps its own.
  const idB = await buildPinned('B');
  assert.notEqual(idB, idA);
  const d2 = await deployAndWait(cp.client, app.write({ version: 'pin-b', replicas: 1, service }));
  const log2 = await deploymentLog(cp.client, d2.id);
  assert.equal(d2.state, 'succeeded', log2);
  assert.equal(d2.releaseNumber, n + 1);
  assert.ok(log2.includes(`from its release image ${PINNED} (${idB.slice(0, 19)})`), log2);
  assert.match(log2, new RegExp(`release \\| pinned migrator B: migrated for pin-b v${n + 1}$`, 'm'));
  assert.doesNotMatch(log2, /pinned migrator A/);
  assert.equal(pinnedOf(n + 1).imageDigest, idB);
  assert.equal(pinnedOf(n).imageDigest, idA, 'v<n> still pins the image it ran');

  // Rolling back to v<n> runs no release command at all: neither its pinned image nor the tag's current one.
  const { deployment } = await cp.client.rollback('relimg', 'web', { release: n });
  const rb = await waitDeployment(cp.client, deployment.id);
  const rbLog = await deploymentLog(cp.client, rb.id);
  assert.equal(rb.state, 'succeeded', rbLog);
  assert.equal(rb.releaseNumber, n);
  assert.match(rbLog, new RegExp(`rolling back relimg/web in production to v${n} \\(.*release command not re-run\\)`));
  assert.doesNotMatch(rbLog, /running release command|pinned migrator|release \|/);
  assert.ok(!rb.steps.some((st) => st.name === 'release command' || st.name === 'release image'), JSON.stringify(rb.steps.map((st) => st.name)));
  assert.match((await getWithHost(cp.httpPort, app.domain)).body, /"version":"pin-a"/);
  const releases = (await cp.client.releases('relimg', 'web')).releases;
  assert.equal(releases.find((r) => r.current)?.number, n);
  assert.equal(pinnedOf(n).imageDigest, idA, 'the rollback left the pin as it was');
});
