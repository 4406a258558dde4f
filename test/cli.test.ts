/**
 * The CLI as users run it (bin/slipway.mjs in a child process) against a real control
 * plane: deploy with streamed progress, status/releases as tables and --json,
 * rollback, and exit codes on failure.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cliFor } from './support/cli';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject } from './support/test-project';

const cp = await ControlPlaneProcess.create('cli');
const app = new TestProject('cli');
const slipway = cliFor(cp, app.dir);

before(async () => {
  await cp.start();
  await cp.client.createBaseImage('node');
});
after(() => cp.destroy());

test('deploy, status, releases, rollback from the command line', async () => {
  app.write({ version: '1', replicas: 1 });
  const d1 = await slipway('deploy');
  assert.equal(d1.code, 0, d1.stderr + d1.stdout);
  assert.match(d1.stdout, /▶ build/);
  assert.match(d1.stdout, /v1 is live with 1 replica/);
  assert.match(d1.stdout, new RegExp(`web is served at http://${app.domain.replace(/\./g, '\\.')}:${cp.httpPort}/`));

  app.write({ version: '2', replicas: 1 });
  const d2 = await slipway('deploy', 'web', '--json');
  assert.equal(d2.code, 0, d2.stderr);
  const deployed = JSON.parse(d2.stdout) as Array<{ state: string; releaseNumber: number }>;
  assert.equal(deployed[0]!.state, 'succeeded');
  assert.equal(deployed[0]!.releaseNumber, 2);

  const status = JSON.parse((await slipway('status', '--json')).stdout) as { services: Array<{ currentRelease: { number: number }; readyReplicas: number }> };
  assert.equal(status.services[0]!.currentRelease.number, 2);
  assert.equal(status.services[0]!.readyReplicas, 1);
  const table = await slipway('releases', 'web');
  assert.match(table.stdout, /v2 \(live\)/);

  // The host itself: its Docker engine and the edge serving this project.
  const servers = JSON.parse((await slipway('servers', '--json')).stdout) as Array<{ name: string; docker: { ok: boolean; version: string; containersRunning: number }; edge: { running: boolean; httpPort: number } }>;
  assert.equal(servers[0]!.name, 'local');
  assert.equal(servers[0]!.docker.ok, true);
  assert.match(servers[0]!.docker.version, /^\d+\.\d+/);
  assert.ok(servers[0]!.docker.containersRunning >= 1);
  assert.deepEqual([servers[0]!.edge.running, servers[0]!.edge.httpPort], [true, cp.httpPort]);
  assert.match((await slipway('servers')).stdout, /SERVER\s+DOCKER[\s\S]*local\s+\d+\.\d+[\s\S]*HAProxy 2\.\d/);

  const rb = await slipway('rollback', 'web', 'v1');
  assert.equal(rb.code, 0, rb.stderr + rb.stdout);
  assert.match(rb.stdout, /web is back on v1/);

  const bad = await slipway('rollback', 'web', 'version-one');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /release: expected a release such as "v3"/);
  const missing = await slipway('rollback', 'web', 'v99');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /release v99 of web does not exist in production \[SLW_NOT_FOUND\]/);
});

test('a failing deploy exits non-zero and says why', async () => {
  app.write({ version: '3', replicas: 1, env: { HEALTH_FAIL: '1' }, health: { deadline: '2s' } });
  const r = await slipway('deploy');
  assert.equal(r.code, 2);
  assert.match(r.stdout + r.stderr, /did not pass readiness on \/health within 2s/);
  assert.match(r.stdout, /✘ web: failed/);
});

test('slipway run executes in the live release with its env and returns the exit code', async () => {
  const ok = await slipway('run', 'web', '--', 'node', '-e', 'console.log("version", process.env.APP_VERSION, process.env.SLIPWAY_RELEASE)');
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^version 1 v1$/m, 'the live release (v1 after the rollback) and its env');
  const failing = await slipway('run', 'web', '--', 'node', '-e', 'console.error("boom"); process.exit(7)');
  assert.equal(failing.code, 7);
  assert.match(failing.stderr, /boom/);
  const killed = await slipway('run', 'web', '--timeout', '1s', '--', 'node', '-e', 'setTimeout(() => {}, 30000)');
  assert.equal(killed.code, 124);
  assert.match(killed.stderr, /killed after --timeout 1s/);
  const bad = await slipway('run', 'web', '--timeout', 'soon', '--', 'true');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /timeout: must be a duration/);
  const nothing = await slipway('run', 'web', '--env', 'qa', '--', 'true');
  assert.equal(nothing.code, 1);
  assert.match(nothing.stderr, /has never been deployed to qa/);
});
