/**
 * Users, tokens, contexts and the audit log through the CLI against a real control plane:
 * password sign-in saves a context, tokens are created with a scope and a project, a read
 * token cannot deploy, a project-restricted token sees only its project, deployments record
 * who triggered them, and `slipway audit` shows what happened; removing a user revokes the
 * tokens they created; token-less floods are cut off and audited as counts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import http from 'node:http';
import { promisify } from 'node:util';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject } from './support/test-project';
import { deployAndWait } from './support/wait-deployment';

const execFileP = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, '../bin/slipway.mjs');
const cp = await ControlPlaneProcess.create('access');
const app = new TestProject('access');
const configDir = mkdtempSync(path.join(os.tmpdir(), 'slipway-cli-config-'));
const PASSWORD = 'access-test-password-9f2c';

/** The CLI with only a config dir: no SLIPWAY_URL/TOKEN, so contexts decide. */
async function slipway(args: string[], env: NodeJS.ProcessEnv = {}, cwd = app.dir) {
  const base: NodeJS.ProcessEnv = { ...process.env, SLIPWAY_CONFIG_DIR: configDir, SLIPWAY_DATA_DIR: path.join(configDir, 'no-local-server') };
  delete base.SLIPWAY_URL;
  delete base.SLIPWAY_TOKEN;
  try {
    const r = await execFileP(process.execPath, [BIN, ...args], { cwd, env: { ...base, ...env } });
    return { code: 0, ...r };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

before(async () => {
  await cp.start({ SLIPWAY_ADMIN_PASSWORD: PASSWORD });
  await cp.client.createBaseImage('node');
});
after(async () => {
  await cp.destroy();
  rmSync(configDir, { recursive: true, force: true });
});

test('login with a password saves a context; whoami and context commands use it', async () => {
  const url = `http://127.0.0.1:${cp.apiPort}`;
  const wrong = await slipway(['login', '--url', url, '--user', 'admin'], { SLIPWAY_PASSWORD: 'not it' });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /wrong user name or password \[SLW_UNAUTHORIZED\]/);

  const ok = await slipway(['login', '--url', url, '--user', 'admin', '--name', 'local'], { SLIPWAY_PASSWORD: PASSWORD });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /signed in to .* as user:admin \(scope admin\); context "local" is now current/);
  const file = path.join(configDir, 'contexts.json');
  assert.equal(statSync(file).mode & 0o777, 0o600, 'the contexts file holds tokens: owner-only');
  assert.ok(!readFileSync(file, 'utf8').includes(PASSWORD), 'the password is not saved, only a token');

  const me = await slipway(['whoami']);
  assert.equal(me.code, 0, me.stderr);
  assert.match(me.stdout, /^user:admin \(scope admin, token tok_[0-9a-f]+\)/);
  const list = await slipway(['context', 'list']);
  assert.match(list.stdout, /\*\s+local\s+http:\/\/127\.0\.0\.1:\d+\s+user:admin/);
  const missing = await slipway(['context', 'use', 'nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no context "nope" \(known: local\)/);
});

test('a read token cannot deploy; a project token sees only its project; deployments record who', async () => {
  const spec = app.write({ version: 'one', replicas: 1 });
  const d = await deployAndWait(cp.client, spec);
  assert.equal(d.state, 'succeeded', d.error ?? '');
  assert.match(d.triggeredBy ?? '', /^token:local admin \(data directory\) \(tok_local_admin_[0-9a-f]+\)$/);

  const read = await slipway(['tokens', 'create', '--name', 'dashboard', '--scope', 'read', '--json']);
  assert.equal(read.code, 0, read.stderr);
  const readToken = (JSON.parse(read.stdout) as { token: string }).token;
  const denied = await slipway(['deploy', '--token', readToken, '--url', `http://127.0.0.1:${cp.apiPort}`]);
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /needs a token with the deploy scope; token:dashboard \(tok_[0-9a-f]+\) has read \[SLW_FORBIDDEN\]/);
  const status = await slipway(['status', '--token', readToken, '--url', `http://127.0.0.1:${cp.apiPort}`]);
  assert.equal(status.code, 0, status.stderr);

  const other = await slipway(['tokens', 'create', '--name', 'shop-ci', '--scope', 'deploy', '--project', 'shop', '--expires', '1d']);
  assert.equal(other.code, 0, other.stderr);
  assert.match(other.stderr, /copy it now, it is not shown again/);
  const shopToken = other.stdout.trim();
  const foreign = await slipway(['status', '-p', 'access', '--token', shopToken, '--url', `http://127.0.0.1:${cp.apiPort}`]);
  assert.equal(foreign.code, 1);
  assert.match(foreign.stderr, /restricted to project "shop"; it cannot reach project "access" \[SLW_FORBIDDEN\]/);
  const projects = await cp.client.projects();
  assert.ok(projects.projects.some((p) => p.name === 'access'));
  const { SlipwayClient } = await import('../src/client/api-client');
  const asShop = new SlipwayClient({ url: `http://127.0.0.1:${cp.apiPort}`, token: shopToken });
  assert.deepEqual((await asShop.projects()).projects, [], 'other projects are invisible');
  await assert.rejects(asShop.deployment(d.id), (e: { status: number }) => e.status === 403);

  const tokens = await slipway(['tokens', 'list']);
  assert.match(tokens.stdout, /shop-ci\s+deploy\s+shop\s+active/);
  assert.ok(!tokens.stdout.includes(shopToken) && !tokens.stdout.includes(readToken), 'secrets are never listed');
  const id = /(tok_[0-9a-f]+)\s+shop-ci/.exec(tokens.stdout)![1]!;
  assert.equal((await slipway(['tokens', 'revoke', id])).code, 0);
  const revoked = await slipway(['whoami', '--token', shopToken, '--url', `http://127.0.0.1:${cp.apiPort}`]);
  assert.equal(revoked.code, 1);
  assert.match(revoked.stderr, /was revoked \[SLW_UNAUTHORIZED\]/);
});

test('users can be added and sign in with their scope; the audit log shows who did what', async () => {
  const add = await slipway(['users', 'add', 'bob', '--scope', 'read'], { SLIPWAY_PASSWORD: 'bobs-long-password' });
  assert.equal(add.code, 0, add.stderr);
  const weak = await slipway(['users', 'add', 'eve'], { SLIPWAY_PASSWORD: 'short' });
  assert.equal(weak.code, 1);
  assert.match(weak.stderr, /password: must be at least 12 characters/);
  const bob = await slipway(['login', '--url', `http://127.0.0.1:${cp.apiPort}`, '--user', 'bob', '--name', 'bob'], { SLIPWAY_PASSWORD: 'bobs-long-password' });
  assert.equal(bob.code, 0, bob.stderr);
  assert.match(bob.stdout, /as user:bob \(scope read\)/);
  const tokensAsBob = await slipway(['tokens', 'list']);
  assert.equal(tokensAsBob.code, 1);
  assert.match(tokensAsBob.stderr, /needs a token with the admin scope/);
  assert.equal((await slipway(['context', 'use', 'local'])).code, 0);

  const audit = await slipway(['audit', '--since', '1h', '--json']);
  assert.equal(audit.code, 0, audit.stderr);
  const entries = JSON.parse(audit.stdout) as Array<{ actor: string; action: string; outcome: string; project: string | null; detail: string | null }>;
  assert.ok(entries.some((e) => e.action === 'POST /api/v1/deployments' && e.outcome === 'ok' && e.project === 'access' && /^deployments /.test(e.detail ?? '')));
  // The read token's deploy was refused at its first call (asking whether the server has the build context).
  assert.ok(entries.some((e) => e.outcome === 'denied' && e.actor.startsWith('token:dashboard')), JSON.stringify(entries.filter((e) => e.outcome === 'denied')));
  assert.ok(entries.some((e) => e.action === 'POST /api/v1/login' && e.outcome === 'denied'));
  assert.ok(entries.some((e) => e.action === 'POST /api/v1/users' && e.actor === 'user:admin'));
  assert.ok(!audit.stdout.includes('bobs-long-password') && !audit.stdout.includes(PASSWORD));
  const table = await slipway(['audit', '--project', 'access']);
  assert.match(table.stdout, /AT\s+ACTOR\s+ACTION/);
  const bad = await slipway(['audit', '--since', 'yesterday']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /since: must be a duration/);
});

test('removing a user revokes the tokens they created; token-less floods are cut off and audited as counts', async () => {
  const url = `http://127.0.0.1:${cp.apiPort}`;
  assert.equal((await slipway(['users', 'add', 'dana', '--scope', 'admin'], { SLIPWAY_PASSWORD: 'danas-long-password' })).code, 0);
  const dana = await slipway(['login', '--url', url, '--user', 'dana', '--name', 'dana', '--expires', '2d'], { SLIPWAY_PASSWORD: 'danas-long-password' });
  assert.equal(dana.code, 0, dana.stderr);
  // Minted by dana's 2-day sign-in without --expires: it ends with the sign-in.
  const ci = await slipway(['tokens', 'create', '--name', 'dana-ci', '--scope', 'admin', '--json']);
  assert.equal(ci.code, 0, ci.stderr);
  const minted = JSON.parse(ci.stdout) as { token: string; tokenInfo: { expiresAt: string | null; createdBy: string } };
  assert.equal(minted.tokenInfo.createdBy, 'user:dana');
  assert.ok(minted.tokenInfo.expiresAt && Date.parse(minted.tokenInfo.expiresAt) <= Date.now() + 2 * 86_400_000, `capped: ${minted.tokenInfo.expiresAt}`);
  const longer = await slipway(['tokens', 'create', '--name', 'dana-forever', '--expires', '90d']);
  assert.equal(longer.code, 1);
  assert.match(longer.stderr, /expiresIn: must not outlast the token creating it/);
  assert.equal((await slipway(['whoami', '--token', minted.token, '--url', url])).code, 0);

  assert.equal((await slipway(['context', 'use', 'local'])).code, 0);
  const removed = await slipway(['users', 'remove', 'dana']);
  assert.equal(removed.code, 0, removed.stderr);
  const after = await slipway(['whoami', '--token', minted.token, '--url', url]);
  assert.equal(after.code, 1, 'the admin token dana minted stops working with her');
  assert.match(after.stderr, /was revoked \[SLW_UNAUTHORIZED\]/);

  // 30 calls without a token from another loopback address (its own failure budget).
  const bare = () =>
    new Promise<number>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: cp.apiPort, path: '/api/v1/projects', localAddress: '127.0.0.2' }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      req.on('error', reject);
    });
  const statuses: number[] = [];
  for (let i = 0; i < 30; i++) statuses.push(await bare());
  assert.deepEqual(statuses, [...Array(10).fill(401), ...Array(20).fill(429)]);
  const audit = await slipway(['audit', '--since', '1h', '--limit', '1000', '--json']);
  const flood = (JSON.parse(audit.stdout) as Array<{ clientIp: string; count: number }>).filter((e) => e.clientIp === '127.0.0.2');
  assert.ok(flood.length <= 6, JSON.stringify(flood));
  assert.equal(flood.reduce((n, e) => n + e.count, 0), 30);
  const table = await slipway(['audit', '--since', '1h']);
  assert.match(table.stdout, /127\.0\.0\.2\s+denied 429 ×\d+/);
});
