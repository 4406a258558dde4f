/**
 * Issue 18, finding 1: a build context must not escape its source through a symlink.
 * A real control plane fetches a real git repository that commits `link -> <a host
 * directory holding a 0600 secret>` and sets `build: { context: link/sub }`: the deploy
 * (by a deploy token restricted to the project, and by a signed webhook push) is refused
 * with a 4xx naming build.context, nothing is recorded, built or started, and the refusal
 * is in the audit log. An uploaded context whose Dockerfile is a symlink is refused alike.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import tarStream from 'tar-stream';
import { ApiError, SlipwayClient } from '../src/client/api-client';
import { ControlPlaneProcess } from './support/control-plane-process';

const PROJECT = 'escape';
const cp = await ControlPlaneProcess.create(PROJECT);
const docker = new Docker();
const scratch = mkdtempSync(path.join(os.tmpdir(), 'slipway-escape-'));
const host = path.join(scratch, 'host');
const work = path.join(scratch, 'work');
const bare = path.join(scratch, 'escape.git');
const url = `file://${bare}`;
let deployer: SlipwayClient;

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Slipway Test', '-c', 'user.email=test@slipway.invalid', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8' }).trim();

function config(context: string, dockerfile = 'Dockerfile'): string {
  return [
    `project: ${PROJECT}`,
    'branches: { main: production }',
    'services:',
    '  web:',
    `    build: { context: ${JSON.stringify(context)}, dockerfile: ${JSON.stringify(dockerfile)} }`,
    '    port: 3000',
    `    domains: [${PROJECT}.test.localhost]`,
    '    replicas: 1',
    '',
  ].join('\n');
}

/** Nothing of the project exists: no deployment, no image built, no container started. */
async function assertNothingHappened(): Promise<void> {
  const deployments = await cp.client.deployments(PROJECT, { limit: 50 }).catch((e: ApiError) => {
    assert.equal(e.status, 404);
    return { deployments: [] };
  });
  assert.deepEqual(deployments.deployments, [], 'no deployment is recorded');
  const images = (await docker.listImages()).flatMap((i) => i.RepoTags ?? []).filter((t) => t.startsWith(`slipway/${PROJECT}-`));
  assert.deepEqual(images, [], 'no image is built');
  const containers = await docker.listContainers({ all: true, filters: { label: [`slipway.project=${PROJECT}`] } });
  assert.deepEqual(containers, [], 'no container is started');
}

/** Audit entries of one action, newest first. */
async function auditRows(action: string) {
  return (await cp.client.audit({ limit: 200 })).entries.filter((e) => e.action === action);
}

function refusal(field: string, re: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof ApiError, String(e));
    assert.equal(e.status, 400, e.message);
    assert.equal(e.code, 'SLW_CONFIG_INVALID');
    assert.equal(e.details[0]?.path, field);
    assert.match(e.message, re);
    assert.doesNotMatch(e.message, new RegExp(scratch), 'server paths are not echoed');
    return true;
  };
}

before(async () => {
  await cp.start();
  // The host directory the committed link points at, with a file only its owner may read.
  mkdirSync(path.join(host, 'sub'), { recursive: true });
  writeFileSync(path.join(host, 'sub', 'Dockerfile'), 'FROM scratch\nCOPY secret.txt /secret.txt\n');
  writeFileSync(path.join(host, 'sub', 'secret.txt'), 'host secret', { mode: 0o600 });
  mkdirSync(work);
  git(work, 'init', '-q');
  writeFileSync(path.join(work, 'slipway.yml'), config('link/sub'));
  symlinkSync(host, path.join(work, 'link'));
  git(work, 'add', '-A');
  git(work, 'commit', '-q', '-m', 'context through a committed symlink');
  git(scratch, 'clone', '-q', '--bare', work, bare);
  const { token } = await cp.client.createToken({ name: 'escape-deployer', scope: 'deploy', project: PROJECT });
  deployer = new SlipwayClient({ url: `http://127.0.0.1:${cp.apiPort}`, token });
});
after(async () => {
  await cp.destroy();
  rmSync(scratch, { recursive: true, force: true });
});

