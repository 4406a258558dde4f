/**
 * Secrets end to end: set before the first deploy, pinned by releases, rolled out on
 * change (or staged), restored by rollback, re-sealed by rotate-key; bad input changes
 * nothing. The last test sweeps every API response, CLI output, log, file and label
 * this run produced and proves the values appear only inside the containers.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { ApiError } from '../src/client/api-client';
import { cliFor, type CliResult } from './support/cli';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject } from './support/test-project';
import { deploymentLog } from './support/wait-deployment';

const execFileP = promisify(execFile);
const cp = await ControlPlaneProcess.create('secrets');
const app = new TestProject('secrets');
const cli = cliFor(cp, app.dir);
const SECRET = `s3cr3t-${randomUUID()}`;
const SECRET2 = `rotated-${randomUUID()}`;
/** Every text this run saw outside the containers; the last test searches it. */
const seen: string[] = [];

async function slipway(...args: string[]): Promise<CliResult> {
  const r = await cli(...args);
  seen.push(r.stdout, r.stderr);
  return r;
}

/** What the live replica's environment holds, read inside the container. */
async function valueInContainer(name: string): Promise<string> {
  const [c] = await new Docker().listContainers({ filters: { label: ['slipway.project=secrets', 'slipway.env=production'], status: ['running'] } });
  assert.ok(c, 'a running replica');
  const { stdout } = await execFileP('docker', ['exec', c.Id, 'node', '-e', `process.stdout.write(process.env.${name} ?? '')`]);
  return stdout;
}

before(async () => {
  await cp.start();
  await cp.client.createBaseImage('node');
  app.write({
    version: '1',
    replicas: 1,
    env: { ECHO_ENV: 'API_KEY,PLAIN' , PLAIN: 'plain-value' },
    service: { release_command: ['node', '-e', 'console.log("release phase sees API_KEY=" + process.env.API_KEY)'] },
  });
});
after(() => cp.destroy());

test('secrets set before the first deploy; the release pins them; output is masked', async () => {
  const set = await slipway('secrets', 'set', `API_KEY=${SECRET}`, 'DB_URL=postgres://app:pw-1234@db/app');
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /secrets version 1 \(changed: API_KEY, DB_URL\)/);

  const list = await slipway('secrets', 'list', '--json');
  const view = JSON.parse(list.stdout) as { version: number; secrets: Array<{ name: string; version: number; updatedAt: string }> };
  assert.equal(view.version, 1);
  assert.deepEqual(view.secrets.map((s) => [s.name, s.version]), [['API_KEY', 1], ['DB_URL', 1]]);

  const deploy = await slipway('deploy');
  assert.equal(deploy.code, 0, deploy.stdout + deploy.stderr);
  assert.match(deploy.stdout, /release phase sees API_KEY=\[secret\]/, 'release-command output is masked');
  assert.match(deploy.stdout, /v1 with secrets version 1/);
  assert.equal(await valueInContainer('API_KEY'), SECRET, 'the value reaches the container');

  const releases = (await cp.client.releases('secrets', 'web')).releases;
  assert.equal(releases[0]!.secretsVersion, 1);

  const logs = await slipway('logs', 'web', '--tail', '50');
  assert.match(logs.stdout, /API_KEY=\[secret\]/, 'container logs are masked');
  assert.match(logs.stdout, /PLAIN=plain-value/, 'plain env values are not');
  const run = await slipway('run', 'web', '--', 'node', '-e', 'console.log("run sees " + process.env.API_KEY)');
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /run sees \[secret\]/);
});

test('a change is a new version, rolled out as a new release; --no-deploy stages; rollback restores the pinned version', async () => {
  const set = await slipway('secrets', 'set', `API_KEY=${SECRET2}`);
  assert.equal(set.code, 0, set.stdout + set.stderr);
  assert.match(set.stdout, /secrets version 2/);
  assert.match(set.stdout, /✔ web: running with secrets version 2/);
  assert.equal(await valueInContainer('API_KEY'), SECRET2);
  let releases = (await cp.client.releases('secrets', 'web')).releases;
  assert.deepEqual(releases.map((r) => [r.number, r.secretsVersion, r.current]), [[2, 2, true], [1, 1, false]]);
  assert.equal(releases[0]!.imageDigest, releases[1]!.imageDigest, 'same image: secrets never rebuild');

  const same = await slipway('secrets', 'set', `API_KEY=${SECRET2}`, '--json');
  assert.deepEqual((JSON.parse(same.stdout) as { changed: string[]; rollouts: unknown[] }).changed, [], 'setting the same value changes nothing');

  const staged = await slipway('secrets', 'set', 'FEATURE_FLAG=on', '--no-deploy');
  assert.equal(staged.code, 0, staged.stderr);
  assert.match(staged.stdout, /secrets version 3/);
  assert.match(staged.stdout, /staged: applies at the next deploy of web/);
  releases = (await cp.client.releases('secrets', 'web')).releases;
  assert.equal(releases.length, 2, 'staging creates no release');

  const unset = await slipway('secrets', 'unset', 'DB_URL', '--no-deploy');
  assert.equal(unset.code, 0, unset.stderr);
  assert.deepEqual((await cp.client.secrets('secrets', 'production')).secrets.map((s) => s.name), ['API_KEY', 'FEATURE_FLAG']);

  const back = await slipway('rollback', 'web', 'v1');
  assert.equal(back.code, 0, back.stdout + back.stderr);
  assert.equal(await valueInContainer('API_KEY'), SECRET, 'v1 runs with the secrets it pinned');
  assert.equal(await valueInContainer('FEATURE_FLAG'), '');
});

