/**
 * How long a deploy of a prebuilt image, and a rollback, take until all traffic is on the
 * target release, for 1, 2 and 4 replicas of examples/hello under the rolling strategy:
 * - "API → succeeded": from the API call to the deployment's recorded end;
 * - "API → last old": from the API call to the last answer an independent observer (a
 *   fixed-rate load through the edge) got from any other release: after it, 100 % of
 *   traffic is on the target;
 * - phases from the deployment's steps and log timestamps: image (resolving the prebuilt
 *   image), start (container created + started), ready (health probes pass), switch (the
 *   edge starts routing to it), drain (old replica drained at the edge and stopped), other
 *   (the rest: queueing, recording the release, edge route check, bookkeeping);
 * - the app's own readiness (container create → first /health 200, polled every 5 ms), so
 *   "how much does Slipway add" can be judged;
 * - baseline: `docker-compose up -d` of the same image after an env change, port published
 *   on 127.0.0.1, until the new container answers.
 *
 *   npm run bench -- deploy-latency [--rounds 3] [--replicas 1,2,4] [--rate 200] [--max-surge 1|all]
 *
 * `--max-surge all` sets max_surge to the replica count (one batch); its result is written as
 * deploy-latency-surge-all, so it never replaces the default run's.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import Docker from 'dockerode';
import { startLoad, type LoadRun } from './lib/load-generator';
import { wholeNumber } from './lib/flags';
import { printTable } from './lib/table';
import { writeResult } from './lib/results';
import { ComposeService, waitHttp } from './lib/compose';
import type { DeploymentView } from '../src/core/contract/views';
import type { SlipwayClient } from '../src/client/api-client';
import { ControlPlaneProcess } from '../test/support/control-plane-process';
import { TestProject } from '../test/support/test-project';
import { deployAndWait, waitDeployment } from '../test/support/wait-deployment';

const PROJECT = 'benchdl';
/** The example tests' fast settings (test/support/test-project.ts); interval × successes bounds "ready" from below. */
const HEALTH = { path: '/health', interval: '200ms', timeout: '1s', successes: 2, grace: '0s', deadline: '30s' };
const DEPLOY = { strategy: 'rolling', max_unavailable: 0, drain_timeout: '10s', stop_timeout: '5s' };
/** Pause before and after each measured operation: the observer is steady, and answers in flight at the end land. */
const SETTLE_MS = 400;

type Op = 'deploy' | 'rollback';

interface Phases {
  image: number;
  start: number;
  ready: number;
  switch: number;
  drain: number;
  other: number;
}

interface Sample {
  op: Op;
  replicas: number;
  release: number;
  /** API call → the deployment's finishedAt. */
  succeededMs: number;
  /** API call → last answer from another release (completion time). */
  lastOldMs: number;
  /** API call → first answer from the target release. */
  firstNewMs: number;
  phases: Phases;
  /** API call → the deployment left `queued` (part of other). */
  queueMs: number;
  /** Every recorded step with its duration, for the breakdown of other. */
  steps: Array<{ name: string; ms: number }>;
  /** Of drain: the part the edge waited for in-flight requests (server log "server drained"); the rest is stop + remove. */
  drainWaitMs: number;
  requests: number;
  failed: number;
}

interface AppReadiness {
  /** createContainer → start() returned. */
  createStartMs: number;
  /** start() returned → first /health 200. */
  bootMs: number;
  /** createContainer → first /health 200: the app's own readiness time. */
  totalMs: number;
  /** `docker stop` (SIGTERM, the app exits) + `docker rm` of the idle container: what retiring a replica costs at least. */
  stopRemoveMs: number;
}

