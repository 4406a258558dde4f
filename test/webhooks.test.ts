/**
 * Push webhooks against a real control plane, a local bare git repository, Docker and
 * HAProxy: a signed GitHub push to `main` deploys that commit to staging (slipway.yml at the
 * commit maps main → staging); a push to `prod` waits for approval because production
 * requires it; bad, missing and replayed signatures are refused, audited, and build nothing;
 * Slipway's generic signed payload works too.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cliFor } from './support/cli';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject } from './support/test-project';
import { waitDeployment } from './support/wait-deployment';

const cp = await ControlPlaneProcess.create('hooks');
const app = new TestProject('hooks');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'slipway-hooks-'));
const work = path.join(scratch, 'work');
const bare = path.join(scratch, 'hooks.git');
let secret = '';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Slipway Test', '-c', 'user.email=test@slipway.invalid', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8' }).trim();

/** Commits a version on a branch of the work tree and pushes it to the bare repository. */
function commit(branch: string, version: string): string {
  git(work, 'checkout', '-q', '-B', branch);
  const config = app.configText({
    version,
    replicas: 1,
    environments: { staging: { services: { web: { domains: ['staging.hooks.test.localhost'] } } }, production: { approval: 'required' } },
  });
  writeFileSync(path.join(work, 'slipway.yml'), `branches: { main: staging, prod: production }\n${config}`);
  git(work, 'add', '-A');
  git(work, 'commit', '-q', '--allow-empty', '-m', `${branch} ${version}`);
  git(work, 'push', '-q', '-f', bare, `${branch}:${branch}`);
  return git(work, 'rev-parse', 'HEAD');
}

async function deliver(body: unknown, headers: Record<string, string>) {
  const res = await fetch(`http://127.0.0.1:${cp.apiPort}/api/v1/webhooks/hooks`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error?: { code: string; message: string } } };
}

function githubPush(branch: string, sha: string, opts: { secret?: string; delivery?: string; event?: string } = {}) {
  const body = { ref: `refs/heads/${branch}`, after: sha, repository: { clone_url: `file://${bare}` } };
  const raw = JSON.stringify(body);
  const signature = `sha256=${createHmac('sha256', opts.secret ?? secret).update(raw).digest('hex')}`;
  return { body, headers: { 'x-github-event': opts.event ?? 'push', 'x-github-delivery': opts.delivery ?? randomUUID(), 'x-hub-signature-256': signature } };
}

async function deploymentCount(env: string): Promise<number> {
  return (await cp.client.deployments('hooks', { env, limit: 200 }).catch(() => ({ deployments: [] }))).deployments.length;
}

before(async () => {
  await cp.start();
  await cp.client.createBaseImage('node');
  cpSync(app.dir, work, { recursive: true });
  git(work, 'init', '-q');
  git(scratch, 'init', '-q', '--bare', bare);
  await cp.client.createEnvironment('hooks', 'staging');
  const created = await cliFor(cp, app.dir)('webhook', 'create', '-p', 'hooks', '--repo', `file://${bare}`, '--json');
  assert.equal(created.code, 0, created.stderr);
  secret = (JSON.parse(created.stdout) as { secret: string }).secret;
  assert.match(secret, /^[0-9a-f]{64}$/);
});
after(async () => {
  await cp.destroy();
  rmSync(scratch, { recursive: true, force: true });
});

test('a signed GitHub push to main deploys that commit to staging', async () => {
  const sha = commit('main', 'from-main');
  const ping = githubPush('main', sha, { event: 'ping' });
  assert.equal((await deliver(ping.body, ping.headers)).body.status, 'pong');

  const push = githubPush('main', sha);
  const res = await deliver(push.body, push.headers);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  assert.equal(res.body.env, 'staging');
  assert.equal(res.body.commit, sha);
  const [id] = res.body.deployments as string[];
  const d = await waitDeployment(cp.client, id!);
  assert.equal(d.state, 'succeeded', d.error ?? '');
  assert.equal(d.env, 'staging');
  assert.equal(d.triggeredBy, `webhook:hooks (push main ${sha.slice(0, 7)})`);
  const { releases } = await cp.client.releases('hooks', 'web', 'staging');
  assert.equal(releases.find((r) => r.current)?.sourceRef, `git:${sha}`);

  const replay = await deliver(push.body, push.headers);
  assert.equal(replay.status, 409);
  assert.match(replay.body.error!.message, /already received: replays are refused/);
});

test('bad and missing signatures are refused, audited, and build nothing', async () => {
  const sha = commit('main', 'forged');
  const before = await deploymentCount('staging');
  const forged = githubPush('main', sha, { secret: 'not-the-secret' });
  const bad = await deliver(forged.body, forged.headers);
  assert.equal(bad.status, 401);
  assert.match(bad.body.error!.message, /X-Hub-Signature-256 does not match the body/);
  const unsigned = await deliver({ ref: 'main', commit: sha }, {});
  assert.equal(unsigned.status, 401);
  assert.match(unsigned.body.error!.message, /unsigned/);
  assert.equal(await deploymentCount('staging'), before);

  const { entries } = await cp.client.audit({ project: 'hooks' });
  const refused = entries.filter((e) => e.action === 'POST /api/v1/webhooks/:project' && e.outcome === 'denied');
  assert.ok(refused.length >= 2, JSON.stringify(entries));
  assert.ok(refused.every((e) => e.actor === 'webhook:hooks' && e.status === 401));
  assert.ok(entries.some((e) => e.action === 'POST /api/v1/webhooks/:project' && e.status === 409), 'the replay');
});

test('unmapped branches are ignored; production waits for approval; the generic signed payload works', async () => {
  const feature = commit('feature-x', 'feature');
  const ignored = githubPush('feature-x', feature);
  const r = await deliver(ignored.body, ignored.headers);
  assert.equal(r.status, 200);
  assert.equal(r.body.status, 'ignored');
  assert.match(String(r.body.message), /branch feature-x deploys nowhere/);

  const prod = commit('prod', 'for-prod');
  const push = githubPush('prod', prod);
  const res = await deliver(push.body, push.headers);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const waiting = (await cp.client.deployment((res.body.deployments as string[])[0]!)).deployment;
  assert.equal(waiting.state, 'awaiting_approval');
  await cp.client.cancel(waiting.id);

  const sha = commit('main', 'generic');
  const body = JSON.stringify({ ref: 'main', commit: sha });
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
  const generic = await fetch(`http://127.0.0.1:${cp.apiPort}/api/v1/webhooks/hooks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-slipway-signature': signature, 'x-slipway-timestamp': timestamp, 'x-slipway-delivery': randomUUID() },
    body,
  });
  const out = (await generic.json()) as { status: string; deployments: string[] };
  assert.equal(generic.status, 202, JSON.stringify(out));
  const d = await waitDeployment(cp.client, out.deployments[0]!);
  assert.equal(d.state, 'succeeded', d.error ?? '');
  const stale = await fetch(`http://127.0.0.1:${cp.apiPort}/api/v1/webhooks/hooks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-slipway-signature': signature, 'x-slipway-timestamp': String(Number(timestamp) - 3600), 'x-slipway-delivery': randomUUID() },
    body,
  });
  assert.equal(stale.status, 401);

  const shown = await cliFor(cp, app.dir)('webhook', 'show', '-p', 'hooks');
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /\/api\/v1\/webhooks\/hooks {2}← file:\/\/.*hooks\.git/);
  assert.ok(!shown.stdout.includes(secret), 'the secret is never shown again');
});
