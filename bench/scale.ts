/**
 * Scale: N static services × R replicas (busybox httpd from the offline static base image)
 * deployed in one request to one control plane.
 *
 * 1. Time to converge, from the API call: every deployment succeeded; then every replica
 *    running, on the current release and `ready` at the edge in the project's status, and
 *    every domain answering 200 through the edge (R probes per domain with its Host header).
 *    The check starts once every deployment has succeeded (polling during the rollout would
 *    load the control plane it measures), so that figure is an upper bound.
 * 2. API latency of the list/status calls, sequential (no other client), on the N-service
 *    project and on a 1-service project in the same control plane (the baseline). There is
 *    no endpoint that lists only services: GET /projects names each project's services and
 *    the status returns them with their replicas.
 * 3. The reconciler: its pass time over the whole fleet while idle (from the control plane's
 *    `slipway_loop_duration_seconds{loop="reconciler"}` in /metrics, over `--idle` seconds), and
 *    the time from killing one replica (SIGKILL, behind Slipway's back) to its repair having
 *    succeeded and the service serving with all its replicas again.
 *
 *   npm run bench -- scale [--services 50] [--replicas 2] [--runs 50]
 */
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import Docker from 'dockerode';
import { parseArgs } from 'node:util';
import { wholeNumber } from './lib/flags';
import { printTable } from './lib/table';
import { writeResult } from './lib/results';
import { deployFleet, fleetDomain, fleetService, type Fleet } from './lib/static-fleet';
import { timeCall } from './lib/call-latency';
import { ControlPlaneProcess } from '../test/support/control-plane-process';
import { getWithHost } from '../test/support/http-get';

const docker = new Docker();


/** Why the fleet has not converged yet, or null when every replica is healthy in status. */
async function statusGap(cp: ControlPlaneProcess, fleet: Fleet): Promise<string | null> {
  const { services } = await cp.client.status(fleet.project);
  if (services.length !== fleet.services) return `${services.length}/${fleet.services} services in status`;
  for (const s of services) {
    const current = s.currentRelease?.number;
    const good = s.replicas.filter((r) => r.state === 'running' && r.edge === 'ready' && r.release === current);
    if (s.readyReplicas !== fleet.replicas || s.replicas.length !== fleet.replicas || good.length !== fleet.replicas) {
      return `${s.service}: ${good.length}/${fleet.replicas} replicas running and ready on v${current} (${s.replicas.length} listed)`;
    }
  }
  return null;
}

