/**
 * Canary abort vs the blue-green failing-health path, same 2-replica service, same open-model
 * load through the edge (a fixed rate, so exposure is comparable), one run on this machine:
 * - canary: a release answering 500 on 20 % of `/` (ERROR_RATE=0.2) but healthy on /health,
 *   first step 20 %, analysis every --interval: time to abort (from the deploy call to
 *   `rolled_back`; and from the step's edge command to the end of the abort's edge command,
 *   the time the canary had traffic), and the 500s clients saw;
 * - blue-green baseline: a release failing /health (HEALTH_FAIL=1), health deadline 5 s: time
 *   until the deployment failed, failed requests (none reach it: it never takes traffic). A
 *   release that is healthy on /health but answers 500 to 20 % of requests passes a blue-green
 *   deploy and would then serve those errors to 100 % of traffic: only the canary catches it.
 *
 *   npm run bench -- canary [--rounds 3] [--rate 100] [--interval 5s]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { startLoad, type LoadRun } from './lib/load-generator';
import { printTable } from './lib/table';
import { writeResult } from './lib/results';
import { ControlPlaneProcess } from '../test/support/control-plane-process';
import { TestProject } from '../test/support/test-project';
import { deployAndWait } from '../test/support/wait-deployment';

interface Sample {
  path: string;
  /** Deploy call → final state. */
  totalMs: number;
  /** canary: first step's edge command start → abort's edge command end (the canary had traffic); null for blue-green. */
  exposedMs: number | null;
  outcome: string;
  requests: number;
  failed: number;
}

const PROJECT = 'benchcanary';

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { rounds: { type: 'string', default: '3' }, rate: { type: 'string', default: '100' }, interval: { type: 'string', default: '5s' } } });
  const rounds = Number(values.rounds);
  const rate = Number(values.rate);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds: expected a whole number ≥ 1, got ${values.rounds}`);
  if (!Number.isFinite(rate) || rate <= 0) throw new Error(`--rate: expected requests per second, got ${values.rate}`);
  const cp = await ControlPlaneProcess.create('bench-canary');
  const app = new TestProject(PROJECT);
  let load: LoadRun | null = null;
  const samples: Sample[] = [];
  try {
    await cp.start();
    await cp.client.createBaseImage('node');
    const first = await deployAndWait(cp.client, app.write({ version: 'r0' }));
    if (first.state !== 'succeeded') throw new Error(`initial deploy failed: ${first.error}`);
    load = startLoad({ url: cp.edgeUrl, hostHeader: app.domain, ratePerSec: rate, timeoutMs: 5000 });
    await sleep(1000);

    const measure = async (path: string, body: ReturnType<typeof app.write>, expected: string): Promise<void> => {
      const before = load!.snapshot();
      const t0 = Date.now();
      const d = await deployAndWait(cp.client, body);
      const totalMs = Date.now() - t0;
      if (d.state !== expected) throw new Error(`${path}: expected ${expected}, got ${d.state}: ${d.error}`);
      await sleep(500);
      const after = load!.snapshot();
      const stepStart = d.steps.find((s) => s.name.startsWith('canary step 1/'));
      const abortEnd = d.steps.find((s) => s.name.startsWith('abort canary'));
      const exposedMs = stepStart && abortEnd?.finishedAt ? Date.parse(abortEnd.finishedAt) - Date.parse(stepStart.startedAt) : null;
      const s: Sample = { path, totalMs, exposedMs, outcome: `${d.state}${d.errorCode ? ` (${d.errorCode})` : ''}`, requests: after.total - before.total, failed: after.failed - before.failed };
      samples.push(s);
      console.log(`  ${path}: ${s.outcome} after ${totalMs} ms${exposedMs !== null ? `, canary had traffic for ${exposedMs} ms` : ''}, ${s.failed} failed of ${s.requests}`);
    };

    console.log(`${rounds} round(s) at ${rate} req/s…`);
    for (let i = 1; i <= rounds; i++) {
      await measure(
        'canary, 20 % errors',
        app.write({ version: `c${i}`, env: { ERROR_RATE: '0.2' }, deploy: { strategy: 'canary', steps: [{ weight: 20, pause: '60s' }], analysis: { interval: values.interval, min_requests: 20 } } }),
        'rolled_back',
      );
      await measure(
        'blue-green, failing health',
        app.write({ version: `b${i}`, env: { HEALTH_FAIL: '1' }, health: { deadline: '5s' }, deploy: { strategy: 'blue-green', keep_warm: '0s' } }),
        'failed',
      );
    }
  } finally {
    await load?.stop();
    await cp.destroy();
  }

  const rows = [...new Set(samples.map((s) => s.path))].map((path) => {
    const mine = samples.filter((s) => s.path === path);
    const exposed = mine.map((s) => s.exposedMs).filter((x): x is number => x !== null);
    return {
      path,
      runs: mine.length,
      timeToOutcomeMeanMs: Math.round(mean(mine.map((s) => s.totalMs))),
      timeToOutcomeMaxMs: Math.max(...mine.map((s) => s.totalMs)),
      exposedMeanMs: exposed.length ? Math.round(mean(exposed)) : '-',
      exposedMaxMs: exposed.length ? Math.max(...exposed) : '-',
      requests: mine.reduce((a, s) => a + s.requests, 0),
      failed: mine.reduce((a, s) => a + s.failed, 0),
    };
  });
  console.log('');
  printTable(rows as unknown as Record<string, string | number>[], ['path', 'runs', 'timeToOutcomeMeanMs', 'timeToOutcomeMaxMs', 'exposedMeanMs', 'exposedMaxMs', 'requests', 'failed']);
  const file = writeResult('canary', { machine: { cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30) }, rounds, rate, interval: values.interval, replicas: 2, rows, samples });
  console.log(`\nwritten ${file}`);
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
