/**
 * @runs-alone: its analysis compares the canary's latency with the stable one's.
 * Canary deploys against real Docker and HAProxy, under an open-model load through the edge
 * (a fixed rate, so the requests in a window are known): a healthy canary goes through every
 * step and is promoted with 0 failed requests; a canary answering 500 on 20 % of requests is
 * aborted at the first analysis window, with the client-visible errors bounded by the canary's
 * share of that window's requests; a canary 5× slower than the stable release is aborted on
 * p99; a control plane SIGKILLed mid-canary aborts it cleanly on restart (no partial weight
 * left without an owner). Status shows the live split while it runs.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startLoad, type LoadRun } from '../bench/lib/load-generator';
import type { DeploymentView, LiveCanaryView, ServiceStatusView } from '../src/core/contract/views';
import { deployDirectory } from '../src/client/upload-contexts';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject } from './support/test-project';
import { cliFor } from './support/cli';
import { deployAndWait, deploymentLog, waitDeployment } from './support/wait-deployment';

const PROJECT = 'canary';
const RATE = 100;
const cp = await ControlPlaneProcess.create('canary');
const app = new TestProject(PROJECT);
const cli = cliFor(cp, app.dir);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every response: when it was sent and completed, its status and the release that answered. */
type Seen = { sentAt: number; at: number; status: number; release: string };
let load: LoadRun | null = null;
let seen: Seen[] = [];

const ANALYSIS = { interval: '2s', min_requests: 20 };
const canary = (version: string, steps: Array<{ weight: number; pause: string }>, env: Record<string, string> = {}) =>
  app.write({ version, env, deploy: { strategy: 'canary', steps, analysis: ANALYSIS } });
const rolling = (version: string, env: Record<string, string> = {}) => app.write({ version, env });

function startMeasuredLoad(): void {
  seen = [];
  load = startLoad({
    url: cp.edgeUrl,
    hostHeader: app.domain,
    ratePerSec: RATE,
    timeoutMs: 5000,
    inspect: (r) => seen.push({ sentAt: r.sentAt, at: r.at, status: r.status, release: String(r.headers['x-slipway-release'] ?? '?') }),
  });
}

async function stopLoad() {
  const report = await load!.stop();
  load = null;
  return report;
}

/** deployment.rolled_back events as the notifier delivers them (webhook target). */
const events: Array<Record<string, unknown>> = [];
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    events.push((JSON.parse(body) as { data: Record<string, unknown> }).data);
    res.writeHead(200).end();
  });
});

before(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  await cp.start();
  await cp.client.createBaseImage('node');
  await cp.client.addNotificationTarget({ kind: 'webhook', url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, project: PROJECT, events: ['deployment.rolled_back'] });
  const v1 = await deployAndWait(cp.client, rolling('one'));
  assert.equal(v1.state, 'succeeded', await deploymentLog(cp.client, v1.id));
});

after(async () => {
  await load?.stop();
  await cp.destroy();
  receiver.close();
});

async function web(): Promise<ServiceStatusView> {
  return (await cp.client.status(PROJECT)).services.find((s) => s.service === 'web')!;
}

async function shape(): Promise<string[]> {
  return (await web()).replicas.map((r) => `v${r.release}:${r.state === 'running' ? r.edge : r.state}`).sort();
}

function step(d: DeploymentView, prefix: string) {
  const s = d.steps.find((x) => x.name.startsWith(prefix));
  assert.ok(s, `deployment ${d.id} has a step "${prefix}…": ${d.steps.map((x) => x.name).join(' | ')}`);
  return { ...s, startMs: Date.parse(s.startedAt), endMs: Date.parse(s.finishedAt!) };
}

