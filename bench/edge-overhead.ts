/**
 * What the edge costs per request: one replica of examples/hello deployed by a real control
 * plane, loaded with keep-alive clients three ways in the same run, rounds interleaved so
 * that drift on this shared machine hits each target alike:
 *   - edge:   through the Slipway edge (HAProxy, request log to the control plane on, as deployed);
 *   - direct: the same container without any proxy, at 127.0.0.1:3000 inside its own network
 *             namespace (the load processes join it with `nsenter --net`): no proxy, no bridge hop;
 *   - nginx:  nginx configured like the edge (bench/lib/nginx-proxy.ts) in front of the same container.
 * Both proxies reach the replica at its address on the Slipway network, as the edge always does.
 *
 *   npm run bench -- edge-overhead [--seconds 10] [--warmup 2] [--rounds 2] [--workers 3] [--concurrency 48]
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Docker from 'dockerode';
import type { LoadReport } from './lib/load-generator';
import { runLoadProcesses } from './lib/load-processes';
import { ensureNginx, NginxProxy } from './lib/nginx-proxy';
import { printTable } from './lib/table';
import { writeResult } from './lib/results';
import { ControlPlaneProcess } from '../test/support/control-plane-process';
import { TestProject } from '../test/support/test-project';
import { deployAndWait } from '../test/support/wait-deployment';
import { edgeFiles } from '../src/drivers/haproxy/edge-files';
import { sendCommand } from '../src/drivers/haproxy/runtime-api';

const PROJECT = 'benchedge';
const APP_PORT = 3000;
/** USER_HZ: /proc/<pid>/stat and /proc/stat count CPU time in these ticks. */
const TICKS_PER_S = 100;
/** Up to this long for the load processes to start (tsx loads): CPU is sampled after it. */
const STARTUP_MS = 1000;

interface Options {
  seconds: number;
  warmupS: number;
  rounds: number;
  workers: number;
  concurrency: number;
}

interface Target {
  name: string;
  url: string;
  /** Runs the load processes inside another network namespace (direct). */
  wrap?: string[];
  /** The proxy's processes, for its CPU share; none for direct. */
  proxyPids: () => number[];
}

/** During a measured window: CPU used in % of one core (200 % = both cores of this machine), and the app's new connections. */
interface CpuShare {
  proxy: number;
  app: number;
  controlPlane: number;
  /** Every process on the host, from /proc/stat. */
  host: number;
  /** TCP connections the app accepted per second (PassiveOpens of its network namespace): a proxy that reuses its connections opens almost none. */
  appAcceptsPerS: number;
}

interface Measurement {
  round: number;
  target: string;
  report: LoadReport;
  perProcess: LoadReport[];
  cpu: CpuShare;
}

