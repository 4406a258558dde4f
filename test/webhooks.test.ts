/**
 * Push webhooks against a real control plane, a local bare git repository, Docker and
 * HAProxy: a signed GitHub push to `main` deploys that commit to staging (slipway.yml at the
 * commit maps main → staging); a push to `prod` waits for approval because production
 * requires it; bad, missing and replayed signatures are refused, audited, and build nothing;
 * Slipway's generic signed payload works too (its delivery id and timestamp are signed); a
 * captured push replayed under a new delivery id, or a push of a commit older than the live
 * one, is refused unless it is a forced push the live slipway.yml allows. A push to a branch
 * matching a pattern (`release/*`) and of an annotated tag matching `tags:` (`v*`) deploy the
 * right commits (the tag peeled) to the right environments, each deployment recording the ref.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
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

const TRIGGERS = 'branches: { main: staging, prod: production, "release/*": staging }\ntags: { "v*": production }\n';

/** Commits a version on a branch of the work tree and pushes it to the bare repository. */
function commit(branch: string, version: string, head = ''): string {
  git(work, 'checkout', '-q', '-B', branch);
  const config = app.configText({
    version,
    replicas: 1,
    environments: { staging: { services: { web: { domains: ['staging.hooks.test.localhost'] } } }, production: { approval: 'required' } },
  });
  writeFileSync(path.join(work, 'slipway.yml'), `${TRIGGERS}${head}${config}`);
  git(work, 'add', '-A');
  git(work, 'commit', '-q', '--allow-empty', '-m', `${branch} ${version}`);
  git(work, 'push', '-q', '-f', bare, `${branch}:${branch}`);
  return git(work, 'rev-parse', 'HEAD');
}

/**
 * POSTs a delivery from `from` (a loopback address): refused deliveries count towards the
 * per-IP failure limit (10 a minute), so tests that send many use their own address.
 */
function post(body: string, headers: Record<string, string>, from = '127.0.0.1') {
  return new Promise<{ status: number; body: Record<string, unknown> & { deployments?: string[]; error?: { code: string; message: string } } }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: cp.apiPort, path: '/api/v1/webhooks/hooks', method: 'POST', localAddress: from, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const deliver = (body: unknown, headers: Record<string, string>, from?: string) => post(JSON.stringify(body), headers, from);

function githubPush(branch: string, sha: string, opts: { secret?: string; delivery?: string; event?: string; forced?: boolean; ref?: string } = {}) {
  const body = { ref: opts.ref ?? `refs/heads/${branch}`, after: sha, forced: opts.forced ?? false, repository: { clone_url: `file://${bare}` }, head_commit: { timestamp: new Date().toISOString() } };
  const raw = JSON.stringify(body);
  const signature = `sha256=${createHmac('sha256', opts.secret ?? secret).update(raw).digest('hex')}`;
  return { body, headers: { 'x-github-event': opts.event ?? 'push', 'x-github-delivery': opts.delivery ?? randomUUID(), 'x-hub-signature-256': signature } };
}

/** Slipway's generic form: HMAC-SHA256 of `<timestamp>.<delivery id>.<body>`. */
function genericHeaders(body: string, o: { timestamp?: string; delivery?: string; signTimestamp?: string; signDelivery?: string } = {}) {
  const timestamp = o.timestamp ?? String(Math.floor(Date.now() / 1000));
  const delivery = o.delivery ?? randomUUID();
  const signed = `${o.signTimestamp ?? timestamp}.${o.signDelivery ?? delivery}.${body}`;
  return { 'content-type': 'application/json', 'x-slipway-signature': `sha256=${createHmac('sha256', secret).update(signed).digest('hex')}`, 'x-slipway-timestamp': timestamp, 'x-slipway-delivery': delivery };
}

const deliverGeneric = (body: string, headers: Record<string, string>) => post(body, headers, '127.0.0.3');

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

  // GitHub signs the body only: the captured push under a fresh X-GitHub-Delivery is the same push.
  const deployments = await deploymentCount('staging');
  const renamed = await deliver(push.body, { ...push.headers, 'x-github-delivery': randomUUID() });
  assert.equal(renamed.status, 409, JSON.stringify(renamed.body));
  assert.equal(renamed.body.error!.code, 'SLW_CONFLICT');
  assert.match(renamed.body.error!.message, /was already accepted \(same signed body under delivery github:.*\): replays are refused/);
  assert.equal(await deploymentCount('staging'), deployments, 'the replay deployed nothing');
  const { entries } = await cp.client.audit({ project: 'hooks' });
  assert.ok(entries.some((e) => e.action === 'POST /api/v1/webhooks/:project' && e.status === 409 && /already accepted/.test(e.detail ?? '')), JSON.stringify(entries.slice(0, 5)));
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
  const before = await deploymentCount('staging');
  // Signed for one delivery id / timestamp, sent with another: the id and timestamp are signed.
  const signedId = randomUUID();
  const tamperedId = await deliverGeneric(body, genericHeaders(body, { delivery: randomUUID(), signDelivery: signedId }));
  assert.equal(tamperedId.status, 401, JSON.stringify(tamperedId.body));
  assert.match(tamperedId.body.error!.message, /X-Slipway-Signature does not match "<X-Slipway-Timestamp>\.<X-Slipway-Delivery>\.<body>"/);
  const now = Math.floor(Date.now() / 1000);
  const tamperedTs = await deliverGeneric(body, genericHeaders(body, { timestamp: String(now - 60), signTimestamp: String(now) }));
  assert.equal(tamperedTs.status, 401, JSON.stringify(tamperedTs.body));
  const missingId = await deliverGeneric(body, { ...genericHeaders(body), 'x-slipway-delivery': '' });
  assert.equal(missingId.status, 401);
  assert.match(missingId.body.error!.message, /X-Slipway-Delivery must be a unique id/);
  const bodyOnly = genericHeaders(body);
  bodyOnly['x-slipway-signature'] = `sha256=${createHmac('sha256', secret).update(`${bodyOnly['x-slipway-timestamp']}.${body}`).digest('hex')}`;
  assert.equal((await deliverGeneric(body, bodyOnly)).status, 401, 'the old "<timestamp>.<body>" signature no longer passes');
  assert.equal(await deploymentCount('staging'), before, 'no refused delivery deployed anything');

  const headers = genericHeaders(body);
  const out = await deliverGeneric(body, headers);
  assert.equal(out.status, 202, JSON.stringify(out.body));
  const d = await waitDeployment(cp.client, out.body.deployments![0]!);
  assert.equal(d.state, 'succeeded', d.error ?? '');
  const again = await deliverGeneric(body, headers);
  assert.equal(again.status, 409, 'the same signed delivery again');
  const stale = await deliverGeneric(body, genericHeaders(body, { timestamp: String(now - 3600) }));
  assert.equal(stale.status, 401);

  const shown = await cliFor(cp, app.dir)('webhook', 'show', '-p', 'hooks');
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /\/api\/v1\/webhooks\/hooks {2}← file:\/\/.*hooks\.git/);
  assert.ok(!shown.stdout.includes(secret), 'the secret is never shown again');
});