interface Observation {
  at: number;
  release: string;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: 'string', default: '3' },
      replicas: { type: 'string', default: '1,2,4' },
      rate: { type: 'string', default: '200' },
      'max-surge': { type: 'string', default: '1' },
    },
  });
  const rounds = wholeNumber('--rounds', values.rounds);
  const replicaCounts = values.replicas.split(',').map((r) => wholeNumber('--replicas', r));
  const rate = wholeNumber('--rate', values.rate);
  const surgeAll = values['max-surge'] === 'all';
  const surge = surgeAll ? 0 : wholeNumber('--max-surge', values['max-surge']);
  /** The deploy settings for n replicas: max_surge n starts them all in one batch. */
  const deploy = (n: number) => ({ ...DEPLOY, max_surge: surgeAll ? n : surge });

  const cp = await ControlPlaneProcess.create('bench-dl');
  const app = new TestProject(PROJECT);
  const seen: Observation[] = [];
  let load: LoadRun | null = null;
  const samples: Sample[] = [];
  const appReady: AppReadiness[] = [];
  let image = '';
  try {
    await cp.start();
    await cp.client.createBaseImage('node');
    const first = await deployAndWait(cp.client, app.write({ version: 'v0', replicas: 1, health: HEALTH, deploy: deploy(1) }));
    if (first.state !== 'succeeded') throw new Error(`initial deploy failed: ${first.error}`);
    image = (await cp.client.releases(PROJECT, 'web')).releases[0]!.imageRef;
    console.log(`image ${image}; health: interval ${HEALTH.interval}, ${HEALTH.successes} successes, grace ${HEALTH.grace}`);

    load = startLoad({
      url: cp.edgeUrl,
      hostHeader: app.domain,
      ratePerSec: rate,
      inspect: (r) => {
        if (r.status >= 200 && r.status < 300) seen.push({ at: r.at, release: String(r.headers['x-slipway-release'] ?? '?') });
      },
    });
    const deployImage = (version: string, replicas: number) => () =>
      cp.client.deploy({ config: app.configText({ version, replicas, health: HEALTH, deploy: deploy(replicas) }), image, env: 'production' }).then((r) => r.deployments[0]!.id);
    const rollback = () => cp.client.rollback(PROJECT, 'web', { env: 'production' }).then((r) => r.deployment.id);

    for (const n of replicaCounts) {
      // Unmeasured: the service runs n replicas before the measured rounds start.
      const scaled = await waitDeployment(cp.client, await deployImage(`s${n}`, n)());
      if (scaled.state !== 'succeeded') throw new Error(`scaling to ${n} failed: ${scaled.error}`);
      console.log(`${n} replica(s): ${rounds} rounds of deploy (prebuilt image) + rollback under ${rate} req/s…`);
      for (let i = 1; i <= rounds; i++) {
        // The app alone, under the same observer load and docker state as the deploy that follows.
        appReady.push(await appReadiness(image, cp.network, appReady.length));
        samples.push(await measure(cp, load, seen, 'deploy', n, deployImage(`d${n}-${i}`, n)));
        samples.push(await measure(cp, load, seen, 'rollback', n, rollback));
      }
    }
  } finally {
    await load?.stop();
    await cp.destroy();
    rmSync(app.dir, { recursive: true, force: true });
  }

  console.log(`docker-compose baseline: ${rounds} env changes of the same image…`);
  const compose = await composeBaseline(image, rounds);
  report({ rounds, rate, maxSurge: values['max-surge'], replicaCounts, samples, appReady, compose });
}

