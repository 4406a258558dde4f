/**
 * The CLI following a deployment when the control plane goes away mid-stream: it says what
 * happened and how to see the outcome, reconnects when the control plane is back and resumes
 * the log with Last-Event-ID (every line printed once), exiting with the deployment's outcome;
 * if the control plane stays away past SLIPWAY_CLI_RECONNECT_SECONDS it exits 3 with the hint.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject } from './support/test-project';
import { startCli, type RunningCli } from './support/cli';

const cp = await ControlPlaneProcess.create('clirecon');
const app = new TestProject('clirecon');

before(async () => {
  await cp.start();
  await cp.client.createBaseImage('node');
});
after(() => cp.destroy());

/** A deploy slow enough to kill the control plane in the middle: two batches, each replica 2 s of grace. */
const slow = (version: string) => app.write({ version, replicas: 2, health: { grace: '2s' } });

/** Waits until the CLI printed its deployment's id and the deployment is rolling. */
async function rollingDeployment(cli: RunningCli): Promise<string> {
  const started = Date.now();
  let id: string | null = null;
  while (Date.now() - started < 120_000) {
    id ??= /deployment ([0-9a-f-]{36}):/.exec(cli.stdout())?.[1] ?? null;
    if (id && (await cp.client.deployment(id)).deployment.state === 'rolling') return id;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the deployment never reached rolling:\n${cli.stdout()}\n${cli.stderr()}`);
}

/** The log lines the CLI printed ("<time>  <message>", on stdout or stderr by level), as messages. */
function printedLogLines(cli: RunningCli): string[] {
  return `${cli.stdout()}\n${cli.stderr()}`
    .split('\n')
    .map((l) => /^\d{1,2}:\d\d:\d\d(?:\s?[AP]M)? {2}(.*)$/.exec(l)?.[1])
    .filter((m): m is string => m !== undefined);
}

/** The first line of each of the deployment's log messages (a multi-line message prints its first line after the time). */
async function logMessages(id: string): Promise<string[]> {
  return (await cp.client.deploymentLogs(id)).lines.map((l) => l.message.split('\n')[0]!);
}

test('the control plane killed mid-deploy and back within the window: the CLI reconnects, prints the rest once, exits with the outcome', async (t) => {
  slow('one');
  const cli = startCli(cp, app.dir, ['deploy'], cp.token, { SLIPWAY_CLI_RECONNECT_SECONDS: '120' });
  const id = await rollingDeployment(cli);
  cp.kill();
  // Let the CLI notice and retry a few times before the control plane returns.
  const lostAt = Date.now();
  while (!/control plane unreachable, retrying… \(\d+s\)/.test(cli.stderr()) && Date.now() - lostAt < 30_000) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1500));
  await cp.start();

  const code = await cli.exited;
  const out = `${cli.stdout()}\n${cli.stderr()}`;
  assert.match(cli.stderr(), /lost the connection to the control plane \(.+\) while following deployment/, out);
  assert.match(cli.stderr(), new RegExp(`slipway deployment ${id}`), out);
  assert.match(cli.stderr(), /control plane unreachable, retrying… \(\d+s\)/, out);
  assert.match(cli.stderr(), /reconnected to the control plane/, out);
  assert.doesNotMatch(out, /error: terminated/);
  t.diagnostic(cli.stderr().split('\n').filter((l) => /control plane/.test(l)).slice(0, 3).join(' | '));

  // Recovery resolved the interrupted deployment one way or the other; the CLI's exit code says which.
  const { deployment } = await cp.client.deployment(id);
  assert.ok(['succeeded', 'failed'].includes(deployment.state), deployment.state);
  assert.equal(code, deployment.state === 'succeeded' ? 0 : 2, out);

  // Every line of the deployment's log was printed exactly once, across the two connections.
  const messages = await logMessages(id);
  assert.ok(messages.length > 3, 'the log has lines from before and after the restart');
  assert.deepEqual(printedLogLines(cli).sort(), messages.sort(), out);
  assert.match(cli.stdout(), /deployment [0-9a-f-]{36}: clirecon\/web → production/, 'the project of this test was deployed');
});

test('the control plane away past the window: the CLI exits 3 with how to see the outcome', async (t) => {
  slow('two');
  const cli = startCli(cp, app.dir, ['deploy'], cp.token, { SLIPWAY_CLI_RECONNECT_SECONDS: '3' });
  const id = await rollingDeployment(cli);
  cp.kill();
  try {
    const code = await cli.exited;
    const out = `${cli.stdout()}\n${cli.stderr()}`;
    assert.equal(code, 3, out);
    assert.match(cli.stderr(), /control plane unreachable, retrying…/, out);
    assert.match(cli.stderr(), /did not come back within 3 s/, out);
    assert.match(cli.stderr(), new RegExp(`see it with "slipway deployment ${id}"`), out);
    assert.doesNotMatch(out, /error: terminated/);
    t.diagnostic(cli.stderr().trim().split('\n').at(-1)!);
  } finally {
    await cp.start();
  }
  // And indeed: once back, the outcome is there to see.
  const started = Date.now();
  while (!['succeeded', 'failed'].includes((await cp.client.deployment(id)).deployment.state) && Date.now() - started < 60_000) await new Promise((r) => setTimeout(r, 200));
  assert.ok(['succeeded', 'failed'].includes((await cp.client.deployment(id)).deployment.state));
});
