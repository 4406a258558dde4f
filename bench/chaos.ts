/**
 * Chaos: a service of 2 replicas behind a real `slipway server` and its edge, under steady
 * open-model load and long requests for a fixed time, with faults injected at seeded random
 * moments, each kind several times, and a deploy started during each:
 * - replica: one replica SIGKILLed (`docker kill`);
 * - cp-idle / cp-deploy: the control plane SIGKILLed while idle / while a deploy is rolling, and
 *   started again 1 s later (what systemd's Restart=always with RestartSec=1 does);
 * - edge-worker: one HAProxy worker SIGKILLed; edge-all: the master and its workers SIGKILLed
 *   (what the OOM killer does); nothing here restarts the edge: that is the control plane's job;
 * - dockerd: the Docker engine stopped (SIGTERM) and started again as scripts/bootstrap-host.sh
 *   does (live-restore keeps the replicas running).
 * Everything is observed from outside: HTTP through the edge, the API, Docker, the edge's pid
 * file and admin socket in <data-dir>/edge/.
 *
 * Per fault kind it prints failed requests (main load and long requests), the outage (first to
 * last failure after the fault), the time to full recovery (from the fault until the consistency
 * check passes for good, the deploy started during the fault included) and the deploys' outcomes;
 * then a final consistency check: no orphan containers, running replicas = the live release's
 * count, edge servers = those replicas (up, ready), no deployment left running.
 *
 *   npm run bench -- chaos [--seconds 400] [--repeat 3] [--kinds replica,cp-idle,cp-deploy,edge-worker,edge-all,dockerd]
 *     [--seed N] [--rate N]
 *
 * The control plane's log is kept as /tmp/slipway-chaos-<seed>-server.log (the run's data
 * directory is removed). Without --rate the open-model rate is calibrated first (the highest of
 * a short ladder served with no failure and p99 ≤ 100 ms). The seed (random when not given) is printed: the same seed
 * and flags give the same schedule. The dockerd fault needs root and a dockerd started by
 * scripts/bootstrap-host.sh; it stops the host's engine for a few seconds, so never run this
 * beside other Docker tests.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { copyFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Docker from 'dockerode';
import { wholeNumber } from './lib/flags';
import { printTable } from './lib/table';
import { writeResult } from './lib/results';
import { childrenOf } from './lib/proc';
import { startRecordedLoad, type RecordedLoad } from './lib/chaos-load';
import { quantile, recoveryMs, windowFigures, type Check, type RequestRecord, type WindowFigures } from './lib/chaos-outage';
import { inconsistencies, parseServersState, type ConsistencyFacts } from './lib/chaos-consistency';
import { FAULT_KINDS, FAULT_LABELS, parseKinds, parseSeed, planSchedule, type FaultKind, type PlannedFault } from './lib/chaos-schedule';
import { ControlPlaneProcess } from '../test/support/control-plane-process';
import { TestProject } from '../test/support/test-project';
import { deployAndWait } from '../test/support/wait-deployment';
import { cannotRestartEngine, engineFacts, startDockerEngine, stopDockerEngine } from '../test/support/docker-engine';
import { deployDirectory } from '../src/client/upload-contexts';
import { sendCommand } from '../src/drivers/haproxy/runtime-api';
import { backendName } from '../src/core/ports/edge';
import { ACTIVE_STATES } from '../src/core/domain';

const PROJECT = 'benchchaos';
const SERVICE = 'web';
const ENV = 'production';
const LONG_RATE = 2;
const LONG_MS = 2000;
const MAIN_TIMEOUT_MS = 5000;
/** Longer than a long request, so a drained replica lets its long requests finish. */
const DRAIN_TIMEOUT = '3s';
/** systemd's RestartSec in the documented unit: the control plane is back after this. */
const RESTART_DELAY_MS = 1000;
const CHECK_EVERY_MS = 500;
/** Recovered: every check passed for this long (and the deploy of the fault has ended). */
const STABLE_MS = 3000;
/** A fault not recovered from by itself within this long is healed by hand (recorded). */
const RECOVERY_DEADLINE_MS = 90_000;
const DEPLOY_DEADLINE_MS = 180_000;
const CALIBRATION_LADDER = [100, 200, 300, 400];
const CALIBRATION_STEP_MS = 2000;
const CALIBRATION_P99_MS = 100;