test('a push of a commit older than the live one is refused; a forced one only when the live slipway.yml allows it', async () => {
  const FROM4 = '127.0.0.4';
  const old = commit('main', 'old');
  const live = commit('main', 'live');
  const first = githubPush('main', live);
  const res = await deliver(first.body, first.headers);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  assert.equal((await waitDeployment(cp.client, (res.body.deployments as string[])[0]!)).state, 'succeeded');
  const deployments = await deploymentCount('staging');

  // A fresh, correctly signed push of an ancestor of the live commit (e.g. an old push replayed after 30 days).
  const older = githubPush('main', old);
  const refused = await deliver(older.body, older.headers, FROM4);
  assert.equal(refused.status, 409, JSON.stringify(refused.body));
  assert.match(refused.body.error!.message, new RegExp(`push of ${old.slice(0, 7)} \\(main\\) refused: it does not descend from ${live.slice(0, 7)}, live in staging`));
  const forcedNotAllowed = githubPush('main', old, { forced: true });
  const refused2 = await deliver(forcedNotAllowed.body, forcedNotAllowed.headers, FROM4);
  assert.equal(refused2.status, 409, JSON.stringify(refused2.body));
  assert.match(refused2.body.error!.message, /slipway\.yml at [0-9a-f]{7} does not allow forced pushes of main/);
  assert.equal(await deploymentCount('staging'), deployments, 'nothing deployed');
  const { releases } = await cp.client.releases('hooks', 'web', 'staging');
  assert.equal(releases.find((r) => r.current)?.sourceRef, `git:${live}`);
  const { entries } = await cp.client.audit({ project: 'hooks' });
  assert.ok(entries.some((e) => e.status === 409 && /does not descend from/.test(e.detail ?? '')), 'the refusal is audited');

  // The live commit's slipway.yml allows forced pushes of main: the rewind is accepted.
  const allowing = commit('main', 'allowing', 'webhooks: { allow_force_push: [main] }\n');
  const third = githubPush('main', allowing);
  const r3 = await deliver(third.body, third.headers);
  assert.equal(r3.status, 202, JSON.stringify(r3.body));
  assert.equal((await waitDeployment(cp.client, (r3.body.deployments as string[])[0]!)).state, 'succeeded');
  const notForced = githubPush('main', old);
  assert.equal((await deliver(notForced.body, notForced.headers, FROM4)).status, 409, 'still refused unless forced');
  const forced = githubPush('main', old, { forced: true });
  const accepted = await deliver(forced.body, forced.headers);
  assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
  assert.match(String(accepted.body.message), /forced push over [0-9a-f]{7}, allowed by webhooks\.allow_force_push/);
  assert.equal((await waitDeployment(cp.client, (accepted.body.deployments as string[])[0]!)).state, 'succeeded');
  assert.equal((await cp.client.releases('hooks', 'web', 'staging')).releases.find((r) => r.current)?.sourceRef, `git:${old}`);
});

