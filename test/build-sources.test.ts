/**
 * Build sources, built once. The CLI uploads the build context (never a path: the server
 * reads nothing of the client's filesystem), honouring .dockerignore; unchanged contexts
 * are neither uploaded nor rebuilt. A git URL + ref is fetched by the server, which records
 * the commit. Images are tagged `<env>-<short sha or content hash>` and `<env>-v<N>`, and a
 * prebuilt image deploys as is. Bad sources are refused before anything is recorded.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import type { ApiError } from '../src/client/api-client';
import { uploadBuildContexts } from '../src/client/upload-contexts';
import { cliFor } from './support/cli';
import { ControlPlaneProcess } from './support/control-plane-process';
import { getWithHost } from './support/http-get';
import { TestProject } from './support/test-project';
import { deploymentLog, waitDeployment } from './support/wait-deployment';

const cp = await ControlPlaneProcess.create('sources');
const app = new TestProject('sources');
const docker = new Docker();
const cli = cliFor(cp, app.dir);
const scratch = mkdtempSync(path.join(os.tmpdir(), 'slipway-git-'));

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Slipway Test', '-c', 'user.email=test@slipway.invalid', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8' }).trim();

async function imageTags(digest: string): Promise<string[]> {
  return (await docker.getImage(digest).inspect()).RepoTags ?? [];
}

async function served(): Promise<string> {
  return (await getWithHost(cp.httpPort, app.domain)).body;
}

async function liveRelease() {
  const { releases } = await cp.client.releases('sources', 'web');
  return releases.find((r) => r.current)!;
}

before(async () => {
  await cp.start();
  await cp.client.createBaseImage('node');
});
after(async () => {
  await cp.destroy();
  rmSync(scratch, { recursive: true, force: true });
});

test('the CLI uploads the context with progress; .dockerignore is honoured; unchanged source is neither uploaded nor rebuilt', async () => {
  app.write({ version: 'one', replicas: 1 });
  writeFileSync(path.join(app.dir, 'debug.log'), 'ignored by .dockerignore');
  const first = await cli('deploy');
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /context of web: \d+ files, [\d.]+ KiB \(content [0-9a-f]{12}\)/);
  assert.match(first.stderr, /uploaded [\d.]+ KiB in \d+ ms/);
  const v1 = await liveRelease();
  assert.match(v1.sourceRef ?? '', /^content:[0-9a-f]{64}$/);
  const contentTag = `slipway/sources-web:production-${v1.sourceRef!.slice(8, 20)}`;
  assert.ok((await imageTags(v1.imageDigest)).includes(contentTag), `tags: ${await imageTags(v1.imageDigest)}`);
  assert.ok((await imageTags(v1.imageDigest)).includes('slipway/sources-web:production-v1'));
  assert.match(await served(), /one/);

  // Only an ignored file changes: same content address, no upload, no build.
  writeFileSync(path.join(app.dir, 'debug.log'), 'changed, still ignored');
  const again = await cli('deploy');
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /unchanged: the server already has it, nothing to upload/);
  assert.doesNotMatch(again.stderr, /uploaded/);
  const v2 = await liveRelease();
  assert.equal(v2.number, 2);
  assert.equal(v2.imageDigest, v1.imageDigest, 'the same image, not a rebuild');
  const { deployments } = await cp.client.deployments('sources', { service: 'web', limit: 1 });
  assert.match(await deploymentLog(cp.client, deployments[0]!.id), /source unchanged \(content [0-9a-f]{12}\): reusing image/);
});

test('the server builds from the uploaded bytes alone: the directory may be gone by then', async () => {
  const gone = new TestProject('sources');
  const spec = gone.write({ version: 'from-upload', replicas: 1 });
  writeFileSync(path.join(gone.dir, 'server.js'), `${readFileSync(path.join(gone.dir, 'server.js'), 'utf8')}\n// uploaded copy ${randomUUID()}\n`);
  const sources = await uploadBuildContexts(cp.client, spec);
  rmSync(gone.dir, { recursive: true, force: true });
  const { deployments } = await cp.client.deploy({ config: spec.config, sources });
  const d = await waitDeployment(cp.client, deployments[0]!.id);
  assert.equal(d.state, 'succeeded', d.error ?? '');
  assert.match(await deploymentLog(cp.client, d.id), /building slipway\/sources-web:src-[0-9a-f]{16} from context [0-9a-f]{12}/);
  assert.match(await served(), /from-upload/);
});

test('a clean git checkout names the build by its commit', async () => {
  const repo = path.join(scratch, 'work');
  cpSync(app.dir, repo, { recursive: true });
  app.write({ version: 'committed', replicas: 1 });
  cpSync(path.join(app.dir, 'slipway.yml'), path.join(repo, 'slipway.yml'));
  writeFileSync(path.join(repo, '.gitignore'), '*.log\n');
  git(repo, 'init', '-q');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'committed');
  const commit = git(repo, 'rev-parse', 'HEAD');
  const r = await cliFor(cp, repo)('deploy');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`commit ${commit.slice(0, 7)}`));
  const live = await liveRelease();
  assert.equal(live.sourceRef, `git:${commit}`);
  assert.ok((await imageTags(live.imageDigest)).includes(`slipway/sources-web:production-${commit.slice(0, 7)}`));
});

test('the server fetches a git repository at a branch, tag or commit and records the commit', async () => {
  const work = path.join(scratch, 'upstream');
  cpSync(app.dir, work, { recursive: true });
  rmSync(path.join(work, '.git'), { recursive: true, force: true });
  const bare = path.join(scratch, 'upstream.git');
  git(work, 'init', '-q');
  writeFileSync(path.join(work, 'slipway.yml'), app.configText({ version: 'git-one', replicas: 1 }));
  git(work, 'add', '-A');
  git(work, 'commit', '-q', '-m', 'one');
  git(work, 'tag', 'v1');
  const one = git(work, 'rev-parse', 'HEAD');
  writeFileSync(path.join(work, 'server.js'), `${readFileSync(path.join(work, 'server.js'), 'utf8')}\n// two\n`);
  git(work, 'commit', '-q', '-am', 'two');
  const two = git(work, 'rev-parse', 'HEAD');
  git(scratch, 'clone', '-q', '--bare', work, bare);
  const url = `file://${bare}`;
  // slipway.yml names the repository; deploys from elsewhere need only --ref.
  const elsewhere = new TestProject('sources');
  writeFileSync(path.join(elsewhere.dir, 'slipway.yml'), `repository: ${url}\n${app.configText({ version: 'git-one', replicas: 1 })}`);
  const run = cliFor(cp, elsewhere.dir);

  const byBranch = await run('deploy', '--ref', 'main');
  assert.equal(byBranch.code, 0, byBranch.stderr);
  assert.match(byBranch.stdout, new RegExp(`fetching file://.*upstream\\.git at main[\\s\\S]*commit ${two}`));
  let live = await liveRelease();
  assert.equal(live.sourceRef, `git:${two}`);
  assert.ok((await imageTags(live.imageDigest)).includes(`slipway/sources-web:production-${two.slice(0, 7)}`));

  const byTag = await run('deploy', '--ref', 'v1');
  assert.equal(byTag.code, 0, byTag.stderr);
  live = await liveRelease();
  assert.equal(live.sourceRef, `git:${one}`);

  const bySha = await run('deploy', '--git', url, '--ref', two, '--json', '--detach');
  assert.equal(bySha.code, 0, bySha.stderr);
  const d = await waitDeployment(cp.client, (JSON.parse(bySha.stdout) as Array<{ id: string }>)[0]!.id);
  assert.equal(d.state, 'succeeded', d.error ?? '');
  assert.match(await deploymentLog(cp.client, d.id), new RegExp(`source unchanged \\(commit ${two.slice(0, 7)}`), 'the same commit is not built twice');
  assert.equal((await liveRelease()).sourceRef, `git:${two}`);

  const before = (await cp.client.deployments('sources', { service: 'web', limit: 200 })).deployments.length;
  const missing = await run('deploy', '--ref', 'no-such-branch');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /upstream\.git has no branch or tag "no-such-branch" \[SLW_NOT_FOUND\]/);
  const badRef = await run('deploy', '--ref', '--upload-pack=touch /tmp/x');
  assert.equal(badRef.code, 1);
  assert.match(badRef.stderr, /--ref: must be a branch, tag or commit SHA/);
  const noRepo = await run('deploy', '--git', `file://${scratch}/nothing.git`, '--ref', 'main');
  assert.equal(noRepo.code, 1);
  assert.match(noRepo.stderr, /git ls-remote of file:\/\/.*nothing\.git failed: .*(does not appear to be a git repository|not a git repository)/i);
  assert.equal((await cp.client.deployments('sources', { service: 'web', limit: 200 })).deployments.length, before, 'refused deploys record nothing');
});

test('a prebuilt image deploys as is; a missing one is refused and changes nothing', async () => {
  const run = cliFor(cp, app.dir);
  app.write({ version: 'prebuilt', replicas: 1 });
  const ok = await run('deploy', '--image', 'slipway/sources-web:production-v1');
  assert.equal(ok.code, 0, ok.stderr);
  const live = await liveRelease();
  assert.equal(live.imageDigest, (await docker.getImage('slipway/sources-web:production-v1').inspect()).Id);
  assert.equal(live.sourceRef, null);
  assert.doesNotMatch(ok.stdout, /building/);

  const before = (await cp.client.deployments('sources', { service: 'web', limit: 200 })).deployments.length;
  const missing = await run('deploy', '--image', 'slipway/does-not-exist:1');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /image "slipway\/does-not-exist:1" of web is not on this host.*docker load.*\[SLW_NOT_FOUND\]/);
  assert.equal((await cp.client.deployments('sources', { service: 'web', limit: 200 })).deployments.length, before);
  assert.equal((await liveRelease()).number, live.number, 'the refused deploy shifted nothing');

  writeFileSync(path.join(app.dir, 'slipway.yml'), app.configText({ version: 'x', service: { build: { context: '.', dockerfile: 'Missing.Dockerfile' } } }));
  const noDockerfile = await run('deploy');
  assert.equal(noDockerfile.code, 1);
  assert.match(noDockerfile.stderr, /no Dockerfile at .*Missing\.Dockerfile \[SLW_BUILD_FAILED\]/);
  assert.equal((await cp.client.deployments('sources', { service: 'web', limit: 200 })).deployments.length, before);

  await assert.rejects(cp.client.deploy({ config: app.configText({ version: 'x' }) }), (e: ApiError) => e.status === 400 && /web builds from a directory, but the deploy carried no source/.test(e.message) && e.details[0]?.path === 'sources.web');
  await assert.rejects(cp.client.deploy({ config: app.configText({ version: 'x' }), sources: { web: { sha256: 'f'.repeat(64) } } }), (e: ApiError) => e.status === 404 && /was not uploaded/.test(e.message));
  await assert.rejects(cp.client.deploy({ config: app.configText({ version: 'x' }), sources: { api: { sha256: 'f'.repeat(64) } } }), (e: ApiError) => e.status === 400 && e.details[0]?.path === 'sources.api');
});