interface Options {
  seconds: number;
  repeat: number;
  kinds: FaultKind[];
  seed: number;
  rate: number | undefined;
}

interface DeployOutcome {
  id: string | null;
  /** Final state, or 'refused' when the API did not take it. */
  state: string;
  error: string | null;
  /** When it was started, ms after the fault (negative: before it, cp-deploy). */
  startedMs: number;
  /** When it was seen ended, ms after the fault (null: it was not taken, or did not end). */
  endedMs: number | null;
}

interface FaultResult {
  n: number;
  kind: FaultKind;
  plannedAtMs: number;
  /** When the fault's action began: the kill, or (cp-deploy) the deploy it kills the control plane during. Its window starts here. */
  startedAt: number;
  firedAt: number;
  /** How late the fault fired because the previous one took longer to recover than its slot. */
  delayedMs: number;
  detail: string;
  deploy: DeployOutcome | null;
  /** The edge (or the API) did not come back by itself within RECOVERY_DEADLINE_MS: the bench restarted the control plane. */
  healedByHand: string | null;
}

interface FaultFigures extends FaultResult, WindowFigures {
  recoveryMs: number | null;
  /** The checks' problems seen in the window, each once, first seen first. */
  problemsSeen: string[];
}

export async function main(argv: string[]): Promise<void> {
  const opts = parseOptions(argv);
  const why = opts.kinds.includes('dockerd') ? cannotRestartEngine() : null;
  if (why) {
    console.log(`! dockerd fault skipped: ${why}`);
    opts.kinds = opts.kinds.filter((k) => k !== 'dockerd');
    if (opts.kinds.length === 0) throw new Error('--kinds: nothing left to inject');
  }
  const schedule = planSchedule({ kinds: opts.kinds, repeat: opts.repeat, seconds: opts.seconds, seed: opts.seed });
  console.log(`chaos: seed ${opts.seed}, ${opts.seconds} s, ${schedule.length} faults (${opts.kinds.join(', ')} × ${opts.repeat})`);
  for (const f of schedule) console.log(`  #${f.n} at ${(f.atMs / 1000).toFixed(1)} s: ${f.kind} (deploy +${f.deployDelayMs} ms, pick ${f.pick.toFixed(2)})`);

  const cp = await ControlPlaneProcess.create('bench-chaos');
  const app = new TestProject(PROJECT);
  const docker = new Docker();
  const records: RequestRecord[] = [];
  // `at`: when a check started; `endAt`: when its answer came (a check cut by the next fault belongs to that one).
  const checks: Array<Check & { endAt: number; problems: string[] }> = [];
  const results: FaultResult[] = [];
  let loads: RecordedLoad[] = [];
  let polling = false;
  let poller: Promise<void> = Promise.resolve();
  let rate = opts.rate;
  let calibration: Array<{ offered: number; failed: number; p99Ms: number }> = [];
  let deploys = 0;
  const nextVersion = (): { config: string; dir: string } => app.write({ version: `chaos-${++deploys}`, deploy: { drain_timeout: DRAIN_TIMEOUT } });
  const check = async (): Promise<string[]> => inconsistencies(await gatherFacts(cp, docker));
  let loadStart = 0;
  let loadEnd = 0;
  let final: string[] = [];
  try {
    await cp.start();
    await cp.client.createBaseImage('node');
    const v0 = await deployAndWait(cp.client, nextVersion());
    if (v0.state !== 'succeeded') throw new Error(`first deploy ended ${v0.state}: ${v0.error}`);
    const target = { url: cp.edgeUrl, hostHeader: app.domain };
    if (rate === undefined) ({ rate, steps: calibration } = await calibrate(target));

    loadStart = Date.now();
    loads = [
      startRecordedLoad({ ...target, ratePerSec: rate, path: '/', timeoutMs: MAIN_TIMEOUT_MS, cls: 'main', records }),
      startRecordedLoad({ ...target, ratePerSec: LONG_RATE, path: `/slow?ms=${LONG_MS}`, timeoutMs: LONG_MS + 8000, cls: 'long', records }),
    ];
    polling = true;
    poller = (async () => {
      while (polling) {
        const at = Date.now();
        const problems = await check().catch((err: Error) => [`check failed: ${err.message}`]);
        checks.push({ at, endAt: Date.now(), ok: problems.length === 0, problems });
        await sleep(Math.max(0, at + CHECK_EVERY_MS - Date.now()));
      }
    })();

    for (const f of schedule) {
      const due = loadStart + f.atMs;
      if (Date.now() < due) await sleep(due - Date.now());
      const delayedMs = Math.max(0, Date.now() - due);
      const r = await inject(f, { cp, docker, deploy: nextVersion });
      const result: FaultResult = { n: f.n, kind: f.kind, plannedAtMs: f.atMs, delayedMs, ...r, healedByHand: null };
      results.push(result);
      const recovered = await waitRecovered(checks, r.firedAt, RECOVERY_DEADLINE_MS);
      if (!recovered) {
        // Nothing brought it back: restart the control plane (which starts a missing edge) so the
        // next faults still measure something, and record that it took a hand.
        const last = checks[checks.length - 1]?.problems.join('; ') ?? 'no check';
        result.healedByHand = `not recovered ${RECOVERY_DEADLINE_MS / 1000} s after the fault (${last}): control plane restarted by the bench`;
        console.log(`  #${f.n} ${result.healedByHand}`);
        await cp.stop();
        await cp.start();
        await waitRecovered(checks, Date.now(), RECOVERY_DEADLINE_MS);
      }
      const w = windowFigures(records, r.firedAt, r.startedAt, Date.now());
      console.log(`  #${f.n} ${f.kind}${delayedMs > 1000 ? ` (fired ${(delayedMs / 1000).toFixed(1)} s late)` : ''}: ${r.detail}; so far ${w.failed} failed, ${w.longFailed} long failed, outage ${w.outageMs ?? '-'} ms; deploy ${r.deploy?.state ?? '-'}`);
    }
    await sleep(STABLE_MS);
  } finally {
    polling = false;
    await Promise.all(loads.map((l) => l.stop()));
    loadEnd = Date.now();
    await poller;
    if (!(await engineFacts())) {
      console.log('! the Docker engine does not answer: starting it (scripts/bootstrap-host.sh)');
      await startDockerEngine();
    }
    if (results.length === schedule.length) final = await finalCheck(check);
    // The control plane's log outlives the run (its data directory does not): what it did about each fault.
    const keptLog = path.join(os.tmpdir(), `slipway-chaos-${opts.seed}-server.log`);
    try {
      copyFileSync(cp.logFile, keptLog);
      console.log(`control plane log: ${keptLog}`);
    } catch {
      // no log written
    }
    await cp.destroy();
  }

  const figures: FaultFigures[] = results.map((r, i) => {
    // A window runs from the fault's start to the next one's (cp-deploy starts with its deploy, before the kill).
    const to = results[i + 1]?.startedAt ?? loadEnd;
    const w = windowFigures(records, r.firedAt, r.startedAt, to);
    const inWindow = checks.filter((c) => c.at >= r.startedAt && c.endAt < to);
    const problemsSeen = [...new Set(inWindow.flatMap((c) => c.problems))];
    return { ...r, ...w, recoveryMs: recoveryMs(inWindow, r.firedAt, w.lastFailureMs), problemsSeen };
  });
  const before = windowFigures(records, loadStart, loadStart, results[0]?.startedAt ?? loadEnd);
  report({ opts, rate: rate!, calibration, figures, before, final, records });
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string', default: '400' },
      repeat: { type: 'string', default: '3' },
      kinds: { type: 'string', default: FAULT_KINDS.join(',') },
      seed: { type: 'string' },
      rate: { type: 'string' },
    },
  });
  return {
    seconds: wholeNumber('--seconds', values.seconds),
    repeat: wholeNumber('--repeat', values.repeat),
    kinds: parseKinds(values.kinds),
    seed: values.seed === undefined ? Math.floor(Math.random() * 1_000_000) : parseSeed(values.seed),
    rate: values.rate === undefined ? undefined : wholeNumber('--rate', values.rate),
  };
}