/** R requests per domain through the edge (round robin, so each replica is likely hit; a probe cannot tell which answered). */
async function edgeGap(cp: ControlPlaneProcess, fleet: Fleet): Promise<string | null> {
  const probes: string[] = [];
  for (let i = 1; i <= fleet.services; i++) for (let k = 0; k < fleet.replicas; k++) probes.push(fleetDomain(fleet.project, i));
  const failures: string[] = [];
  const worker = async () => {
    for (let host = probes.pop(); host; host = probes.pop()) {
      const res = await getWithHost(cp.httpPort, host).catch((err: Error) => ({ status: 0, body: err.message }));
      if (res.status !== 200) failures.push(`${host}: ${res.status}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return failures.length ? `${failures.length} probe(s) failed, e.g. ${failures[0]}` : null;
}

interface Convergence {
  /** API call → every deployment succeeded. */
  succeededMs: number;
  /** API call → status and edge checks both passed. */
  healthyAndServedMs: number;
  /** Checks run until both passed (1: converged at the first look after the deployments ended). */
  checks: number;
}

/** Deploys the fleet in one request and times it until it has converged (or fails after 120 s of checks). */
async function deployAndConverge(cp: ControlPlaneProcess, fleet: Fleet): Promise<Convergence> {
  const { requestedAt, succeededMs } = await deployFleet(cp.client, fleet);
  const deadline = Date.now() + 120_000;
  for (let checks = 1; ; checks++) {
    const gap = (await statusGap(cp, fleet)) ?? (await edgeGap(cp, fleet));
    if (!gap) return { succeededMs, healthyAndServedMs: Date.now() - requestedAt, checks };
    if (Date.now() > deadline) throw new Error(`${fleet.project} did not converge: ${gap}`);
    await sleep(200);
  }
}

type Row = Record<string, string | number>;

/** The reconciler's pass count and total seconds so far, from the control plane's Prometheus text. */
async function reconcilerLoop(cp: ControlPlaneProcess): Promise<{ count: number; sum: number }> {
  const text = await (await fetch(`http://127.0.0.1:${cp.apiPort}/metrics`)).text();
  // No series yet (before the first pass): 0 passes so far.
  const read = (suffix: string) => Number(new RegExp(`^slipway_loop_duration_seconds_${suffix}\\{loop="reconciler"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { count: read('count'), sum: read('sum') };
}

/** Mean reconciler pass over `seconds` of idle time, in ms. */
async function reconcilerPassMs(cp: ControlPlaneProcess, seconds: number): Promise<{ passes: number; meanMs: number }> {
  const a = await reconcilerLoop(cp);
  await sleep(seconds * 1000);
  const b = await reconcilerLoop(cp);
  const passes = b.count - a.count;
  if (!(passes > 0)) throw new Error(`no reconciler pass in ${seconds} s (metrics: ${JSON.stringify({ a, b })})`);
  return { passes, meanMs: Math.round(((b.sum - a.sum) / passes) * 10_000) / 10 };
}

/** SIGKILLs one replica of a fleet service and times its repair: the repair deployment succeeded, then status whole again. */
async function timeRepair(cp: ControlPlaneProcess, fleet: Fleet, index: number): Promise<{ repairSucceededMs: number; servingAgainMs: number }> {
  const service = fleetService(index);
  const s = (await cp.client.status(fleet.project)).services.find((x) => x.service === service)!;
  const [victim] = await docker.listContainers({ filters: { name: [s.replicas[0]!.name] } });
  const t0 = Date.now();
  await docker.getContainer(victim!.Id).kill({ signal: 'SIGKILL' });
  let repairSucceededMs = 0;
  for (;;) {
    if (Date.now() - t0 > 120_000) throw new Error(`${service} was not repaired within 120 s`);
    if (!repairSucceededMs) {
      const d = (await cp.client.deployments(fleet.project)).deployments.find((x) => x.kind === 'repair' && x.service === service);
      if (d?.state === 'succeeded') repairSucceededMs = Date.now() - t0;
      else if (d && d.state === 'failed') throw new Error(`the repair of ${service} failed: ${d.error}`);
    } else {
      const now = (await cp.client.status(fleet.project)).services.find((x) => x.service === service)!;
      if (now.readyReplicas === fleet.replicas && !now.replicas.some((r) => r.name === s.replicas[0]!.name)) return { repairSucceededMs, servingAgainMs: Date.now() - t0 };
    }
    await sleep(100);
  }
}

/** Each per-project call on the fleet and on the one-service baseline, one after the other. */
async function apiRows(cp: ControlPlaneProcess, fleet: Fleet, one: Fleet, runs: number): Promise<Row[]> {
  const { client } = cp;
  const calls: Array<[string, (p: string) => Promise<unknown>]> = [
    ['status', (p) => client.status(p)],
    [`releases of ${fleetService(1)}`, (p) => client.releases(p, fleetService(1))],
    ['metrics overview 1h', (p) => client.metricsOverview(p, { since: '1h' })],
    ['deployments (20)', (p) => client.deployments(p)],
  ];
  const rows: Row[] = [];
  for (const [call, run] of calls) {
    for (const f of [one, fleet]) rows.push({ call, project: `${f.project} (${f.services} × ${f.replicas})`, ...(await timeCall(runs, () => run(f.project))) });
  }
  return rows;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { services: { type: 'string', default: '50' }, replicas: { type: 'string', default: '2' }, runs: { type: 'string', default: '50' }, idle: { type: 'string', default: '20' } } });
  const idleSeconds = wholeNumber('--idle', values.idle);
  const services = wholeNumber('--services', values.services);
  const replicas = wholeNumber('--replicas', values.replicas);
  const runs = wholeNumber('--runs', values.runs);
  const one: Fleet = { project: 'one', services: 1, replicas };
  const fleet: Fleet = { project: 'fleet', services, replicas };
  const cp = await ControlPlaneProcess.create('bench-scale50');
  try {
    // Log level info, as a user runs it (the test harness's default is debug).
    await cp.start({ SLIPWAY_LOG_LEVEL: 'info' });
    await cp.client.createBaseImage('static');
    // The baseline first: it also warms Docker's layer cache for the shared context, so the fleet's builds are cache hits.
    const baseline = await deployAndConverge(cp, one);
    const projectsBefore = await timeCall(runs, () => cp.client.projects());
    console.log(`deploying ${services} services × ${replicas} replicas in one request…`);
    const converge = await deployAndConverge(cp, fleet);
    const rows: Row[] = [
      { call: 'projects (list)', project: `1 project, 1 service`, ...projectsBefore },
      { call: 'projects (list)', project: `2 projects, ${services + 1} services`, ...(await timeCall(runs, () => cp.client.projects())) },
      ...(await apiRows(cp, fleet, one, runs)),
    ];
    const convergeRows: Row[] = [
      { project: `one (1 × ${replicas})`, ...baseline },
      { project: `fleet (${services} × ${replicas})`, ...converge },
    ];
    console.log(`\nTime to converge from the API call (ms):\n`);
    printTable(convergeRows);
    console.log(`\nAPI latency, ${runs} sequential calls each after a warm-up (ms; with fewer than 100 runs p99 is the slowest):\n`);
    printTable(rows);
    const loop = await reconcilerPassMs(cp, idleSeconds);
    const repair = await timeRepair(cp, fleet, Math.ceil(services / 2));
    const reconciler = { intervalMs: 5000, passesMeasured: loop.passes, meanPassMs: loop.meanMs, ...repair };
    console.log(`\nreconciler (every 5 s): a pass over ${services + 1} services takes ${loop.meanMs} ms (mean of ${loop.passes});`);
    console.log(`a replica SIGKILLed behind Slipway's back: repair succeeded after ${repair.repairSucceededMs} ms, all ${replicas} replicas serving in status after ${repair.servingAgainMs} ms`);
    const file = writeResult('scale', { services, replicas, runs, machine: { cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version }, converge: convergeRows, api: rows, reconciler });
    console.log(`\nwrote ${file}`);
  } finally {
    await cp.destroy();
  }
}