test('bad input gets a clear error and changes nothing', async () => {
  const before = await cp.client.secrets('secrets', 'production');
  // Named like the .env files users keep beside their code, which .dockerignore keeps out of
  // the uploaded build context (a secret in a file the context includes would be uploaded).
  writeFileSync(path.join(app.dir, '.env.broken'), `GOOD=1\nnot a pair ${SECRET}\n2X=y\n`);
  const bad = await slipway('secrets', 'set', '--from-file', '.env.broken');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /\.env\.broken:2: expected KEY=VALUE/);
  assert.match(bad.stderr, /\.env\.broken:3: "2X" is not a valid variable name/);

  const unknownEnv = await slipway('secrets', 'set', '--env', 'qa', `API_KEY=${SECRET}`);
  assert.equal(unknownEnv.code, 1);
  assert.match(unknownEnv.stderr, /environment "qa" does not exist in project "secrets".*slipway env create qa/);

  await assert.rejects(cp.client.changeSecrets('secrets', 'production', { set: { '1BAD': SECRET, PORT: SECRET } }), (e: ApiError) => {
    seen.push(JSON.stringify(e));
    return e.status === 400 && /set\.1BAD: must be an environment variable name/.test(e.message) && /set\.PORT: PORT and SLIPWAY_\* are set by Slipway/.test(e.message);
  });
  await assert.rejects(cp.client.changeSecrets('secrets', 'production', { unset: ['NOPE'] }), (e: ApiError) => e.status === 404 && /secret NOPE is not set/.test(e.message));
  const raw = await fetch(`http://127.0.0.1:${cp.apiPort}/api/v1/projects/secrets/environments/production/secrets`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${cp.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ set: { API_KEY: 42 } }),
  });
  assert.equal(raw.status, 400);
  assert.match(await raw.text(), /set\.API_KEY: must be a string value/);
  assert.deepEqual(await cp.client.secrets('secrets', 'production'), before, 'nothing changed');
});

test('rotate-key re-seals everything under a new key; services keep working after a redeploy and a restart', async () => {
  const keyFile = path.join(cp.dataDir, 'master.key');
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  const oldKey = readFileSync(keyFile, 'utf8');
  const rotated = await slipway('secrets', 'rotate-key', '--json');
  assert.equal(rotated.code, 0, rotated.stderr);
  const r = JSON.parse(rotated.stdout) as { keyId: string; newKeyGenerated: boolean; resealed: number };
  assert.ok(r.newKeyGenerated);
  assert.equal(r.resealed, 4, 'every version of every environment');
  const newKey = readFileSync(keyFile, 'utf8');
  assert.notEqual(newKey, oldKey);
  assert.equal(newKey.trim().split('\n').length, 1, 'the old key is gone');
  assert.ok(newKey.startsWith(r.keyId));

  await cp.stop();
  await cp.start();
  const redeploy = await slipway('deploy');
  assert.equal(redeploy.code, 0, redeploy.stdout + redeploy.stderr);
  assert.equal(await valueInContainer('API_KEY'), SECRET2, 'the newest version, opened with the new key');
  assert.equal(await valueInContainer('FEATURE_FLAG'), 'on');
  const live = (await cp.client.status('secrets')).services[0]!;
  assert.equal(live.readyReplicas, 1);
  assert.equal(live.currentRelease?.secretsVersion, 4);
});

test('the values appear nowhere but inside the containers', async () => {
  const { client } = cp;
  const { deployments } = await client.deployments('secrets', { limit: 50 });
  seen.push(JSON.stringify(deployments));
  for (const d of deployments) {
    seen.push(JSON.stringify(await client.deployment(d.id)), await deploymentLog(client, d.id));
    seen.push((await slipway('deployment', d.id)).stdout);
  }
  seen.push(
    JSON.stringify(await client.status('secrets')),
    JSON.stringify(await client.releases('secrets', 'web')),
    JSON.stringify(await client.environments('secrets')),
    JSON.stringify(await client.secrets('secrets', 'production')),
    JSON.stringify(await client.health()),
  );
  for (const args of [['status'], ['status', '--json'], ['releases', 'web', '--json'], ['deployments', '--json'], ['secrets', 'list'], ['env', 'list'], ['config', 'check', '--json']]) {
    const r = await slipway(...args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  seen.push((await slipway('logs', 'web', '--tail', '200')).stdout);
  // The server's own log (debug level), its database and the edge's files.
  seen.push(readFileSync(cp.logFile, 'utf8'));
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.isFile() ? [path.join(dir, e.name)] : []));
  for (const f of files(cp.dataDir)) seen.push(`${f}:\n${readFileSync(f).toString('latin1')}`);
  // Container labels and names (Docker keeps env in the container's config: that is "inside").
  for (const c of await new Docker().listContainers({ all: true, filters: { label: ['slipway.project=secrets'] } })) seen.push(JSON.stringify({ names: c.Names, labels: c.Labels }));

  assert.ok(seen.length > 40, `swept ${seen.length} texts`);
  for (const value of [SECRET, SECRET2, 'pw-1234']) {
    const leaks = seen.filter((t) => t.includes(value));
    assert.equal(leaks.length, 0, `secret value found in:\n${leaks.map((t) => t.slice(0, 300)).join('\n---\n')}`);
  }
  assert.equal(await valueInContainer('API_KEY'), SECRET2, 'and it is inside the container');
});