/** One deploy or rollback under the observer: its end-to-end times, phases and failed requests. */
async function measure(cp: ControlPlaneProcess, load: LoadRun, seen: Observation[], op: Op, replicas: number, call: () => Promise<string>): Promise<Sample> {
  await sleep(SETTLE_MS);
  const before = load.snapshot();
  const from = seen.length;
  const t0 = Date.now();
  const id = await call();
  const d = await waitDeployment(cp.client, id);
  if (d.state !== 'succeeded') throw new Error(`${op} with ${replicas} replica(s) failed: ${d.error}`);
  await sleep(SETTLE_MS);
  const after = load.snapshot();

  const target = `v${d.releaseNumber}`;
  const answers = seen.slice(from);
  const firstNew = Math.min(...answers.filter((a) => a.release === target).map((a) => a.at));
  const lastOld = Math.max(t0, ...answers.filter((a) => a.release !== target).map((a) => a.at));
  const logs = await logLines(cp.client, id);
  const phases = phasesOf(d, logs, t0);
  const sample: Sample = {
    op,
    replicas,
    release: d.releaseNumber!,
    succeededMs: Date.parse(d.finishedAt!) - t0,
    lastOldMs: lastOld - t0,
    firstNewMs: firstNew - t0,
    phases,
    queueMs: Date.parse(d.startedAt!) - t0,
    steps: d.steps.map((st) => ({ name: st.name, ms: Date.parse(st.finishedAt!) - Date.parse(st.startedAt) })),
    drainWaitMs: drainWaits(cp.logFile, retiredReplicas(logs)),
    requests: after.total - before.total,
    failed: after.failed - before.failed,
  };
  const p = sample.phases;
  console.log(
    `  ${op} → ${target}: succeeded ${sample.succeededMs} ms, last old ${sample.lastOldMs} ms | image ${p.image} start ${p.start} ready ${p.ready} switch ${p.switch} drain ${p.drain} (wait ${sample.drainWaitMs}) other ${p.other} | ${sample.failed} failed of ${sample.requests}`,
  );
  return sample;
}

async function logLines(client: SlipwayClient, id: string): Promise<Array<{ message: string; at: number }>> {
  return (await client.deploymentLogs(id)).lines.map((l) => ({ message: l.message, at: Date.parse(l.at) }));
}

/**
 * Splits API call → finishedAt into phases. Steps give the boundaries (build = image;
 * "batch i/n: start …" = start + ready + switch; "batch i/n: drain and stop …" = drain); inside
 * a start step the log lines "started X at", "X is ready" mark where start ends and ready
 * ends (the last replica of the batch counts: the step waits for all of them). Summed over batches.
 */
function phasesOf(d: DeploymentView, logs: Array<{ message: string; at: number }>, t0: number): Phases {
  const ms = (iso: string | null) => Date.parse(iso!);
  const phases: Phases = { image: 0, start: 0, ready: 0, switch: 0, drain: 0, other: 0 };
  for (const s of d.steps) {
    const from = ms(s.startedAt);
    const to = ms(s.finishedAt);
    if (s.name === 'build') phases.image += to - from;
    else if (/^batch \d+\/\d+: drain and stop /.test(s.name)) phases.drain += to - from;
    else if (/^batch \d+\/\d+: start /.test(s.name)) {
      const inside = logs.filter((l) => l.at >= from && l.at <= to);
      const started = Math.max(...inside.filter((l) => /^started \S+ at /.test(l.message)).map((l) => l.at));
      const ready = Math.max(...inside.filter((l) => / is ready \(/.test(l.message)).map((l) => l.at));
      if (!Number.isFinite(started) || !Number.isFinite(ready)) throw new Error(`step "${s.name}": no "started"/"is ready" log lines inside it`);
      phases.start += started - from;
      phases.ready += ready - started;
      phases.switch += to - ready;
    }
  }
  const accounted = phases.image + phases.start + phases.ready + phases.switch + phases.drain;
  phases.other = ms(d.finishedAt) - t0 - accounted;
  return phases;
}

/** Names of the old replicas the deployment retired, from its log ("retired replica X (release vN)"). */
function retiredReplicas(logs: Array<{ message: string }>): string[] {
  return logs.map((l) => /^retired replica (\S+) /.exec(l.message)?.[1]).filter((n): n is string => n !== undefined);
}

/** Sum of the edge's drain waits ("server drained" in the server log, with waitedMs) for these replicas. */
function drainWaits(logFile: string, names: string[]): number {
  if (names.length === 0) return 0;
  let total = 0;
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('"server drained"') && !line.includes('drain timed out')) continue;
    try {
      const entry = JSON.parse(line) as { server?: string; waitedMs?: number };
      if (entry.server && names.includes(entry.server)) total += entry.waitedMs ?? 0;
    } catch {
      // not a JSON line
    }
  }
  return total;
}