/** Everything the consistency check looks at, gathered from outside the control plane. */
async function gatherFacts(cp: ControlPlaneProcess, docker: Docker): Promise<ConsistencyFacts> {
  const [status, deployments, containers, edge] = await Promise.all([
    cp.client.status(PROJECT, ENV),
    cp.client.deployments(PROJECT, { env: ENV, service: SERVICE, limit: 20 }),
    docker.listContainers({ all: true, filters: { label: [`slipway.project=${PROJECT}`, `slipway.service=${SERVICE}`, `slipway.env=${ENV}`] } }),
    sendCommand(path.join(cp.dataDir, 'edge', 'admin.sock'), `show servers state ${backendName(PROJECT, SERVICE, ENV)}`, 2000).then(parseServersState, () => null),
  ]);
  const web = status.services.find((s) => s.service === SERVICE);
  const active = new Set(deployments.deployments.filter((d) => (ACTIVE_STATES as readonly string[]).includes(d.state)).map((d) => d.id));
  if (web?.activeDeployment) active.add(web.activeDeployment.id);
  return {
    live: web?.currentRelease ? { number: web.currentRelease.number, replicas: web.currentRelease.replicas } : null,
    containers: containers.map((c) => ({ name: (c.Names[0] ?? c.Id).replace(/^\//, ''), running: c.State === 'running', release: Number(c.Labels['slipway.release']) })),
    edge,
    activeDeployments: [...active],
  };
}

interface InjectContext {
  cp: ControlPlaneProcess;
  docker: Docker;
  deploy: () => { config: string; dir: string };
}

/** Injects one fault and starts (or, cp-deploy, has started) a deploy during it; resolves when that deploy has ended. */
async function inject(f: PlannedFault, ctx: InjectContext): Promise<{ startedAt: number; firedAt: number; detail: string; deploy: DeployOutcome | null }> {
  const { cp, docker } = ctx;
  const deployLater = (firedAt: number): Promise<DeployOutcome> => sleep(f.deployDelayMs).then(() => deployDuring(cp, ctx.deploy(), firedAt));
  switch (f.kind) {
    case 'replica': {
      const running = await docker.listContainers({ filters: { label: [`slipway.project=${PROJECT}`, `slipway.service=${SERVICE}`], status: ['running'] } });
      if (running.length === 0) throw new Error('replica fault: no running replica to kill');
      const victim = running[Math.floor(f.pick * running.length)]!;
      const firedAt = Date.now();
      await docker.getContainer(victim.Id).kill({ signal: 'SIGKILL' });
      return { startedAt: firedAt, firedAt, detail: `killed ${victim.Names[0]?.replace(/^\//, '')}`, deploy: await deployLater(firedAt) };
    }
    case 'cp-idle': {
      const firedAt = Date.now();
      cp.kill();
      await sleep(RESTART_DELAY_MS);
      await cp.start();
      const back = Date.now() - firedAt;
      return { startedAt: firedAt, firedAt, detail: `control plane SIGKILLed, answering again ${back} ms later`, deploy: await deployLater(firedAt) };
    }
    case 'cp-deploy': {
      const startedAt = Date.now();
      const { deployments } = await deployDirectory(cp.client, ctx.deploy());
      const id = deployments[0]!.id;
      // Mid-deploy: once it rolls (replicas starting, edge changing), then the schedule's delay.
      let state = deployments[0]!.state;
      for (const until = Date.now() + 60_000; Date.now() < until && state !== 'rolling' && (ACTIVE_STATES as readonly string[]).includes(state); await sleep(100)) {
        state = (await cp.client.deployment(id)).deployment.state;
      }
      await sleep(f.deployDelayMs);
      state = (await cp.client.deployment(id)).deployment.state;
      const firedAt = Date.now();
      cp.kill();
      await sleep(RESTART_DELAY_MS);
      await cp.start();
      const back = Date.now() - firedAt;
      const outcome = await followDeployment(cp, id, firedAt, startedAt - firedAt);
      return { startedAt, firedAt, detail: `control plane SIGKILLed with deployment ${id} ${state}, answering again ${back} ms later`, deploy: outcome };
    }
    case 'edge-worker':
    case 'edge-all': {
      const master = edgeMasterPid(cp);
      const workers = childrenOf(master).filter((p) => comm(p) === 'haproxy');
      if (workers.length === 0) throw new Error(`edge fault: HAProxy master ${master} has no worker`);
      const victims = f.kind === 'edge-all' ? [...workers, master] : [workers[Math.floor(f.pick * workers.length)]!];
      const firedAt = Date.now();
      for (const pid of victims) process.kill(pid, 'SIGKILL');
      const detail = f.kind === 'edge-all' ? `SIGKILLed master ${master} and worker(s) ${workers.join(', ')}` : `SIGKILLed worker ${victims[0]} (master ${master})`;
      return { startedAt: firedAt, firedAt, detail, deploy: await deployLater(firedAt) };
    }
    case 'dockerd': {
      const firedAt = Date.now();
      const deploy = deployLater(firedAt);
      await stopDockerEngine();
      const down = Date.now() - firedAt;
      await startDockerEngine();
      return { startedAt: firedAt, firedAt, detail: `dockerd stopped in ${down} ms, answering again ${Date.now() - firedAt} ms after the SIGTERM`, deploy: await deploy };
    }
  }
}

function edgeMasterPid(cp: ControlPlaneProcess): number {
  const file = path.join(cp.dataDir, 'edge', 'haproxy.pid');
  const pid = Number(readFileSync(file, 'utf8').trim().split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || comm(pid) !== 'haproxy') throw new Error(`edge fault: ${file} does not name a running HAProxy`);
  return pid;
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Starts a deploy (retrying while the API does not answer, e.g. the control plane restarting) and follows it to its end. */
async function deployDuring(cp: ControlPlaneProcess, body: { config: string; dir: string }, faultAt: number): Promise<DeployOutcome> {
  const startedMs = Date.now() - faultAt;
  for (const until = Date.now() + 60_000; ; await sleep(500)) {
    try {
      const { deployments } = await deployDirectory(cp.client, body);
      return await followDeployment(cp, deployments[0]!.id, faultAt, startedMs);
    } catch (err) {
      const refused = (err as { status?: number }).status !== undefined; // the API answered: it refused this deploy
      if (refused || Date.now() > until) return { id: null, state: 'refused', error: (err as Error).message.slice(0, 300), startedMs, endedMs: null };
    }
  }
}

/** Polls a deployment until it ends (API errors while the control plane is down are waited out). */
async function followDeployment(cp: ControlPlaneProcess, id: string, faultAt: number, startedMs: number): Promise<DeployOutcome> {
  for (const until = Date.now() + DEPLOY_DEADLINE_MS; Date.now() < until; await sleep(250)) {
    const d = await cp.client.deployment(id).then((r) => r.deployment, () => null);
    if (d && !(ACTIVE_STATES as readonly string[]).includes(d.state)) return { id, state: d.state, error: d.error, startedMs, endedMs: Date.now() - faultAt };
  }
  return { id, state: `still running after ${DEPLOY_DEADLINE_MS / 1000} s`, error: null, startedMs, endedMs: null };
}

/** Waits until every check of the last STABLE_MS after `since` passed; false at the deadline. */
async function waitRecovered(checks: readonly Check[], since: number, deadlineMs: number): Promise<boolean> {
  for (const until = since + deadlineMs; Date.now() < until; await sleep(CHECK_EVERY_MS)) {
    const recent = checks.filter((c) => c.at >= Math.max(since, Date.now() - STABLE_MS));
    const span = recent.length > 0 ? recent[recent.length - 1]!.at - recent[0]!.at : 0;
    if (span >= STABLE_MS - CHECK_EVERY_MS && recent.every((c) => c.ok)) return true;
  }
  return false;
}

/** The consistency check after the run, given up to 30 s to pass. */
async function finalCheck(check: () => Promise<string[]>): Promise<string[]> {
  let problems: string[] = [];
  for (const until = Date.now() + 30_000; Date.now() < until; await sleep(1000)) {
    problems = await check().catch((err: Error) => [`check failed: ${err.message}`]);
    if (problems.length === 0) break;
  }
  return problems;
}

async function calibrate(target: { url: string; hostHeader: string }): Promise<{ rate: number; steps: Array<{ offered: number; failed: number; p99Ms: number }> }> {
  console.log(`calibrating the open-model rate (${CALIBRATION_STEP_MS / 1000} s per rate, no failure, p99 ≤ ${CALIBRATION_P99_MS} ms)…`);
  const steps: Array<{ offered: number; failed: number; p99Ms: number }> = [];
  let best = 0;
  for (const offered of CALIBRATION_LADDER) {
    const records: RequestRecord[] = [];
    const load = startRecordedLoad({ ...target, ratePerSec: offered, path: '/', timeoutMs: MAIN_TIMEOUT_MS, cls: 'main', records });
    await sleep(CALIBRATION_STEP_MS);
    await load.stop();
    const failed = records.filter((r) => !r.ok).length;
    const p99Ms = quantile(records.map((r) => r.endAt - r.sentAt), 0.99);
    steps.push({ offered, failed, p99Ms });
    console.log(`  ${offered} req/s: ${records.length} requests, ${failed} failed, p99 ${p99Ms} ms`);
    if (failed > 0 || p99Ms > CALIBRATION_P99_MS) break;
    best = offered;
  }
  if (best === 0) {
    best = CALIBRATION_LADDER[0]!;
    console.log(`  ! not even ${best} req/s within the bound (a loaded machine?): using it anyway`);
  }
  console.log(`  → open model at ${best} req/s`);
  return { rate: best, steps };
}

interface ReportInput {
  opts: Options;
  rate: number;
  calibration: Array<{ offered: number; failed: number; p99Ms: number }>;
  figures: FaultFigures[];
  before: WindowFigures;
  final: string[];
  records: RequestRecord[];
}

function report({ opts, rate, calibration, figures, before, final, records }: ReportInput): void {
  console.log('');
  console.log(`load: open model ${rate} req/s + ${LONG_RATE}/s long requests of ${LONG_MS} ms; ${records.length} requests in all; seed ${opts.seed}`);
  console.log(`before the first fault: ${before.requests} requests, ${before.failed} failed, ${before.longFailed} long failed`);
  const s = (ms: number | null): string => (ms === null ? '-' : (ms / 1000).toFixed(2));
  const rows = opts.kinds.map((kind) => {
    const fs = figures.filter((f) => f.kind === kind);
    const recoveries = fs.map((f) => f.recoveryMs);
    const outages = fs.map((f) => f.outageMs);
    return {
      fault: kind,
      n: fs.length,
      requests: fs.reduce((a, f) => a + f.requests, 0),
      failed: fs.reduce((a, f) => a + f.failed, 0),
      'long failed': fs.reduce((a, f) => a + f.longFailed, 0),
      'outage s (each)': outages.map(s).join(' ') || '-',
      'max outage s': s(outages.every((o) => o === null) ? null : Math.max(...outages.map((o) => o ?? 0))),
      'recovery s (each)': recoveries.map(s).join(' ') || '-',
      'deploy ended s (each)': fs.map((f) => s(f.deploy?.endedMs ?? null)).join(' ') || '-',
      'deploys ok': `${fs.filter((f) => f.deploy?.state === 'succeeded').length}/${fs.length}`,
      'healed by hand': fs.filter((f) => f.healedByHand).length,
    };
  });
  printTable(rows);
  console.log('\nper fault:');
  for (const f of figures) {
    const kinds = Object.entries(f.errors).map(([k, v]) => `${k}×${v}`).join(' ') || '-';
    console.log(`  #${f.n} ${FAULT_LABELS[f.kind]}: ${f.detail}`);
    console.log(`     ${f.failed}/${f.requests} failed, ${f.longFailed}/${f.longRequests} long failed (${kinds}); failures from +${f.firstFailureMs ?? '-'} to +${f.lastFailureMs ?? '-'} ms; recovered in ${s(f.recoveryMs)} s`);
    if (f.deploy) console.log(`     deploy started at ${f.deploy.startedMs >= 0 ? '+' : ''}${f.deploy.startedMs} ms, ended at +${f.deploy.endedMs ?? '-'} ms: ${f.deploy.state}${f.deploy.error ? ` (${f.deploy.error})` : ''}`);
    if (f.problemsSeen.length) console.log(`     inconsistencies seen meanwhile: ${f.problemsSeen.slice(0, 6).join(' | ')}${f.problemsSeen.length > 6 ? ` | … ${f.problemsSeen.length - 6} more` : ''}`);
    if (f.healedByHand) console.log(`     ! ${f.healedByHand}`);
  }
  console.log(`\nfinal consistency check: ${final.length === 0 ? 'consistent (no orphan containers, replicas = the live release, edge servers = its ready replicas, no deployment running)' : final.join('; ')}`);
  const file = writeResult('chaos', {
    machine: { cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30), loadAvg: os.loadavg() },
    seed: opts.seed,
    seconds: opts.seconds,
    repeat: opts.repeat,
    kinds: opts.kinds,
    rate,
    calibration,
    longRequests: { ratePerSec: LONG_RATE, ms: LONG_MS },
    before,
    rows,
    faults: figures,
    final,
  });
  console.log(`\nwritten ${file}`);
}