test('a push to a branch matching release/* and of a tag matching v* deploy the right commits where slipway.yml says, the ref recorded', async () => {
  const rel = commit('release/1.2', 'release-12');
  const push = githubPush('release/1.2', rel);
  const res = await deliver(push.body, push.headers);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  assert.deepEqual([res.body.env, res.body.branch, res.body.matched, res.body.commit], ['staging', 'release/1.2', 'release/*', rel]);
  const d = await waitDeployment(cp.client, (res.body.deployments as string[])[0]!);
  assert.equal(d.state, 'succeeded', d.error ?? '');
  assert.deepEqual(d.git, { ref: 'refs/heads/release/1.2', commit: rel });
  assert.equal(d.triggeredBy, `webhook:hooks (push release/1.2 ${rel.slice(0, 7)})`);
  assert.equal((await cp.client.releases('hooks', 'web', 'staging')).releases.find((r) => r.current)?.sourceRef, `git:${rel}`);

  // An annotated tag: GitHub's "after" is the tag object; the tagged commit is deployed.
  const tagged = commit('main', 'v1');
  git(work, 'tag', '-a', 'v1.0.0', '-m', 'v1.0.0');
  git(work, 'push', '-q', bare, 'refs/tags/v1.0.0');
  const tagObject = git(work, 'rev-parse', 'v1.0.0');
  assert.notEqual(tagObject, tagged, 'an annotated tag is an object of its own');
  const tagPush = githubPush('', tagObject, { ref: 'refs/tags/v1.0.0' });
  const out = await deliver(tagPush.body, tagPush.headers);
  assert.equal(out.status, 202, JSON.stringify(out.body));
  assert.deepEqual([out.body.env, out.body.tag, out.body.ref, out.body.matched, out.body.commit], ['production', 'v1.0.0', 'refs/tags/v1.0.0', 'v*', tagged]);
  const id = (out.body.deployments as string[])[0]!;
  const waiting = (await cp.client.deployment(id)).deployment;
  assert.equal(waiting.state, 'awaiting_approval', 'production requires approval, whatever started the deploy');
  assert.deepEqual(waiting.git, { ref: 'refs/tags/v1.0.0', commit: tagged });
  await cp.client.approve(id);
  const done = await waitDeployment(cp.client, id);
  assert.equal(done.state, 'succeeded', done.error ?? '');
  assert.equal(done.env, 'production');
  assert.equal(done.triggeredBy, `webhook:hooks (push tag v1.0.0 ${tagged.slice(0, 7)})`);
  assert.equal((await cp.client.releases('hooks', 'web', 'production')).releases.find((r) => r.current)?.sourceRef, `git:${tagged}`);
  const shown = await cliFor(cp, app.dir)('deployment', id);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, new RegExp(`pushed refs/tags/v1\\.0\\.0 at ${tagged}`));
  assert.equal((await cp.client.releases('hooks', 'web', 'staging')).releases.find((r) => r.current)?.sourceRef, `git:${rel}`, 'staging untouched');

  // A tag matching nothing is ignored, and deploys nothing.
  git(work, 'tag', 'nightly');
  git(work, 'push', '-q', bare, 'refs/tags/nightly');
  const before = await deploymentCount('production');
  const nightly = githubPush('', tagged, { ref: 'refs/tags/nightly' });
  const ignored = await deliver(nightly.body, nightly.headers);
  assert.equal(ignored.status, 200, JSON.stringify(ignored.body));
  assert.equal(ignored.body.status, 'ignored');
  assert.match(String(ignored.body.message), /^tag nightly deploys nowhere \(tags: in slipway\.yml maps v\*\)$/);
  assert.equal(await deploymentCount('production'), before);
});