export async function main(argv: string[]): Promise<void> {
  const o = options(argv);
  // Before anything starts: a missing nginx is installed (as root) or said how to install, not a failure half-way.
  const nginxBin = ensureNginx();
  const cp = await ControlPlaneProcess.create('bench-edge');
  const app = new TestProject(PROJECT);
  let nginx: NginxProxy | undefined;
  try {
    // Info-level logs: the test harness's debug level logs every API call, which is not what we measure.
    await cp.start({ SLIPWAY_LOG_LEVEL: 'info' });
    await cp.client.createBaseImage('node');
    const d = await deployAndWait(cp.client, app.write({ version: 'bench', replicas: 1 }));
    if (d.state !== 'succeeded') throw new Error(`deploy failed: ${d.error}`);
    const replica = await findReplica(cp.network);
    const edge = await edgeFacts(cp.dataDir);
    nginx = await NginxProxy.start(nginxBin, { upstream: { address: replica.ip, port: APP_PORT }, workers: edge.threads, hostHeader: app.domain });
    const proxy = nginx;
    const targets: Target[] = [
      { name: 'slipway edge', url: cp.edgeUrl, proxyPids: () => edge.pids },
      { name: 'direct', url: `http://127.0.0.1:${APP_PORT}/`, wrap: ['nsenter', `--net=/proc/${replica.pid}/ns/net`, '--'], proxyPids: () => [] },
      { name: 'nginx', url: proxy.url, proxyPids: () => proxy.pids },
    ];
    // The replica runs under docker-init (Init: true): the app is its child.
    const others = { app: processTree(replica.pid), controlPlane: controlPlanePids(cp.dataDir) };
    console.log(
      `one replica (${replica.ip}:${APP_PORT}); edge: HAProxy ${edge.version}, ${edge.threads} threads; nginx ${nginxVersion(nginxBin)}, ${edge.threads} workers\n` +
        `${o.concurrency} keep-alive clients from ${o.workers} load processes, ${o.rounds} round(s) of ${o.seconds} s per target after ${o.warmupS} s of warm-up`,
    );
    const measurements: Measurement[] = [];
    for (let round = 1; round <= o.rounds; round++) {
      // ABC then CBA…: each target runs early and late alike.
      const order = round % 2 === 1 ? targets : [...targets].reverse();
      for (const t of order) measurements.push(await measure(t, round, o, app.domain, others));
    }
    report(o, measurements, { edge, replica, nginxVersion: nginxVersion(nginxBin) });
  } finally {
    await nginx?.stop();
    await cp.destroy();
    rmSync(app.dir, { recursive: true, force: true });
  }
}

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      rounds: { type: 'string', default: '2' },
      workers: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '48' },
    },
  });
  const num = (name: string, v: string | undefined, integer: boolean, min: number): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) throw new Error(`--${name} must be ${integer ? 'an integer' : 'a number'} ≥ ${min}, got ${JSON.stringify(v)}`);
    return n;
  };
  const o = {
    seconds: num('seconds', values.seconds, false, 2),
    warmupS: num('warmup', values.warmup, false, 0),
    rounds: num('rounds', values.rounds, true, 1),
    workers: num('workers', values.workers, true, 1),
    concurrency: num('concurrency', values.concurrency, true, 1),
  };
  if (o.concurrency < o.workers) throw new Error(`--concurrency (${o.concurrency}) must be at least --workers (${o.workers})`);
  return o;
}

/** The running replica of the deployed service: its address on the Slipway network and its main process. */
async function findReplica(network: string): Promise<{ id: string; ip: string; pid: number }> {
  const docker = new Docker();
  const list = await docker.listContainers({ filters: { label: [`slipway.project=${PROJECT}`], status: ['running'] } });
  if (list.length !== 1) throw new Error(`expected one running replica of ${PROJECT}, found ${list.length}`);
  const info = await docker.getContainer(list[0]!.Id).inspect();
  const ip = info.NetworkSettings.Networks[network]?.IPAddress;
  if (!ip) throw new Error(`replica ${info.Id.slice(0, 12)} has no address on network ${network}`);
  return { id: info.Id, ip, pid: info.State.Pid };
}

/** The edge's version, thread count and worker process, from its admin socket. */
async function edgeFacts(dataDir: string): Promise<{ version: string; threads: number; pids: number[] }> {
  const files = edgeFiles(path.join(dataDir, 'edge'));
  const info = await sendCommand(files.adminSocket, 'show info');
  const field = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(info)?.[1]?.trim();
  const threads = Number(field('Nbthread'));
  const worker = Number(field('Pid'));
  const master = Number(readFileSync(files.pid, 'utf8').trim().split('\n')[0]);
  if (!threads || !worker) throw new Error(`unexpected 'show info' from the edge:\n${info.slice(0, 500)}`);
  return { version: field('Version') ?? '?', threads, pids: [master, worker] };
}

/** The `slipway server` process of this control plane (its environment names its data dir). */
function controlPlanePids(dataDir: string): number[] {
  const marker = `SLIPWAY_DATA_DIR=${dataDir}\0`;
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('slipway.mjs') && readFileSync(`/proc/${pid}/environ`, 'utf8').includes(marker);
      } catch {
        return false; // gone, or not ours to read
      }
    });
}

/** `nginx -v` prints the version on stderr. */
/** A process and all its descendants, from /proc (children of every thread). */
function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      for (const tid of readdirSync(`/proc/${out[i]}/task`)) {
        const kids = readFileSync(`/proc/${out[i]}/task/${tid}/children`, 'utf8').trim();
        if (kids) out.push(...kids.split(/\s+/).map(Number));
      }
    } catch {
      // gone
    }
  }
  return out;
}

function nginxVersion(bin: string): string {
  const r = spawnSync(bin, ['-v'], { encoding: 'utf8' });
  return /nginx\/(\S+)/.exec(`${r.stderr}${r.stdout}`)?.[1] ?? '?';
}