/** Deploys without waiting, samples status every 300 ms until the deployment ends. */
async function deployWatching(body: ReturnType<typeof canary>): Promise<{ d: DeploymentView; views: LiveCanaryView[] }> {
  const { deployments } = await deployDirectory(cp.client, body);
  const id = deployments[0]!.id;
  const views: LiveCanaryView[] = [];
  let done = false;
  const watcher = (async () => {
    while (!done) {
      const c = (await web()).canary;
      if (c) views.push(c);
      await sleep(300);
    }
  })();
  const d = await waitDeployment(cp.client, id);
  done = true;
  await watcher;
  return { d, views };
}

test('a healthy canary goes through every step with the asked split and is promoted: 0 failed requests', async (t) => {
  startMeasuredLoad();
  await sleep(1000);
  const { d, views } = await deployWatching(canary('two', [{ weight: 20, pause: '4s' }, { weight: 50, pause: '4s' }]));
  const log = await deploymentLog(cp.client, d.id);
  assert.equal(d.state, 'succeeded', log);
  await sleep(1000);
  const report = await stopLoad();
  assert.equal(report.failed, 0, `${report.failed} failed of ${report.total}: ${JSON.stringify(report.errors)}`);

  const s1 = step(d, 'canary step 1/2: 20 % of requests to v2');
  const s2 = step(d, 'canary step 2/2: 50 % of requests to v2');
  const promote = step(d, 'promote v2: all traffic to it');
  assert.match(s1.detail ?? '', /one edge command: 1 canary replica\(s\) at weight 1, 2 stable at 2 \(20 % to the canary\)/);
  assert.match(s2.detail ?? '', /1 canary replica\(s\) at weight 2, 2 stable at 1 \(50 % to the canary\)/);
  assert.ok(s2.startMs - s1.endMs >= 3900, 'step 1 lasted its pause');

  // The split the edge really applied, from the answers (requests sent inside each step, well clear of its edges).
  const share = (from: number, to: number) => {
    const inStep = seen.filter((x) => x.sentAt > from + 200 && x.at < to - 200);
    return { n: inStep.length, v2: inStep.filter((x) => x.release === 'v2').length / inStep.length };
  };
  const split1 = share(s1.endMs, s2.startMs);
  const split2 = share(s2.endMs, promote.startMs);
  t.diagnostic(`share of v2: step 1 ${(split1.v2 * 100).toFixed(1)} % of ${split1.n}, step 2 ${(split2.v2 * 100).toFixed(1)} % of ${split2.n}`);
  assert.ok(split1.v2 > 0.12 && split1.v2 < 0.28, `step 1 share ${split1.v2}`);
  assert.ok(split2.v2 > 0.4 && split2.v2 < 0.6, `step 2 share ${split2.v2}`);
  assert.ok(seen.filter((x) => x.sentAt < s1.startMs).every((x) => x.release === 'v1'), 'nothing reached v2 before step 1');
  assert.ok(seen.filter((x) => x.sentAt > promote.endMs).every((x) => x.release === 'v2'), 'everything after the promotion went to v2');

  const rec = d.canary!;
  assert.equal(rec.phase, 'promoted');
  assert.equal(rec.failures, 0);
  assert.ok(rec.windows.length >= 4, `windows: ${rec.windows.length}`);
  // A step's last window can be shorter than the interval (whole seconds only), hence inconclusive; none fails.
  assert.ok(rec.windows.every((w) => w.verdict !== 'fail'), JSON.stringify(rec.windows));
  assert.ok(rec.windows.filter((w) => w.verdict === 'pass').length >= 2, JSON.stringify(rec.windows));
  assert.ok(rec.windows.every((w) => w.canary.requests > 0 && w.stable.requests > 0));
  assert.match(log, /analysis step 1, [\d.]+ s window: canary v2 \d+ req, 0 5xx/);
  assert.deepEqual(await shape(), ['v2:ready', 'v2:ready']);

  // Status showed the live split while it ran.
  const during = views.find((v) => v.phase === 'stepping' && v.step === 1);
  assert.ok(during, `status showed step 1: ${JSON.stringify(views.map((v) => [v.phase, v.step]))}`);
  assert.equal(during.release, 2);
  assert.equal(during.stableRelease, 1);
  assert.equal(during.canary.sharePercent, 20);
  assert.equal(during.stable.replicas, 2);
  assert.ok(during.secondsToNextStep !== null && during.secondsToNextStep <= 4);
  assert.ok(views.some((v) => v.canary.requests > 0 && v.stable.requests > 0), 'per-side figures');
  assert.ok(views.some((v) => v.verdictSoFar === 'passing'));
  assert.equal((await web()).canary ?? null, null, 'no canary shown once promoted');

  const shown = await cli('deployment', d.id);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /canary v2 vs v1: promoted, step 2\/2, 0\/1 failing window\(s\)/);
  assert.match(shown.stdout, /step 1 [\d.]+s {2}canary \d+ req 0\.0 % p99 \d+ ms \| stable \d+ req 0\.0 % p99 \d+ ms {2}pass/);
});

