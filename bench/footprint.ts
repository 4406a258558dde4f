/**
 * What the control plane costs on the host: its memory (VmRSS, PSS from smaps_rollup, and
 * the V8 heap it reports on /metrics) and CPU (share of one core over a window), with the
 * edge's HAProxy and Docker's daemons beside it for context, in five states:
 *
 *   1. baseline: a bare `node -e "require('http').createServer().listen(0)"` (what Node costs);
 *   2. idle with 0 services, 3. idle with N static services deployed (1 replica each),
 *   4. during a redeploy of the whole fleet with a changed page (one upload, an image build per
 *      service from Docker's layer cache after the first, N rolling deployments), 5. idle with the same N services after a restart of the server.
 *
 * Idle means nobody calls the API while the control plane's own loops run as in production
 * (stats sampler every 5 s, request-metrics flush, job scheduler, warm-set retirer, log level
 * info). dockerd and containerd are the host's (other work on this host shows in them).
 *
 *   npm run bench -- footprint [--seconds 30] [--services 50] [--settle 10]
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { wholeNumber } from './lib/flags';
import { printTable } from './lib/table';
import { writeResult } from './lib/results';
import { deployFleet } from './lib/static-fleet';
import { childrenOf, cpuTicks, memoryOfAll, mib, NO_MEMORY, pctOfCore, pidsOf, type Memory } from './lib/proc';
import { ControlPlaneProcess } from '../test/support/control-plane-process';


/** How often memory (and the pids of groups that change, like HAProxy's workers) is read during a window. */
const SAMPLE_EVERY_MS = 250;

/** The processes one row reports on; `pids` is re-read at every sample (HAProxy reloads replace its workers). */
interface Group {
  name: string;
  pids: () => number[];
}

/**
 * CPU ticks a group used since the window began. A pid first seen after the start was born
 * during the window (a new HAProxy worker), so all its ticks count; ticks a process used
 * between its last sample and its exit are lost (an undercount of at most SAMPLE_EVERY_MS).
 */
class CpuTracker {
  private readonly seen = new Map<number, { first: number; last: number }>();

  constructor(pids: number[]) {
    for (const pid of pids) this.read(pid, true);
  }

  read(pid: number, atStart = false): void {
    let ticks: number;
    try {
      ticks = cpuTicks(pid);
    } catch {
      return; // gone
    }
    const entry = this.seen.get(pid);
    if (entry) entry.last = ticks;
    else this.seen.set(pid, { first: atStart ? ticks : 0, last: ticks });
  }

  ticks(): number {
    let total = 0;
    for (const { first, last } of this.seen.values()) total += last - first;
    return total;
  }
}

interface GroupFigures {
  cpuPctCore: number;
  /** Memory at the end of the window. */
  end: Memory;
  /** Highest summed RSS seen at a sample during the window, KiB. */
  maxRssKiB: number;
  processes: number;
}

/** Watches groups from now until the returned stop(): CPU over the whole span, memory every SAMPLE_EVERY_MS. */
function watch(groups: Group[]): () => Promise<{ wallMs: number; figures: Map<string, GroupFigures> }> {
  const started = Date.now();
  const state = groups.map((g) => {
    const pids = g.pids();
    return { group: g, cpu: new CpuTracker(pids), maxRssKiB: memoryOfAll(pids).rssKiB, pids };
  });
  const sample = () => {
    for (const s of state) {
      s.pids = s.group.pids();
      for (const pid of s.pids) s.cpu.read(pid);
      s.maxRssKiB = Math.max(s.maxRssKiB, memoryOfAll(s.pids).rssKiB);
    }
  };
  const timer = setInterval(sample, SAMPLE_EVERY_MS);
  return async () => {
    clearInterval(timer);
    sample();
    const wallMs = Date.now() - started;
    const figures = new Map<string, GroupFigures>();
    for (const s of state) {
      const end = memoryOfAll(s.pids);
      figures.set(s.group.name, { cpuPctCore: pctOfCore(s.cpu.ticks(), wallMs), end, maxRssKiB: Math.max(s.maxRssKiB, end.rssKiB), processes: s.pids.length });
    }
    return { wallMs, figures };
  };
}