async function measure(t: Target, round: number, o: Options, host: string, others: { app: number[]; controlPlane: number[] }): Promise<Measurement> {
  console.log(`round ${round}: ${t.name} (${t.url})…`);
  const ms = o.seconds * 1000;
  const load = runLoadProcesses({ url: t.url, hostHeader: host, concurrency: o.concurrency, processes: o.workers, ms, warmupMs: o.warmupS * 1000, wrap: t.wrap });
  // CPU over the measured window, give or take: the processes measure from the end of their warm-up,
  // which comes up to a second (their start-up) after the warm-up counted from here.
  const window = new Promise<CpuShare>((resolve) => {
    setTimeout(() => {
      const groups = { proxy: t.proxyPids(), app: others.app, controlPlane: others.controlPlane };
      const before = cpuSnapshot(groups);
      const t0 = performance.now();
      setTimeout(() => resolve(cpuShare(before, cpuSnapshot(groups), performance.now() - t0)), ms - STARTUP_MS);
    }, o.warmupS * 1000 + STARTUP_MS);
  });
  const [{ merged, perProcess }, cpu] = await Promise.all([load, window]);
  console.log(`  ${Math.round(merged.ratePerSec)} req/s, p50 ${ms1(merged.latencyMs.p50)} ms, p99 ${ms1(merged.latencyMs.p99)} ms, failed ${merged.failed}`);
  return { round, target: t.name, report: merged, perProcess, cpu };
}

type Counters = Record<'proxy' | 'app' | 'controlPlane' | 'host' | 'appAccepts', number>;

function cpuSnapshot(groups: Record<'proxy' | 'app' | 'controlPlane', number[]>): Counters {
  return { proxy: ticksOf(groups.proxy), app: ticksOf(groups.app), controlPlane: ticksOf(groups.controlPlane), host: hostBusyTicks(), appAccepts: passiveOpens(groups.app[0]!) };
}

function cpuShare(a: Counters, b: Counters, wallMs: number): CpuShare {
  const pct = (k: keyof Counters) => Math.round(((b[k] - a[k]) / TICKS_PER_S / (wallMs / 1000)) * 1000) / 10;
  const appAcceptsPerS = Math.round((b.appAccepts - a.appAccepts) / (wallMs / 1000));
  return { proxy: pct('proxy'), app: pct('app'), controlPlane: pct('controlPlane'), host: pct('host'), appAcceptsPerS };
}

/** TCP PassiveOpens (connections accepted) in the network namespace of `pid`: /proc/<pid>/net is that namespace's view. */
function passiveOpens(pid: number): number {
  const lines = readFileSync(`/proc/${pid}/net/snmp`, 'utf8').split('\n').filter((l) => l.startsWith('Tcp:'));
  const [names, values] = lines.map((l) => l.split(/\s+/));
  return Number(values?.[names?.indexOf('PassiveOpens') ?? -1] ?? NaN);
}

/** utime + stime of processes (all their threads); one that is gone counts 0. */
function ticksOf(pids: number[]): number {
  let n = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      n += Number(f[11]) + Number(f[12]);
    } catch {
      // gone
    }
  }
  return n;
}

/** Busy CPU time of the whole host: every field of /proc/stat's `cpu` line but idle and iowait. */
function hostBusyTicks(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  return f.slice(0, 8).reduce((a, b) => a + b, 0) - f[3]! - f[4]!;
}

const ms1 = (v: number): number => Number(v.toFixed(1));

interface Row {
  target: string;
  rps: number;
  vsDirect: string;
  rpsByRound: string;
  p50Ms: number;
  p99Ms: number;
  failed: number;
  /** CPU time per request (µs) of the proxy, the app and the control plane (which ingests the edge's request log). */
  proxyUs: number;
  appUs: number;
  cpUs: number;
  /** Busy CPU of the whole host, % of one core. */
  hostCpu: string;
  /** New TCP connections the app accepted per 1000 requests: ~0 when the proxy keeps its connections to the app open. */
  appConnsPer1k: number;
}