test('a git build context reached through a committed symlink is refused with a 400 naming build.context, builds nothing, and is audited', async () => {
  const before = (await auditRows('POST /api/v1/deployments')).length;
  await assert.rejects(
    deployer.deploy({ config: config('link/sub'), git: { url, ref: 'main', path: '' } }),
    refusal('services.web.build.context', /^services\.web\.build\.context: "link\/sub" goes through the symlink "link"/),
  );
  // ".." after the link, and the link itself as the context, are refused the same way.
  await assert.rejects(deployer.deploy({ config: config('link/../link/sub'), git: { url, ref: 'main', path: '' } }), refusal('services.web.build.context', /goes through the symlink "link"/));
  await assert.rejects(deployer.deploy({ config: config('link'), git: { url, ref: 'main', path: '' } }), refusal('services.web.build.context', /goes through the symlink "link"/));
  await assertNothingHappened();
  const rows = await auditRows('POST /api/v1/deployments');
  assert.equal(rows.length, before + 3, 'each refused deploy has its audit row');
  const row = rows[0]!;
  assert.equal(row.outcome, 'error');
  assert.equal(row.status, 400);
  assert.equal(row.project, PROJECT);
  assert.match(row.actor, /escape-deployer|tok_/);
});

test('a signed webhook push of that commit is refused the same way and audited', async () => {
  const { secret } = await cp.client.createWebhook(PROJECT, { repository: url, path: '' });
  const sha = git(work, 'rev-parse', 'HEAD');
  const raw = JSON.stringify({ ref: 'refs/heads/main', after: sha, repository: { clone_url: url } });
  const res = await fetch(`http://127.0.0.1:${cp.apiPort}/api/v1/webhooks/${PROJECT}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`,
    },
    body: raw,
  });
  const body = (await res.json()) as { error?: { code: string; message: string; details: Array<{ path: string }> } };
  assert.equal(res.status, 400, JSON.stringify(body));
  assert.equal(body.error?.code, 'SLW_CONFIG_INVALID');
  assert.equal(body.error?.details[0]?.path, 'services.web.build.context');
  assert.match(body.error?.message ?? '', /goes through the symlink "link"/);
  await assertNothingHappened();
  const row = (await auditRows('POST /api/v1/webhooks/:project'))[0];
  assert.ok(row, 'the refused delivery is audited');
  assert.equal(row.outcome, 'error');
  assert.equal(row.status, 400);
});

test('an uploaded build context whose Dockerfile is a symlink is refused with a 400 naming build.dockerfile', async () => {
  const pack = tarStream.pack();
  pack.entry({ name: 'Dockerfile', type: 'symlink', linkname: path.join(host, 'sub', 'Dockerfile') });
  pack.entry({ name: 'docker', type: 'symlink', linkname: path.join(host, 'sub') });
  pack.entry({ name: 'server.js', type: 'file' }, 'console.log(1)\n');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  const bytes = Buffer.concat(chunks);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  await deployer.uploadSource(PROJECT, sha256, new Blob([bytes]).stream(), bytes.length);

  const before = (await auditRows('POST /api/v1/deployments')).length;
  await assert.rejects(
    deployer.deploy({ config: config('.'), sources: { web: { sha256 } } }),
    refusal('services.web.build.dockerfile', /^services\.web\.build\.dockerfile: "Dockerfile" goes through the symlink "Dockerfile"/),
  );
  await assert.rejects(deployer.deploy({ config: config('.', 'docker/Dockerfile'), sources: { web: { sha256 } } }), refusal('services.web.build.dockerfile', /goes through the symlink "docker"/));
  await assertNothingHappened();
  const rows = await auditRows('POST /api/v1/deployments');
  assert.equal(rows.length, before + 2);
  assert.deepEqual(rows.slice(0, 2).map((r) => [r.outcome, r.status]), [['error', 400], ['error', 400]]);
});
