/**
 * What container and host stats cost.
 *
 *   npm run bench -- resource-stats [--replicas 12,40] [--seconds 60] [--store-replicas 100] [--only cpu|store]
 *
 * 1. CPU: a real control plane with `--replicas` replicas of the example app (each count in
 *    the list, one after the other), measured for
 *    `--seconds` each with the sampler off, every 5 s (the default) and every 1 s: CPU time
 *    of the control plane process and of dockerd + containerd (which collect the stats),
 *    from /proc/<pid>/stat, as a share of one core. Round durations come from the server log.
 * 2. Store: 24 h of history for `--store-replicas` replicas (23 h 45 min of per-minute
 *    averages, 15 min of raw 5 s samples, as the retention leaves it) written through the
 *    Store port into a SQLite file: its size, one steady-state compaction, the status read
 *    (latest per replica) and a 24 h history read of a 10-replica service.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { printTable } from './lib/table';
import { writeResult } from './lib/results';
import { cpuTicks, pidsOf, TICKS_PER_S } from './lib/proc';
import { ControlPlaneProcess } from '../test/support/control-plane-process';
import { TestProject } from '../test/support/test-project';
import { deployAndWait } from '../test/support/wait-deployment';
import { openSqliteStore } from '../src/store/sqlite-store';
import { compactionCutoffs, MINUTE_MS, type HostSample, type ReplicaSample } from '../src/core/resource-stats';

interface CpuRow {
  interval: string;
  seconds: number;
  replicas: number;
  rounds: number;
  roundMeanMs: number;
  roundMaxMs: number;
  controlPlanePctCore: number;
  dockerPctCore: number;
}

async function measureCpu(cp: ControlPlaneProcess, interval: string, seconds: number, replicas: number): Promise<CpuRow> {
  await cp.stop();
  const logStart = statSync(cp.logFile).size;
  await cp.start({ SLIPWAY_STATS_INTERVAL: interval });
  // Let start-up (recovery, the first rounds) settle before measuring.
  await new Promise((r) => setTimeout(r, 5000));
  const cpPid = (JSON.parse(readFileSync(path.join(cp.dataDir, 'server.json'), 'utf8')) as { pid: number }).pid;
  const docker = [...pidsOf('dockerd'), ...pidsOf('containerd')];
  const before = { cp: cpuTicks(cpPid), docker: docker.reduce((a, p) => a + cpuTicks(p), 0), at: Date.now() };
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const after = { cp: cpuTicks(cpPid), docker: docker.reduce((a, p) => a + cpuTicks(p), 0), at: Date.now() };
  const wallS = (after.at - before.at) / 1000;
  const pct = (ticks: number) => Math.round((ticks / TICKS_PER_S / wallS) * 1000) / 10;
  const rounds = readFileSync(cp.logFile, 'utf8')
    .slice(logStart)
    .split('\n')
    .filter((l) => l.includes('"stats sampled"'))
    .map((l) => JSON.parse(l) as { at: number; durationMs: number; replicas: number })
    .filter((r) => r.at >= before.at && r.at <= after.at);
  const durations = rounds.map((r) => r.durationMs);
  return {
    interval,
    seconds: Math.round(wallS),
    replicas,
    rounds: rounds.length,
    roundMeanMs: durations.length ? Math.round(durations.reduce((a, b) => a + b, 0) / durations.length) : 0,
    roundMaxMs: durations.length ? Math.max(...durations) : 0,
    controlPlanePctCore: pct(after.cp - before.cp),
    dockerPctCore: pct(after.docker - before.docker),
  };
}

async function cpuBench(replicas: number, seconds: number): Promise<CpuRow[]> {
  const cp = await ControlPlaneProcess.create('bench-stats');
  const app = new TestProject('benchstats');
  const rows: CpuRow[] = [];
  try {
    await cp.start({ SLIPWAY_STATS_INTERVAL: 'off' });
    await cp.client.createBaseImage('node');
    const d = await deployAndWait(cp.client, app.write({ version: 'one', replicas, deploy: { max_surge: replicas } }));
    if (d.state !== 'succeeded') throw new Error(`deploy failed: ${d.error}`);
    for (const interval of ['off', '5s', '1s']) {
      console.log(`measuring ${seconds} s with ${replicas} replicas, stats ${interval}…`);
      rows.push(await measureCpu(cp, interval, seconds, replicas));
    }
  } finally {
    await cp.destroy();
  }
  return rows;
}

async function storeBench(replicaCount: number) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-bench-stats-'));
  const file = path.join(dir, 'slipway.db');
  const store = await openSqliteStore({ file });
  try {
    await store.migrate();
    const now = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
    const start = now - 24 * 60 * MINUTE_MS;
    const rawFrom = now - 15 * MINUTE_MS;
    const names = Array.from({ length: replicaCount }, (_, i) => `shop-s${Math.floor(i / 10)}-production-v12-${i.toString(16).padStart(6, '0')}`);
    const sample = (replica: string, at: number, spanMs: number): ReplicaSample => ({
      replica,
      project: 'shop',
      service: replica.split('-')[1]!,
      env: 'production',
      release: 12,
      at,
      spanMs,
      cpuPercent: Math.round(Math.random() * 5000) / 100,
      memoryUsedBytes: 60_000_000 + Math.floor(Math.random() * 1e7),
      memoryLimitBytes: 25_276_063_744,
      restarts: 0,
    });
    const host = (at: number, spanMs: number): HostSample => ({
      server: 'local', at, spanMs, cpuPercent: 12.5, cpus: 2, memoryUsedBytes: 2e9, memoryTotalBytes: 2.5e10, diskUsedBytes: 2.5e10, diskTotalBytes: 2.7e11, diskAvailableBytes: 8.3e10,
    });
    const t0 = Date.now();
    for (let at = start; at < rawFrom; at += MINUTE_MS) await store.addResourceSamples(names.map((n) => sample(n, at, MINUTE_MS)), [host(at, MINUTE_MS)]);
    for (let at = rawFrom; at < now + MINUTE_MS; at += 5000) await store.addResourceSamples(names.map((n) => sample(n, at, 5000)), [host(at, 5000)]);
    const fillS = (Date.now() - t0) / 1000;

    // One steady-state compaction: a minute of raw samples becomes averages, a minute of averages expires.
    let t = performance.now();
    const compacted = await store.compactResourceSamples(compactionCutoffs(now + MINUTE_MS + 1000));
    const compactMs = performance.now() - t;
    t = performance.now();
    const latest = await store.latestReplicaSamples(names.slice(0, 10));
    const latestMs = performance.now() - t;
    t = performance.now();
    const history = await store.listReplicaSamples({ project: 'shop', service: 's0', env: 'production', since: now - 24 * 60 * MINUTE_MS });
    const historyMs = performance.now() - t;
    await store.close();
    const sizeBytes = statSync(file).size + (statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0);
    return {
      replicas: replicaCount,
      rowsPerReplica: (24 * 60 - 15) + 15 * 12,
      fillS: Math.round(fillS * 10) / 10,
      dbMiB: Math.round((sizeBytes / 2 ** 20) * 10) / 10,
      compactMs: Math.round(compactMs),
      compacted: `${compacted.averaged} averaged, ${compacted.deleted} expired`,
      statusReadMs: Math.round(latestMs * 10) / 10,
      statusReadRows: latest.length,
      history24hMs: Math.round(historyMs),
      history24hRows: history.length,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { replicas: { type: 'string', default: '12,40' }, seconds: { type: 'string', default: '60' }, 'store-replicas': { type: 'string', default: '100' }, only: { type: 'string' } },
  });
  const replicaCounts = values.replicas.split(',').map(Number);
  const seconds = Number(values.seconds);
  const storeReplicas = Number(values['store-replicas']);
  for (const [k, v] of [...replicaCounts.map((n) => ['--replicas', n] as const), ['--seconds', seconds], ['--store-replicas', storeReplicas]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${k}: expected whole numbers >= 1`);
  }
  const result: Record<string, unknown> = { machine: { cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30) } };
  if (values.only !== 'store') {
    const cpu: CpuRow[] = [];
    for (const n of replicaCounts) cpu.push(...(await cpuBench(n, seconds)));
    console.log('\nCPU (percent of one core, averaged over the window):');
    printTable(cpu as unknown as Record<string, string | number>[]);
    result.cpu = cpu;
  }
  if (values.only !== 'cpu') {
    console.log(`\nfilling 24 h of stats for ${storeReplicas} replicas…`);
    const s = await storeBench(storeReplicas);
    console.log('\nStore (SQLite file):');
    printTable([s as unknown as Record<string, string | number>]);
    result.store = s;
  }
  console.log(`\nwritten ${writeResult('resource-stats', result)}`);
}
