/**
 * Blue-green vs rolling, same image, same 2-replica service, same keep-alive load through
 * the edge, one run on this machine:
 * - deploy: the whole deploy, the engine's switch time (blue-green: the one edge command of
 *   the flip), and the mixed window the clients saw (last answer from the old release minus
 *   first answer from the new one, by completion time);
 * - rollback: the same for `rollback` to the previous release; for blue-green that is
 *   inside the warm window, so a switch back with no container started;
 * - failed requests during each.
 *
 *   npm run bench -- blue-green [--rounds 3] [--concurrency 8]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { startLoad, type LoadRun } from './lib/load-generator';
import { printTable } from './lib/table';
import { writeResult } from './lib/results';
import type { DeploymentView } from '../src/core/contract/views';
import { ControlPlaneProcess } from '../test/support/control-plane-process';
import { TestProject } from '../test/support/test-project';
import { deployAndWait, waitDeployment } from '../test/support/wait-deployment';

interface Sample {
  totalMs: number;
  /** The engine's switch (blue-green flip / switch back): the edge command, from the step's detail. */
  switchMs: number | null;
  /** What clients saw: last answer from another release minus first answer from the target. */
  mixedMs: number;
  failed: number;
  requests: number;
}

interface Row {
  strategy: string;
  operation: string;
  runs: number;
  totalMeanMs: number;
  totalMaxMs: number;
  switchMeanMs: string;
  switchMaxMs: string;
  mixedMaxMs: number;
  requests: number;
  failed: number;
}

const PROJECT = 'benchbg';

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { rounds: { type: 'string', default: '3' }, concurrency: { type: 'string', default: '8' } } });
  const rounds = Number(values.rounds);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds: expected a whole number ≥ 1, got ${values.rounds}`);
  const cp = await ControlPlaneProcess.create('bench-bg');
  const app = new TestProject(PROJECT);
  const seen: Array<{ sentAt: number; at: number; release: string }> = [];
  let load: LoadRun | null = null;
  const results: Record<string, Sample[]> = {};
  const add = (key: string, s: Sample) => (results[key] ??= []).push(s);
  try {
    await cp.start();
    await cp.client.createBaseImage('node');
    const first = await deployAndWait(cp.client, app.write({ version: 'r0' }));
    if (first.state !== 'succeeded') throw new Error(`initial deploy failed: ${first.error}`);
    load = startLoad({ url: cp.edgeUrl, hostHeader: app.domain, concurrency, inspect: (r) => seen.push({ sentAt: r.sentAt, at: r.at, release: String(r.headers['x-slipway-release'] ?? '?') }) });
    await sleep(500);

    /** Runs one deploy or rollback under the load and measures it. */
    const measure = async (key: string, run: () => Promise<DeploymentView>, switchStep: string | null): Promise<void> => {
      const before = load!.snapshot();
      const from = seen.length;
      const t0 = Date.now();
      const d = await run();
      const totalMs = Date.now() - t0;
      if (d.state !== 'succeeded') throw new Error(`${key} failed: ${d.error}`);
      await sleep(500); // answers in flight at the end still count
      const after = load!.snapshot();
      const target = `v${d.releaseNumber}`;
      const answers = seen.slice(from);
      const firstNew = Math.min(...answers.filter((a) => a.release === target).map((a) => a.at));
      const lastOld = Math.max(firstNew, ...answers.filter((a) => a.release !== target).map((a) => a.at));
      const step = switchStep ? d.steps.find((s) => s.name.startsWith(switchStep)) : undefined;
      const switchMs = step?.detail ? Number(/in ([\d.]+) ms/.exec(step.detail)?.[1] ?? NaN) : null;
      if (switchStep && (switchMs === null || Number.isNaN(switchMs))) throw new Error(`${key}: no "${switchStep}" step with a time: ${d.steps.map((s) => `${s.name}: ${s.detail}`).join(' | ')}`);
      add(key, { totalMs, switchMs, mixedMs: lastOld - firstNew, failed: after.failed - before.failed, requests: after.total - before.total });
      console.log(`  ${key}: ${totalMs} ms${switchMs !== null ? `, switch ${switchMs} ms` : ''}, mixed ${lastOld - firstNew} ms, ${after.failed - before.failed} failed of ${after.total - before.total}`);
    };
    /** Back to the release that was live before the last deploy (for blue-green: the warm set). */
    const live = async () => (await cp.client.status(PROJECT)).services[0]!.currentRelease!.number;
    const rollback = (release: number) => async () => waitDeployment(cp.client, (await cp.client.rollback(PROJECT, 'web', { release })).deployment.id);

    console.log(`rolling: ${rounds} deploy + rollback rounds under ${concurrency} keep-alive clients…`);
    for (let i = 1; i <= rounds; i++) {
      const previous = await live();
      await measure('rolling deploy', () => deployAndWait(cp.client, app.write({ version: `r${i}` })), null);
      await measure('rolling rollback', rollback(previous), null);
    }
    console.log(`blue-green: ${rounds} deploy + rollback-in-the-warm-window rounds…`);
    const bg = (version: string) => app.write({ version, deploy: { strategy: 'blue-green', keep_warm: '5m' } });
    // Switch the service to blue-green first (unmeasured), so every measured deploy flips from a blue-green set.
    const switched = await deployAndWait(cp.client, bg('b0'));
    if (switched.state !== 'succeeded') throw new Error(`switch to blue-green failed: ${switched.error}`);
    for (let i = 1; i <= rounds; i++) {
      const previous = await live();
      await measure('blue-green deploy', () => deployAndWait(cp.client, bg(`b${i}`)), 'flip traffic to');
      await measure('blue-green rollback (warm)', rollback(previous), 'switch traffic back to');
    }
  } finally {
    await load?.stop();
    await cp.destroy();
  }

  const rows: Row[] = Object.entries(results).map(([key, samples]) => {
    const [strategy, ...op] = key.split(' ');
    const switches = samples.map((s) => s.switchMs).filter((x): x is number => x !== null);
    return {
      strategy: strategy!,
      operation: op.join(' '),
      runs: samples.length,
      totalMeanMs: Math.round(mean(samples.map((s) => s.totalMs))),
      totalMaxMs: Math.max(...samples.map((s) => s.totalMs)),
      switchMeanMs: switches.length ? mean(switches).toFixed(1) : '-',
      switchMaxMs: switches.length ? Math.max(...switches).toFixed(1) : '-',
      mixedMaxMs: Math.max(...samples.map((s) => s.mixedMs)),
      requests: samples.reduce((a, s) => a + s.requests, 0),
      failed: samples.reduce((a, s) => a + s.failed, 0),
    };
  });
  console.log('');
  printTable(rows as unknown as Record<string, string | number>[], ['strategy', 'operation', 'runs', 'totalMeanMs', 'totalMaxMs', 'switchMeanMs', 'switchMaxMs', 'mixedMaxMs', 'requests', 'failed']);
  const file = writeResult('blue-green', { machine: { cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30) }, rounds, concurrency, replicas: 2, rows, samples: results });
  console.log(`\nwritten ${file}`);
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