/** V8's own figures from the server's Prometheus exposition (prom-client default metrics), in bytes. */
async function nodeHeap(cp: ControlPlaneProcess): Promise<{ heapUsed: number; heapTotal: number; external: number }> {
  const text = await (await fetch(`http://127.0.0.1:${cp.apiPort}/metrics`)).text();
  const value = (name: string): number => {
    const m = new RegExp(`^slipway_${name} (\\S+)`, 'm').exec(text);
    if (!m) throw new Error(`/metrics has no slipway_${name}`);
    return Number(m[1]);
  };
  return { heapUsed: value('nodejs_heap_size_used_bytes'), heapTotal: value('nodejs_heap_size_total_bytes'), external: value('nodejs_external_memory_bytes') };
}

/** The edge's HAProxy: the master from its pid file and the master's children (the workers). */
function haproxyPids(cp: ControlPlaneProcess): number[] {
  const file = path.join(cp.dataDir, 'edge', 'haproxy.pid');
  if (!existsSync(file)) return [];
  const master = Number(readFileSync(file, 'utf8').trim().split('\n')[0]);
  return Number.isInteger(master) && master > 0 ? [master, ...childrenOf(master)] : [];
}

function groupsOf(cp: ControlPlaneProcess): Group[] {
  const server = cp.pid;
  if (server === null) throw new Error('the control plane is not running');
  return [
    { name: 'control plane', pids: () => [server] },
    // tsx loads TypeScript in-process; a child here would be esbuild's service process.
    { name: 'control plane children', pids: () => childrenOf(server) },
    { name: 'haproxy (edge)', pids: () => haproxyPids(cp) },
    { name: 'dockerd', pids: () => pidsOf('dockerd') },
    { name: 'containerd', pids: () => pidsOf('containerd') },
  ];
}

type Row = Record<string, string | number>;

function rowsOf(state: string, wallMs: number, figures: Map<string, GroupFigures>, heap?: { heapUsed: number; heapTotal: number; external: number }): Row[] {
  const rows: Row[] = [];
  for (const [name, f] of figures) {
    if (name === 'control plane children' && f.processes === 0) continue;
    const isServer = name === 'control plane';
    rows.push({
      state,
      process: f.processes > 1 ? `${name} ×${f.processes}` : name,
      seconds: Math.round(wallMs / 100) / 10,
      cpuPctCore: f.cpuPctCore,
      rssMiB: mib(f.end.rssKiB),
      maxRssMiB: mib(f.maxRssKiB),
      pssMiB: mib(f.end.pssKiB),
      privateMiB: mib(f.end.privateKiB),
      heapUsedMiB: isServer && heap ? mib(heap.heapUsed / 1024) : '',
      heapTotalMiB: isServer && heap ? mib(heap.heapTotal / 1024) : '',
      externalMiB: isServer && heap ? mib(heap.external / 1024) : '',
    });
  }
  return rows;
}

const ROOT = path.resolve(import.meta.dirname, '..');

/**
 * Floors to put the control plane in proportion: a bare Node HTTP server (what any Node
 * service costs), and Node with the control plane's modules loaded exactly as bin/slipway.mjs
 * loads them (tsx compiling TypeScript in-process) but nothing started.
 */
const BASELINES: Array<{ label: string; args: string[] }> = [
  { label: `node -e http.createServer (${process.version})`, args: ['-e', "require('http').createServer().listen(0)"] },
  {
    label: 'node + tsx, src/main.ts imported, nothing started',
    args: ['--input-type=module', '-e', "import { register } from 'tsx/esm/api'; register(); await import('./src/main.ts'); setInterval(() => {}, 2 ** 30);"],
  },
];