/**
 * The app alone: a container of the same image on the same network, with Docker's init as
 * the replicas have, timed from create to the first /health 200 (polled every 5 ms), then
 * stopped and removed the way a replica is retired (timed too).
 */
async function appReadiness(image: string, network: string, i: number): Promise<AppReadiness> {
  const docker = new Docker();
  const t0 = Date.now();
  const c = await docker.createContainer({
    name: `${PROJECT}-appready-${process.pid}-${i}`,
    Image: image,
    Env: ['PORT=3000', 'APP_VERSION=probe'],
    HostConfig: { NetworkMode: network, Init: true },
  });
  try {
    await c.start();
    const started = Date.now();
    const ip = (await c.inspect()).NetworkSettings.Networks[network]?.IPAddress;
    if (!ip) throw new Error(`app readiness probe: container has no address on ${network}`);
    await waitHttp(`http://${ip}:3000/health`, { intervalMs: 5 });
    const ready = Date.now();
    await c.stop({ t: 5 });
    await c.remove();
    const sample = { createStartMs: started - t0, bootMs: ready - started, totalMs: ready - t0, stopRemoveMs: Date.now() - ready };
    console.log(`  app alone: create + start ${sample.createStartMs} ms, boot ${sample.bootMs} ms, stop + rm ${sample.stopRemoveMs} ms`);
    return sample;
  } finally {
    await c.remove({ force: true }).catch(() => undefined); // already gone unless something above failed
  }
}

interface ComposeSample {
  /** `docker-compose up -d` call → it returned. */
  commandMs: number;
  /** `docker-compose up -d` call → the new container answers `/` with the new version. */
  answersMs: number;
}

/** `docker-compose up -d` after an env change (the container is recreated), until the new one answers on the published port. */
async function composeBaseline(image: string, rounds: number): Promise<ComposeSample[]> {
  const svc = await ComposeService.create(image);
  const out: ComposeSample[] = [];
  try {
    await svc.up('c0');
    await waitHttp(`${svc.url}health`);
    for (let i = 1; i <= rounds; i++) {
      await sleep(SETTLE_MS);
      const version = `c${i}`;
      const t0 = Date.now();
      await svc.up(version);
      const returned = Date.now();
      await waitHttp(svc.url, { intervalMs: 5, accept: (body) => versionOf(body) === version });
      out.push({ commandMs: returned - t0, answersMs: Date.now() - t0 });
      console.log(`  compose → ${version}: command ${returned - t0} ms, new container answers at ${Date.now() - t0} ms`);
    }
  } finally {
    await svc.down();
  }
  return out;
}