test('a canary answering 500 on 20 % of requests is aborted at the first window; errors bounded by its share; stable serves everything after', async (t) => {
  startMeasuredLoad();
  await sleep(1000);
  const started = Date.now();
  const d = await deployAndWait(cp.client, canary('three', [{ weight: 20, pause: '20s' }, { weight: 50, pause: '20s' }], { ERROR_RATE: '0.2' }));
  const log = await deploymentLog(cp.client, d.id);
  assert.equal(d.state, 'rolled_back', log);
  assert.equal(d.errorCode, 'SLW_CANARY_FAILED');
  assert.match(d.error ?? '', /canary analysis failed at step 1\/2 \(20 % to v3\): error rate [\d.]+ % > max_error_rate 5\.0 %/);
  await sleep(3000); // stable alone, under load
  const report = await stopLoad();

  const s1 = step(d, 'canary step 1/2');
  const abort = step(d, 'abort canary: all traffic back to v2');
  const rec = d.canary!;
  assert.equal(rec.phase, 'aborted');
  assert.equal(rec.windows.length, 1, `aborted at the first window: ${JSON.stringify(rec.windows)}`);
  assert.equal(rec.windows[0]!.verdict, 'fail');
  assert.ok(rec.windows[0]!.canary.requests >= 20);
  const exposedMs = abort.endMs - s1.startMs;
  assert.ok(exposedMs <= 2000 + 1500, `the canary had traffic for ${exposedMs} ms (interval 2 s + one tick + the edge command)`);

  // Bound: the canary got 20 % of what was sent while it had a weight (its window plus the abort), and at worst all of that failed.
  const exposed = seen.filter((x) => x.sentAt >= s1.startMs - 50 && x.sentAt <= abort.endMs + 50);
  const errors = seen.filter((x) => x.status >= 500).length;
  const bound = Math.ceil(0.2 * exposed.length * 1.25); // 25 % slack: round robin over 3 servers is exact per cycle, not per short interval
  t.diagnostic(`errors ${errors} of ${report.total} (load), ${exposed.length} sent while the canary had weight, bound ${bound}; time to abort ${abort.endMs - started} ms after the deploy call (${exposedMs} ms of exposure)`);
  assert.ok(errors > 0, 'the injected failures were seen (otherwise the test proves nothing)');
  assert.ok(errors <= bound, `client-visible errors ${errors} > bound ${bound}`);
  assert.equal(report.failed, errors, `only 500s failed: ${JSON.stringify(report.errors)}`);
  const afterAbort = seen.filter((x) => x.sentAt > abort.endMs);
  assert.ok(afterAbort.length > 200, `load after the abort (${afterAbort.length})`);
  assert.ok(afterAbort.every((x) => x.release === 'v2' && x.status === 200), 'v2 served everything after the abort');

  assert.match(log, /analysis step 1, [\d.]+ s window: canary v3 \d+ req, \d+ 5xx \([\d.]+ %\).*→ FAIL \(1\/1\)/);
  assert.match(log, /retire 1 canary replica\(s\) of v3/);
  assert.deepEqual(await shape(), ['v2:ready', 'v2:ready']);
  assert.equal((await web()).currentRelease?.number, 2);
  assert.equal((await web()).lastDeployment?.state, 'rolled_back');

  // The notification carries the measured figures.
  for (let i = 0; i < 100 && !events.some((e) => e.deploymentId === d.id); i++) await sleep(100);
  const event = events.find((e) => e.deploymentId === d.id);
  assert.ok(event, 'a deployment.rolled_back event was delivered');
  assert.equal(event.errorCode, 'SLW_CANARY_FAILED');
  assert.equal(event.release, 3);
  assert.equal(event.stableRelease, 2);
  assert.equal(event.step, 1);
  assert.equal(event.weight, 20);
  const fig = event.window as { verdict: string; canary: { requests: number; errors: number; errorRate: number } };
  assert.equal(fig.verdict, 'fail');
  assert.ok(fig.canary.errors > 0 && fig.canary.errorRate > 0.05, JSON.stringify(fig));
  assert.equal(typeof event.timeToAbortMs, 'number');
});

