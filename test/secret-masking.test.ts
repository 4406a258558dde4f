/**
 * A multi-line secret (a PEM key) against a real server, Docker and edge: the app prints it
 * raw (one log line per line of the value), JSON-escaped and base64-encoded, from a replica,
 * the release command and `slipway run`; `slipway logs` (read token and admin), the
 * deployment log and `run` output never hold any line of it nor those forms. Output is
 * relayed line by line, so masking only the whole value masked nothing here.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cliFor } from './support/cli';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject } from './support/test-project';
import { deploymentLog } from './support/wait-deployment';

const cp = await ControlPlaneProcess.create('secret-masking');
const app = new TestProject('masking');
const admin = cliFor(cp, app.dir);
/** Random key material, so nothing but the secret can put these lines in an output. */
const BODY = [randomBytes(48).toString('base64'), randomBytes(48).toString('base64'), randomBytes(15).toString('base64')];
const PEM = ['-----BEGIN PRIVATE KEY-----', ...BODY, '-----END PRIVATE KEY-----', ''].join('\n');
const FORMS = { ...Object.fromEntries(BODY.map((l, i) => [`line ${i + 1}`, l])), json: JSON.stringify(PEM).slice(1, -1), base64: Buffer.from(PEM).toString('base64') };
/** Prints the value raw, JSON-escaped and base64-encoded, each tagged with where it ran. */
const printAll = (where: string) =>
  `const v = process.env.TLS_KEY ?? ""; console.log("${where} raw=" + v); console.log("${where} json=" + JSON.stringify(v)); console.log("${where} b64=" + Buffer.from(v).toString("base64"));`;

function assertMasked(text: string, where: string): void {
  for (const [form, value] of Object.entries(FORMS)) assert.ok(!text.includes(value), `${where} shows the secret's ${form}:\n${text}`);
}

before(async () => {
  await cp.start();
  await cp.client.createBaseImage('node');
  app.write({
    version: '1',
    replicas: 1,
    env: { ECHO_ENV: 'TLS_KEY' },
    service: {
      command: ['node', '-e', `${printAll('web')} import("/app/server.js");`],
      release_command: ['node', '-e', printAll('release')],
    },
  });
  const set = await admin('secrets', 'set', `TLS_KEY=${PEM}`);
  assert.equal(set.code, 0, set.stdout + set.stderr);
});
after(() => cp.destroy());

test('release-command output in the deploy and the deployment log: every line, the JSON and base64 forms masked', async () => {
  const deploy = await admin('deploy');
  assert.equal(deploy.code, 0, deploy.stdout + deploy.stderr);
  assertMasked(deploy.stdout + deploy.stderr, 'slipway deploy');
  const { deployments } = await cp.client.deployments('masking', { limit: 5 });
  const log = await deploymentLog(cp.client, deployments[0]!.id);
  assertMasked(log, 'the deployment log');
  // The release command did print the value: its armor line is there and its lines are masks.
  assert.match(log, /release raw=-----BEGIN PRIVATE KEY-----/);
  assert.match(log, /release \| \[secret\]/);
  assert.match(log, /release json="\[secret\]"/);
  assert.match(log, /release b64=\[secret\]/);
});

test('slipway logs, with a read token and an admin token, never shows the value; --unmask (admin) does', async () => {
  const { token: readToken } = await cp.client.createToken({ name: 'reader', scope: 'read' });
  for (const [who, cli] of [['read token', cliFor(cp, app.dir, readToken)], ['admin token', admin]] as const) {
    const logs = await cli('logs', 'web', '--tail', '200');
    assert.equal(logs.code, 0, logs.stderr);
    assertMasked(logs.stdout + logs.stderr, `slipway logs (${who})`);
    assert.match(logs.stdout, /TLS_KEY=-----BEGIN PRIVATE KEY-----/, `${who}: the app printed the value`);
    assert.match(logs.stdout, /web json="\[secret\]"/);
    assert.match(logs.stdout, /web b64=\[secret\]/);
  }
  // The app really printed every form: unmasked output (admin only) holds them all.
  const raw = await admin('logs', 'web', '--tail', '200', '--unmask');
  assert.equal(raw.code, 0, raw.stderr);
  for (const [form, value] of Object.entries(FORMS)) assert.ok(raw.stdout.includes(value), `unmasked logs hold the ${form}`);
});

test('slipway run output (deploy token) masks every line, the JSON and base64 forms', async () => {
  const { token: deployToken } = await cp.client.createToken({ name: 'ci', scope: 'deploy' });
  const run = await cliFor(cp, app.dir, deployToken)('run', 'web', '--', 'node', '-e', printAll('run'));
  assert.equal(run.code, 0, run.stderr);
  assertMasked(run.stdout + run.stderr, 'slipway run');
  assert.match(run.stdout, /run raw=-----BEGIN PRIVATE KEY-----/);
  assert.match(run.stdout, /run json="\[secret\]"/);
  assert.match(run.stdout, /run b64=\[secret\]/);
  assert.equal(run.stdout.split('\n').filter((l) => l === '[secret]').length, BODY.length, 'each line of the key is one mask');
});
