/**
 * Container and host stats against a real Docker engine: after a deploy, within a few
 * sample periods `slipway status --json` carries CPU, memory (as `docker stats` shows it)
 * and restarts for every replica and a host line; load through the edge shows up as CPU;
 * the history routes return a series per replica and for the host.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import os from 'node:os';
import { promisify } from 'node:util';
import { startLoad } from '../bench/lib/load-generator';
import type { ProjectStatusView } from '../src/core/contract/views';
import { ApiError } from '../src/client/api-client';
import { cliFor } from './support/cli';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject } from './support/test-project';
import { deployAndWait, deploymentLog } from './support/wait-deployment';

const run = promisify(execFile);
const cp = await ControlPlaneProcess.create('stats');
const app = new TestProject('stats');

async function statusJson(): Promise<ProjectStatusView> {
  const r = await cliFor(cp, app.dir)('status', '--json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as ProjectStatusView;
}

/** Polls `slipway status --json` until `ok` holds (or fails with the last answer). */
async function statusUntil(ok: (s: ProjectStatusView) => boolean, timeoutMs: number): Promise<ProjectStatusView> {
  const started = Date.now();
  let last: ProjectStatusView | null = null;
  while (Date.now() - started < timeoutMs) {
    last = await statusJson();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`status did not get there in ${timeoutMs} ms: ${JSON.stringify(last, null, 2)}`);
}

/** `docker stats --no-stream` memory of a container in bytes ("12.5MiB / 23.5GiB"). */
async function dockerStatsMemory(name: string): Promise<number> {
  const { stdout } = await run('docker', ['stats', '--no-stream', '--format', '{{.MemUsage}}', name]);
  const m = /^([\d.]+)\s*([KMG]i?B|B)/.exec(stdout.trim());
  assert.ok(m, `unexpected docker stats output: ${stdout}`);
  const unit = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, kB: 1e3, MB: 1e6, GB: 1e9 }[m[2]!] ?? NaN;
  return Number(m[1]) * unit;
}

before(async () => {
  // 1 s samples so the test needs only a few seconds of them; the default is 5 s.
  await cp.start({ SLIPWAY_STATS_INTERVAL: '1s' });
  await cp.client.createBaseImage('node');
});
after(() => cp.destroy());

test('status --json shows CPU, memory and restarts per replica and the host within a few sample periods', { timeout: 180_000 }, async () => {
  const d = await deployAndWait(cp.client, app.write({ version: 'one', replicas: 2 }));
  assert.equal(d.state, 'succeeded', await deploymentLog(cp.client, d.id));

  // Two readings of each replica are needed for a CPU figure: a few 1 s periods.
  const started = Date.now();
  const status = await statusUntil((s) => {
    const replicas = s.services[0]?.replicas ?? [];
    return replicas.length === 2 && replicas.every((r) => r.stats !== null && r.stats.cpuPercent !== null) && s.host?.cpuPercent !== null;
  }, 20_000);
  const tookMs = Date.now() - started;
  assert.ok(tookMs < 10_000, `stats took ${tookMs} ms to appear with a 1 s interval`);

  const host = status.host!;
  assert.equal(host.server, 'local');
  assert.equal(host.cpus, os.cpus().length);
  assert.equal(host.memoryTotalBytes, os.totalmem());
  assert.ok(host.memoryUsedBytes > 0 && host.memoryUsedBytes < host.memoryTotalBytes);
  assert.ok(host.diskUsedBytes > 0 && host.diskUsedBytes < host.diskTotalBytes);
  assert.ok(host.cpuPercent! >= 0 && host.cpuPercent! <= 100);

  for (const r of status.services[0]!.replicas) {
    const s = r.stats!;
    assert.equal(r.restarts, 0);
    assert.ok(Date.now() - Date.parse(s.at) < 10_000, `sample of ${r.name} is fresh (${s.at})`);
    // No memory limit is set: the limit is the host's memory, as docker stats shows it.
    assert.ok(Math.abs(s.memoryLimitBytes - os.totalmem()) < 64 * 1024 ** 2, `limit ${s.memoryLimitBytes} vs host ${os.totalmem()}`);
    // The same figure docker stats prints (usage without the page cache), give or take the app's churn.
    const docker = await dockerStatsMemory(r.name);
    assert.ok(Math.abs(s.memoryUsedBytes - docker) < Math.max(4 * 1024 ** 2, docker * 0.25), `${r.name}: ${s.memoryUsedBytes} bytes vs docker stats ${docker}`);
    assert.ok(s.cpuPercent! >= 0 && s.cpuPercent! < 50, `an idle replica uses little CPU (${s.cpuPercent}%)`);
  }

  // The table people read carries the same.
  const text = await cliFor(cp, app.dir)('status');
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /host local: cpu [\d.]+% of \d+ CPUs, memory .* \/ .*, disk .* \/ .* \(\d+%\)/);
  assert.match(text.stdout, /CPU\s+MEMORY\s+RESTARTS/);
  assert.match(text.stdout, /[\d.]+%\s+[\d.]+ MiB \/ [\d.]+ GiB\s+0/);
});

test('load through the edge shows up as replica CPU; history routes return a series per replica and for the host', { timeout: 120_000 }, async () => {
  const load = startLoad({ url: cp.edgeUrl, hostHeader: app.domain, concurrency: 8 });
  let busiest = 0;
  try {
    // Several 1 s periods under load; the highest per-replica reading must clearly exceed idle.
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      const s = await statusJson();
      for (const r of s.services[0]!.replicas) busiest = Math.max(busiest, r.stats?.cpuPercent ?? 0);
    }
  } finally {
    const report = await load.stop();
    assert.equal(report.failed, 0);
  }
  assert.ok(busiest > 5, `replicas serving load read ${busiest}% CPU at most`);

  const history = await cp.client.serviceStats('stats', 'web', { since: '5m' });
  assert.equal(history.replicas.length, 2);
  for (const series of history.replicas) {
    assert.equal(series.release, 1);
    assert.ok(series.points.length >= 5, `${series.replica}: ${series.points.length} points`);
    const times = series.points.map((p) => Date.parse(p.at));
    assert.deepEqual(times, [...times].sort((a, b) => a - b), 'oldest first');
    assert.ok(series.points.every((p) => p.spanSeconds === 1 && p.memoryUsedBytes > 0 && p.restarts === 0));
  }
  const hostHistory = await cp.client.serverStats('local', { since: '5m' });
  assert.ok(hostHistory.points.length >= 5);
  assert.ok(hostHistory.points.every((p) => p.cpus === os.cpus().length && p.diskTotalBytes > 0));

  // Wrong inputs are named.
  await assert.rejects(cp.client.serviceStats('stats', 'web', { since: '48h' }), (err: ApiError) => err.status === 400 && /since.*24 h/.test(err.message));
  await assert.rejects(cp.client.serviceStats('stats', 'nope', {}), (err: ApiError) => err.status === 404);
  await assert.rejects(cp.client.serverStats('elsewhere'), (err: ApiError) => err.status === 404 && /local/.test(err.message));
});