test('a canary whose p99 is 5× the stable one is aborted on latency', async () => {
  const base = await deployAndWait(cp.client, rolling('four', { DELAY_MS: '20' }));
  assert.equal(base.state, 'succeeded', await deploymentLog(cp.client, base.id));
  startMeasuredLoad();
  await sleep(1000);
  const d = await deployAndWait(cp.client, canary('five', [{ weight: 20, pause: '20s' }], { DELAY_MS: '100' }));
  const log = await deploymentLog(cp.client, d.id);
  const report = await stopLoad();
  assert.equal(d.state, 'rolled_back', log);
  assert.equal(d.errorCode, 'SLW_CANARY_FAILED');
  assert.match(d.error ?? '', /p99 \d+ ms > 2× the stable p99 \d+ ms/);
  assert.doesNotMatch(d.error ?? '', /error rate/);
  // The window that aborted saw the canary over the rule's 2× (on an idle host about 5×; the
  // stable p99 grows with the host's load, since files run side by side, so no tighter bound).
  const w = d.canary!.windows.at(-1)!;
  assert.ok(w.canary.p99Ms! > 2 * w.stable.p99Ms!, JSON.stringify(w));
  assert.equal(report.failed, 0, JSON.stringify(report.errors));
  assert.deepEqual(await shape(), ['v4:ready', 'v4:ready']);
});

test('control plane SIGKILLed mid-canary: the restart aborts it cleanly (stable at full weight, canary gone), 0 failed requests', async (t) => {
  startMeasuredLoad();
  await sleep(1000);
  const { deployments } = await deployDirectory(cp.client, canary('six', [{ weight: 50, pause: '60s' }], { DELAY_MS: '20' }));
  const id = deployments[0]!.id;
  let c: LiveCanaryView | null | undefined = null;
  for (const until = Date.now() + 60_000; Date.now() < until; await sleep(200)) {
    c = (await web()).canary;
    if (c?.phase === 'stepping') break;
  }
  assert.equal(c?.phase, 'stepping', 'the canary reached its step');
  await sleep(1000);
  cp.kill();
  const killedAt = Date.now();
  await sleep(2000); // the edge alone keeps the split meanwhile
  const splitWhileDown = seen.filter((x) => x.sentAt > killedAt + 100 && x.sentAt < killedAt + 1900);
  await cp.start();
  t.diagnostic(`control plane back ${Date.now() - killedAt} ms after the SIGKILL; while down ${splitWhileDown.filter((x) => x.release === 'v6').length}/${splitWhileDown.length} requests went to the canary`);
  const restartedAt = Date.now();
  const d = (await cp.client.deployment(id)).deployment;
  const log = await deploymentLog(cp.client, id);
  assert.equal(d.state, 'rolled_back', log);
  assert.equal(d.errorCode, 'SLW_INTERRUPTED');
  assert.match(d.error ?? '', /stopped during the canary of v6 \(step 1\/1, 50 %\); it was aborted on restart and v4 serves everything/);
  assert.match(log, /one edge command: 2 replica\(s\) of v4 at weight 1, 1 of v6 at 0/);
  assert.equal(d.canary?.phase, 'aborted');
  assert.deepEqual(await shape(), ['v4:ready', 'v4:ready']);
  assert.equal((await web()).canary ?? null, null);
  await sleep(2000);
  const report = await stopLoad();
  assert.equal(report.failed, 0, JSON.stringify(report.errors));
  const afterRestart = seen.filter((x) => x.sentAt > restartedAt);
  assert.ok(afterRestart.length > 100 && afterRestart.every((x) => x.release === 'v4'), 'only the stable release answers after the restart');

  // Deploying again works: nothing is left holding the service.
  const again = await deployAndWait(cp.client, rolling('seven', { DELAY_MS: '20' }));
  assert.equal(again.state, 'succeeded', await deploymentLog(cp.client, again.id));
});