async function baseline(label: string, args: string[], settleMs: number): Promise<Row> {
  const child: ChildProcess = spawn(process.execPath, args, { cwd: ROOT, stdio: 'ignore' });
  try {
    await sleep(settleMs);
    const m = child.pid && child.exitCode === null ? memoryOfAll([child.pid]) : NO_MEMORY;
    if (m.rssKiB === 0) throw new Error(`the baseline process (${label}) did not stay up`);
    return { state: 'baseline', process: label, seconds: '', cpuPctCore: '', rssMiB: mib(m.rssKiB), maxRssMiB: mib(m.peakRssKiB), pssMiB: mib(m.pssKiB), privateMiB: mib(m.privateKiB), heapUsedMiB: '', heapTotalMiB: '', externalMiB: '' };
  } finally {
    child.kill('SIGTERM');
  }
}

/** Nobody calls the API for `seconds`; the heap is read after the window so the scrape is not in it. */
async function idleWindow(cp: ControlPlaneProcess, state: string, seconds: number): Promise<Row[]> {
  console.log(`measuring ${state} for ${seconds} s…`);
  const stop = watch(groupsOf(cp));
  await sleep(seconds * 1000);
  const { wallMs, figures } = await stop();
  return rowsOf(state, wallMs, figures, await nodeHeap(cp));
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { seconds: { type: 'string', default: '30' }, services: { type: 'string', default: '50' }, settle: { type: 'string', default: '10' } } });
  const seconds = wholeNumber('--seconds', values.seconds);
  const services = wholeNumber('--services', values.services);
  const settleS = wholeNumber('--settle', values.settle);
  const settle = () => sleep(settleS * 1000); // start-up, recovery and the first sampler rounds, or a deploy's tail
  // The server as a user runs it: log level info (the test harness's default is debug).
  const production = { SLIPWAY_LOG_LEVEL: 'info' };
  const rows: Row[] = [];
  for (const b of BASELINES) rows.push(await baseline(b.label, b.args, 5000));
  const cp = await ControlPlaneProcess.create('bench-footprint');
  let deploy: { ms: number; services: number } | null = null;
  try {
    await cp.start(production);
    await settle();
    rows.push(...(await idleWindow(cp, 'idle, 0 services', seconds)));

    await cp.client.createBaseImage('static');
    await deployFleet(cp.client, { project: 'fleet', services, replicas: 1 });
    await settle();
    rows.push(...(await idleWindow(cp, `idle, ${services} services`, seconds)));

    console.log(`redeploying the ${services} services with a changed page…`);
    const stop = watch(groupsOf(cp));
    const redeploy = await deployFleet(cp.client, { project: 'fleet', services, replicas: 1, page: 'second release' });
    const { wallMs, figures } = await stop();
    deploy = { ms: redeploy.succeededMs, services };
    rows.push(...rowsOf(`redeploy of ${services} services`, wallMs, figures, await nodeHeap(cp)));

    await cp.stop();
    await cp.start(production);
    await settle();
    rows.push(...(await idleWindow(cp, `idle, ${services} services, restarted`, seconds)));
  } finally {
    await cp.destroy();
  }
  console.log('\nMemory in MiB (RSS at the end of the window and the highest seen; PSS splits shared pages); CPU as % of one core over the window:\n');
  printTable(rows);
  const server = rows.filter((r) => r.process === 'control plane');
  console.log(`\ncontrol plane idle RSS: ${server.filter((r) => String(r.state).startsWith('idle')).map((r) => `${r.state} ${r.rssMiB} MiB`).join(', ')} (goal ≤ 100 MB)`);
  const file = writeResult('footprint', {
    seconds,
    services,
    settleSeconds: settleS,
    redeploy: deploy && { what: `all ${deploy.services} services, changed page (one upload, ${deploy.services} image builds, ${deploy.services} rolling deployments)`, ms: deploy.ms },
    machine: { cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    rows,
  });
  console.log(`\nwrote ${file}`);
}