/** One row per target over all rounds: mean rate and percentiles, failures summed, mean CPU shares. */
function summarize(name: string, ms: Measurement[], directRps: number): Row {
  const mean = (f: (m: Measurement) => number) => ms.reduce((n, m) => n + f(m), 0) / ms.length;
  const rps = mean((m) => m.report.ratePerSec);
  const pct = (v: number) => `${Math.round(v)} %`;
  return {
    target: name,
    rps: Math.round(rps),
    vsDirect: pct((rps / directRps) * 100),
    rpsByRound: ms.map((m) => Math.round(m.report.ratePerSec)).join(' / '),
    p50Ms: ms1(mean((m) => m.report.latencyMs.p50)),
    p99Ms: ms1(mean((m) => m.report.latencyMs.p99)),
    failed: ms.reduce((n, m) => n + m.report.failed, 0),
    proxyUs: usPerRequest(ms, 'proxy'),
    appUs: usPerRequest(ms, 'app'),
    cpUs: usPerRequest(ms, 'controlPlane'),
    hostCpu: pct(mean((m) => m.cpu.host)),
    appConnsPer1k: Math.round(mean((m) => (m.cpu.appAcceptsPerS / Math.max(1, m.report.ratePerSec)) * 1000)),
  };
}

/** CPU µs per request: CPU share (% of a core) over the rate, averaged over rounds. Less sensitive to other load on the host than the rate. */
function usPerRequest(ms: Measurement[], k: 'proxy' | 'app' | 'controlPlane'): number {
  return Math.round(ms.reduce((n, m) => n + (m.cpu[k] / 100 / Math.max(1, m.report.ratePerSec)) * 1e6, 0) / ms.length);
}

function report(o: Options, measurements: Measurement[], facts: { edge: { version: string; threads: number }; replica: { ip: string }; nginxVersion: string }): void {
  const of = (name: string) => measurements.filter((m) => m.target === name);
  const directRps = of('direct').reduce((n, m) => n + m.report.ratePerSec, 0) / of('direct').length;
  const rows = ['slipway edge', 'direct', 'nginx'].map((name) => summarize(name, of(name), directRps));
  console.log('');
  printTable(rows as unknown as Array<Record<string, string | number>>);
  console.log(
    `\nrps: mean of the rounds; p50/p99: mean over rounds of the slowest load process's value; proxyUs/appUs/cpUs: CPU time per request of the proxy, the app and the control plane (µs), ` +
      `sampled over the measured window; appConnsPer1k: new connections the app accepted per 1000 requests; hostCpu: busy CPU of the whole host (${os.cpus().length} cores = ${os.cpus().length * 100} %). ` +
      `${o.workers} load processes share the ${os.cpus().length} cores with the proxy and the app, so each figure is a lower bound.`,
  );
  for (const m of measurements.filter((x) => x.report.failed > 0)) {
    console.log(`\nround ${m.round}, ${m.target}: ${m.report.failed} failed: ${JSON.stringify(m.report.errors)}`);
    for (const f of m.report.firstFailures.slice(0, 5)) console.log(`  ${new Date(f.at).toISOString()} ${f.kind}: ${f.detail}`);
  }
  const [edge, , nginx] = rows as [Row, Row, Row];
  const edgeShare = edge.rps / directRps;
  console.log(`\ngoal: edge ≥ 50 % of direct throughput: ${edgeShare >= 0.5 ? 'met' : 'NOT met'} (${edge.vsDirect})`);
  console.log(`goal: edge ahead of nginx: ${edge.rps > nginx.rps ? 'met' : 'NOT met'} (${edge.rps} vs ${nginx.rps} req/s)`);
  const file = writeResult('edge-overhead', {
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30) },
    options: o,
    versions: { haproxy: facts.edge.version, edgeThreads: facts.edge.threads, nginx: facts.nginxVersion, node: process.version },
    replica: `${facts.replica.ip}:${APP_PORT}`,
    goals: { edgeAtLeastHalfOfDirect: edgeShare >= 0.5, edgeAheadOfNginx: edge.rps > nginx.rps },
    rows,
    measurements: measurements.map((m) => ({ round: m.round, target: m.target, cpu: m.cpu, report: m.report, perProcess: m.perProcess.map((r) => ({ ratePerSec: r.ratePerSec, total: r.total, failed: r.failed, latencyMs: r.latencyMs })) })),
  });
  console.log(`written ${file}`);
}