function versionOf(body: string): string | null {
  try {
    return (JSON.parse(body) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}

/**
 * One row per operation and replica count: end-to-end medians and maxima, median phases.
 * Medians, because on a shared 2-core machine one run in a few is slowed by someone else's work.
 */
function summaryRows(samples: Sample[], replicaCounts: number[]): Array<Record<string, string | number>> {
  const rows: Array<Record<string, string | number>> = [];
  for (const op of ['deploy', 'rollback'] as const) {
    for (const n of replicaCounts) {
      const s = samples.filter((x) => x.op === op && x.replicas === n);
      if (s.length === 0) continue;
      const phase = (k: keyof Phases) => Math.round(median(s.map((x) => x.phases[k])));
      rows.push({
        operation: op === 'deploy' ? 'deploy (prebuilt image)' : 'rollback (image on host)',
        replicas: n,
        runs: s.length,
        succeededMedian: Math.round(median(s.map((x) => x.succeededMs))),
        succeededMax: Math.max(...s.map((x) => x.succeededMs)),
        lastOldMedian: Math.round(median(s.map((x) => x.lastOldMs))),
        lastOldMax: Math.max(...s.map((x) => x.lastOldMs)),
        image: phase('image'),
        start: phase('start'),
        ready: phase('ready'),
        switch: phase('switch'),
        drain: phase('drain'),
        drainWait: Math.round(median(s.map((x) => x.drainWaitMs))),
        other: phase('other'),
        failed: s.reduce((a, x) => a + x.failed, 0),
      });
    }
  }
  return rows;
}

/** What Slipway is compared with: the app alone, and docker-compose. */
function referenceRows(appReady: AppReadiness[], compose: ComposeSample[]): Array<Record<string, string | number>> {
  const stat = (what: string, xs: number[]) => ({ reference: what, runs: xs.length, medianMs: Math.round(median(xs)), maxMs: Math.max(...xs) });
  const references = [
    stat("app's own readiness: docker create → first /health 200", appReady.map((a) => a.totalMs)),
    stat('  of which docker create + start', appReady.map((a) => a.createStartMs)),
    stat('  of which app boot (start → first 200)', appReady.map((a) => a.bootMs)),
    stat('docker stop + rm of the idle app (SIGTERM → exit)', appReady.map((a) => a.stopRemoveMs)),
    stat('docker-compose up -d (env change) → new container answers', compose.map((c) => c.answersMs)),
    stat('  of which the command itself', compose.map((c) => c.commandMs)),
  ];
  return references;
}

function report(r: { rounds: number; rate: number; maxSurge: string; replicaCounts: number[]; samples: Sample[]; appReady: AppReadiness[]; compose: ComposeSample[] }): void {
  const appReadyMs = Math.round(median(r.appReady.map((a) => a.totalMs)));
  const rows = summaryRows(r.samples, r.replicaCounts);
  const references = referenceRows(r.appReady, r.compose);
  console.log(`\nhealth: interval ${HEALTH.interval}, timeout ${HEALTH.timeout}, successes ${HEALTH.successes}, grace ${HEALTH.grace}; deploy: max_surge ${r.maxSurge}, max_unavailable ${DEPLOY.max_unavailable}; observer ${r.rate} req/s\n`);
  printTable(rows);
  console.log('');
  printTable(references);
  console.log('');
  const goals = judgeGoals(r.samples, appReadyMs);
  for (const g of goals) console.log(`goal: ${g.goal}: ${g.measured} → ${g.holds ? 'holds' : 'MISSED'}`);
  const file = writeResult(r.maxSurge === '1' ? 'deploy-latency' : `deploy-latency-surge-${r.maxSurge}`, {
    machine: { cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30) },
    rounds: r.rounds,
    observerRatePerSec: r.rate,
    settings: { health: HEALTH, deploy: { ...DEPLOY, max_surge: r.maxSurge } },
    appReadiness: r.appReady,
    rows,
    references,
    goals,
    samples: r.samples,
    compose: r.compose,
  });
  console.log(`\nwritten ${file}`);
}

/** The goals, judged on the medians of the 1-replica runs (worst case also shown). */
function judgeGoals(samples: Sample[], appReadyMs: number): Array<{ goal: string; measured: string; holds: boolean }> {
  const goals: Array<{ goal: string; measured: string; holds: boolean }> = [];
  const deploys = samples.filter((s) => s.op === 'deploy' && s.replicas === 1);
  if (deploys.length > 0) {
    const beyond = median(deploys.map((s) => s.succeededMs)) - appReadyMs;
    const beyondTraffic = median(deploys.map((s) => s.lastOldMs)) - appReadyMs;
    goals.push({
      goal: 'deploy of a prebuilt image, 1 replica, ≤ ~1.5 s beyond the app’s own readiness',
      measured: `median ${Math.round(beyond)} ms beyond to succeeded, ${Math.round(beyondTraffic)} ms beyond to the last old answer (app readiness median ${appReadyMs} ms)`,
      holds: beyond <= 1500,
    });
  }
  const rollbacks = samples.filter((s) => s.op === 'rollback' && s.replicas === 1);
  if (rollbacks.length > 0) {
    const end = median(rollbacks.map((s) => s.succeededMs));
    goals.push({
      goal: 'rollback to a release whose image is on the host, 1 replica, < 2 s end to end',
      measured: `${Math.round(end)} ms median, ${Math.max(...rollbacks.map((s) => s.succeededMs))} ms max to succeeded`,
      holds: end < 2000,
    });
  }
  return goals;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