test('manual control: pause holds the step, resume runs it again, promote skips the rest; abort rolls back', async () => {
  // Step 1 lasts long enough for CLI cold starts under load to pause it, then resume and promote
  // it before it ends (3 s was not enough to pause, at times).
  const { deployments } = await deployDirectory(cp.client, canary('eight', [{ weight: 20, pause: '12s' }, { weight: 50, pause: '3s' }]));
  const id = deployments[0]!.id;
  for (let i = 0; i < 150 && (await web()).canary?.phase !== 'stepping'; i++) await sleep(200);
  const paused = await cli('deploy', 'pause', id);
  assert.equal(paused.code, 0, paused.stderr);
  await sleep(13_000); // longer than the step: a paused step does not end
  const c = (await web()).canary!;
  assert.equal(c.paused, true);
  assert.equal(c.step, 1);
  assert.equal(c.secondsToNextStep, null);
  const status = await cli('status');
  assert.match(status.stdout, /canary: v8 at step 1\/2 \(20 %\), paused; verdict so far/);
  assert.match(status.stdout, /stable v7: 2 replica\(s\), weight \d+ \(80 %\)/);
  // Resumed: the step's clock runs again from what was left (then promoted before it ends).
  const resumed = await cli('deploy', 'resume', id);
  assert.equal(resumed.code, 0, resumed.stderr);
  const r = (await web()).canary!;
  assert.deepEqual([r.paused, r.step], [false, 1]);
  assert.ok(r.secondsToNextStep !== null && r.secondsToNextStep > 0, `a resumed step counts down again (${r.secondsToNextStep})`);
  const promoted = await cli('deploy', 'promote', id);
  assert.equal(promoted.code, 0, promoted.stderr);
  const d = await waitDeployment(cp.client, id);
  assert.equal(d.state, 'succeeded', await deploymentLog(cp.client, id));
  assert.ok(!d.steps.some((s) => s.name.startsWith('canary step 2/2')), 'step 2 skipped');
  assert.match(d.canary?.outcome ?? '', /promoted by hand at step 1\/2/);

  const { deployments: next } = await deployDirectory(cp.client, canary('ten', [{ weight: 20, pause: '30s' }]));
  for (let i = 0; i < 150 && (await web()).canary?.phase !== 'stepping'; i++) await sleep(200);
  const aborted = await cli('deploy', 'abort', next[0]!.id);
  assert.equal(aborted.code, 0, aborted.stderr);
  const a = await waitDeployment(cp.client, next[0]!.id);
  assert.equal(a.state, 'rolled_back');
  assert.equal(a.errorCode, 'SLW_CANARY_ABORTED');
  assert.deepEqual(await shape(), ['v8:ready', 'v8:ready']);
  const late = await cli('deploy', 'abort', next[0]!.id);
  assert.notEqual(late.code, 0);
  assert.match(late.stderr, /has ended \(rolled_back\)/);
});
