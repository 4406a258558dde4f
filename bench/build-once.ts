/**
 * "Built once": how long a redeploy of unchanged source takes to reach "built", against
 * what a CI script does today on the same machine in the same run — `docker build` of the
 * same context, which with a warm layer cache still sends the context and walks every step.
 *
 *   npm run bench -- build-once [--runs 5]
 *
 * Slipway's figures: the client packing the context (honouring .dockerignore) and asking
 * the server whether it has those bytes (no upload when it does), the deployment's
 * `build` step (finding the content-addressed image), and the whole path from the start
 * of the client's work to that step ending — what a user waits for before "built".
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import { parseArgs, promisify } from 'node:util';
import { printTable } from './lib/table';
import { writeResult } from './lib/results';
import { ControlPlaneProcess } from '../test/support/control-plane-process';
import { TestProject } from '../test/support/test-project';
import { deployAndWait, waitDeployment } from '../test/support/wait-deployment';
import { uploadBuildContexts } from '../src/client/upload-contexts';
import type { DeploymentView } from '../src/core/contract/views';

const run = promisify(execFile);

interface Row {
  method: string;
  runs: number;
  meanMs: number;
  maxMs: number;
  note: string;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { runs: { type: 'string', default: '5' } } });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: expected a whole number >= 1, got ${values.runs}`);
  const rows: Row[] = [];
  const cp = await ControlPlaneProcess.create('bench-build');
  const app = new TestProject('benchbuild');
  try {
    await cp.start();
    await cp.client.createBaseImage('node');
    const cold = await deployAndWait(cp.client, app.write({ version: 'same', replicas: 1 }));
    if (cold.state !== 'succeeded') throw new Error(`first deploy failed: ${cold.error}`);
    rows.push(summarize('slipway: first deploy (cold build)', [buildStepMs(cold)], 'builds the image'));

    const packs: number[] = [];
    const steps: number[] = [];
    const toBuilt: number[] = [];
    for (let i = 0; i < runs; i++) {
      const spec = app.write({ version: 'same', replicas: 1 });
      const t0 = Date.now();
      const sources = await uploadBuildContexts(cp.client, spec);
      packs.push(Date.now() - t0);
      const { deployments } = await cp.client.deploy({ config: spec.config, sources });
      const d = await waitDeployment(cp.client, deployments[0]!.id);
      if (d.state !== 'succeeded') throw new Error(`redeploy ${i + 1} failed: ${d.error}`);
      steps.push(buildStepMs(d));
      toBuilt.push(Date.parse(d.steps.find((s) => s.name === 'build')!.finishedAt!) - t0);
    }
    rows.push(summarize('slipway: redeploy unchanged, pack + check', packs, 'client: tar + sha256, server has it'));
    rows.push(summarize('slipway: redeploy unchanged, build step', steps, 'content address → existing image'));
    rows.push(summarize('slipway: redeploy unchanged, start → built', toBuilt, 'all of the above + queueing'));

    // Baseline: what CI scripts run today, with Docker's layer cache warm from the deploy above.
    const cached: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await run('docker', ['build', '-q', '-t', 'slipway-bench/build-once:ci', app.dir], { env: { ...process.env, DOCKER_BUILDKIT: '0' } });
      cached.push(performance.now() - t0);
    }
    rows.push(summarize('baseline: docker build (warm cache)', cached, 'what a CI script runs'));
  } finally {
    await run('docker', ['rmi', '-f', 'slipway-bench/build-once:ci']).catch(() => undefined);
    await cp.destroy();
  }
  printTable(rows as unknown as Record<string, string | number>[], ['method', 'runs', 'meanMs', 'maxMs', 'note']);
  const file = writeResult('build-once', { machine: { cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30) }, runs, rows });
  console.log(`\nwritten ${file}`);
}

function buildStepMs(d: DeploymentView): number {
  const step = d.steps.find((s) => s.name === 'build');
  if (!step?.finishedAt) throw new Error(`deployment ${d.id} has no finished build step`);
  return Date.parse(step.finishedAt) - Date.parse(step.startedAt);
}

function summarize(method: string, samples: number[], note: string): Row {
  return {
    method,
    runs: samples.length,
    meanMs: Math.round(samples.reduce((a, b) => a + b, 0) / samples.length),
    maxMs: Math.round(Math.max(...samples)),
    note,
  };
}
