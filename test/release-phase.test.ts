/**
 * The release phase: release_command runs exactly once per deployment, in a one-off
 * container of the new image, before traffic moves. A failing or hanging command
 * fails the deployment while the previous release serves with 0 failed requests.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Docker from 'dockerode';
import { startLoad } from '../bench/lib/load-generator';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject } from './support/test-project';
import { deployAndWait, deploymentLog } from './support/wait-deployment';

const cp = await ControlPlaneProcess.create('release');
const app = new TestProject('release');
const docker = new Docker();

before(async () => {
  await cp.start();
  await cp.client.createBaseImage('node');
});
after(() => cp.destroy());

/** How many one-off release containers Docker created for a deployment. */
async function releaseContainersCreated(deploymentId: string, since: number): Promise<number> {
  const stream = (await docker.getEvents({
    since: Math.floor(since / 1000) - 1,
    until: Math.ceil(Date.now() / 1000) + 1,
    filters: { type: ['container'], event: ['create'], label: [`slipway.run.deployment=${deploymentId}`] },
  })) as unknown as AsyncIterable<Buffer>;
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text.split('\n').filter((l) => l.trim()).length;
}

test('a passing release command runs exactly once, before traffic moves, with the new env', async () => {
  const t0 = Date.now();
  const d = await deployAndWait(
    cp.client,
    app.write({ version: 'one', service: { release_command: ['node', '-e', 'console.log("migrating for", process.env.APP_VERSION, process.env.SLIPWAY_RELEASE)'] } }),
  );
  const log = await deploymentLog(cp.client, d.id);
  assert.equal(d.state, 'succeeded', log);
  assert.equal((log.match(/release \| migrating for one v1/g) ?? []).length, 1, log);
  assert.ok(log.indexOf('release | migrating') < log.indexOf('receives traffic'), 'the command ran before any replica got traffic');
  assert.equal(await releaseContainersCreated(d.id, t0), 1);
  assert.deepEqual(await docker.listContainers({ all: true, filters: { label: [`slipway.run.deployment=${d.id}`] } }), [], 'the one-off container is removed');
});

test('a failing release command fails the deploy; the old release serves with 0 failed requests', async (t) => {
  const releases = new Set<string>();
  const load = startLoad({ url: cp.edgeUrl, hostHeader: app.domain, concurrency: 8, inspect: (r) => releases.add(String(r.headers['x-slipway-release'])) });
  try {
    const failing = await deployAndWait(cp.client, app.write({ version: 'two', service: { release_command: ['node', '-e', 'console.error("migration failed"); process.exit(3)'] } }));
    assert.equal(failing.state, 'failed');
    assert.equal(failing.errorCode, 'SLW_RELEASE_COMMAND_FAILED');
    assert.match(failing.error ?? '', /exited with code 3; no traffic moved/);
    const log = await deploymentLog(cp.client, failing.id);
    assert.match(log, /release \| migration failed/);
    assert.doesNotMatch(log, /started .* probing/, 'no replica of the failed release was started');

    const hanging = await deployAndWait(
      cp.client,
      app.write({ version: 'three', service: { release_command: ['node', '-e', 'setTimeout(() => {}, 60000)'], release_timeout: '1s' } }),
    );
    assert.equal(hanging.state, 'failed');
    assert.match(hanging.error ?? '', /did not finish within release_timeout \(1s\)/);
  } finally {
    const report = await load.stop();
    t.diagnostic(`load: ${report.total} requests, ${report.failed} failed`);
    assert.equal(report.failed, 0, JSON.stringify(report.errors));
  }
  assert.deepEqual([...releases], ['v1'], 'only the previous release answered');
  const web = (await cp.client.status('release')).services[0]!;
  assert.equal(web.currentRelease?.number, 1);
});

test('a release command that writes 2000 lines and exits at once: every line is in the deployment log, each time', async () => {
  const script = 'for (let i = 1; i <= 2000; i++) console.log("line " + i); console.error("wrote 2000"); process.exit(1)';
  const expected = [...Array.from({ length: 2000 }, (_, i) => `line ${i + 1}`), 'wrote 2000'];
  for (let run = 1; run <= 4; run++) {
    const d = await deployAndWait(cp.client, app.write({ version: `many-${run}`, service: { release_command: ['node', '-e', script] } }));
    assert.equal(d.state, 'failed');
    assert.match(d.error ?? '', /exited with code 1; no traffic moved/);
    const messages = (await cp.client.deploymentLogs(d.id)).lines.map((l) => l.message);
    const lines = messages.filter((m) => m.startsWith('  release | ')).map((m) => m.slice('  release | '.length));
    // stdout and stderr are two streams (Docker does not order lines across them): stdout in order, then stderr's line anywhere.
    assert.deepEqual(lines.filter((l) => l.startsWith('line ')), expected.slice(0, 2000), `run ${run}: ${lines.length} release line(s)`);
    assert.deepEqual(lines.filter((l) => !l.startsWith('line ')), ['wrote 2000'], `run ${run}`);
    const failedAt = messages.findIndex((m) => m.startsWith('✘ release command'));
    assert.ok(failedAt > messages.findLastIndex((m) => m.startsWith('  release | ')), `run ${run}: the step failed after its last output line`);
  }
});
