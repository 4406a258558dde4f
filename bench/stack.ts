/**
 * The whole stack (examples/stack: web ×2 + worker + Postgres + Redis, one slipway.yml) on a
 * fresh control plane:
 * - first deploy of the stack with the built-in accessory images already on the host (a new
 *   project: new volumes, initdb, generated credentials, provisioning, app image build, release
 *   command, 2 web replicas + the worker): from the API call to every deployment succeeded,
 *   and to `/health` 200 through the edge, with the deployment's steps;
 * - when slipway/postgres:15 or slipway/redis:7 are missing at the start, the first deploy of
 *   a warm-up project builds them: that time is reported apart (it is once per host);
 * - a web redeploy (APP_VERSION changed: same image, release command, rolling 2 replicas) under
 *   a light load through the edge (its failed requests are counted), `--rounds` times.
 *
 *   npm run bench -- stack [--rounds 5]
 */
import { parseArgs } from 'node:util';
import { rmSync } from 'node:fs';
import http from 'node:http';
import Docker from 'dockerode';
import { deployDirectory } from '../src/client/upload-contexts';
import type { DeploymentView } from '../src/core/contract/views';
import { ControlPlaneProcess } from '../test/support/control-plane-process';
import { StackProject, type StackVariant } from '../test/support/stack-project';
import { deploymentLog, waitDeployment } from '../test/support/wait-deployment';
import { startLoad } from './lib/load-generator';
import { wholeNumber } from './lib/flags';
import { printTable } from './lib/table';
import { writeResult } from './lib/results';

const IMAGES = ['slipway/postgres:15', 'slipway/redis:7'];

interface Timed {
  /** API call → every deployment of the call succeeded. */
  succeededMs: number;
  /** API call → /health 200 through the edge (after succeeded: the first probe that passes). */
  healthyMs: number;
  /** Each deployment's steps, `service/step` → ms. */
  steps: Record<string, number>;
  /** Image builds the deployment logs report (`built slipway/postgres:15 in 95.2 s`): ref → ms. */
  builds: Record<string, number>;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { rounds: { type: 'string', default: '5' } } });
  const rounds = wholeNumber('--rounds', values.rounds);
  const docker = new Docker();
  const missing: string[] = [];
  for (const ref of IMAGES) if (!(await docker.getImage(ref).inspect().then(() => true, () => false))) missing.push(ref);

  const cp = await ControlPlaneProcess.create('bench-stack');
  const warm = new StackProject('benchstk0');
  const app = new StackProject('benchstk');
  const projects = [warm, app];
  let imageBuild: Timed | null = null;
  let first: Timed;
  const redeploys: Array<Timed & { failed: number; requests: number }> = [];
  try {
    await cp.start();
    await cp.client.createBaseImage('node');
    if (missing.length > 0) {
      console.log(`${missing.join(', ')} missing: the warm-up project's first deploy builds them…`);
      imageBuild = await timedDeploy(cp, warm, { version: 'w' });
      console.log(`  first deploy including the image builds: ${(imageBuild.succeededMs / 1000).toFixed(1)} s`);
    }
    console.log('first deploy of the stack (accessory images present)…');
    first = await timedDeploy(cp, app, { version: 'v0' });
    console.log(`  succeeded after ${first.succeededMs} ms, /health 200 through the edge after ${first.healthyMs} ms`);

    const load = startLoad({ url: cp.edgeUrl, hostHeader: app.domain, ratePerSec: 50, path: '/visits/count' });
    try {
      for (let i = 1; i <= rounds; i++) {
        const before = load.snapshot();
        const r = await timedDeploy(cp, app, { version: `v${i}` }, ['web']);
        const after = load.snapshot();
        redeploys.push({ ...r, failed: after.failed - before.failed, requests: after.total - before.total });
        console.log(`  web redeploy ${i}: succeeded after ${r.succeededMs} ms (${after.failed - before.failed} failed of ${after.total - before.total} requests)`);
      }
    } finally {
      await load.stop();
    }
  } finally {
    await cp.destroy();
    await removeProjects(docker, cp.network, projects.map((p) => p.project));
    for (const p of projects) rmSync(p.dir, { recursive: true, force: true });
  }

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const rows: Array<Record<string, string | number>> = [];
  if (imageBuild) {
    rows.push({ measure: `first deploy incl. building ${missing.join(' + ')}`, ms: imageBuild.succeededMs, note: `accessories step ${imageBuild.steps['web/accessories'] ?? '?'} ms` });
    for (const [ref, ms] of Object.entries(imageBuild.builds)) rows.push({ measure: `  build ${ref}`, ms, note: 'from the deployment log' });
  }
  rows.push({ measure: 'first deploy (images present) → succeeded', ms: first.succeededMs, note: 'web and worker deployments, in parallel' });
  rows.push({ measure: 'first deploy → /health 200 via the edge', ms: first.healthyMs, note: '' });
  for (const [step, ms] of Object.entries(first.steps)) rows.push({ measure: `  step ${step}`, ms, note: '' });
  rows.push({
    measure: `web redeploy → succeeded (median of ${rounds})`,
    ms: median(redeploys.map((r) => r.succeededMs)),
    note: `min ${Math.min(...redeploys.map((r) => r.succeededMs))}, max ${Math.max(...redeploys.map((r) => r.succeededMs))}; ${redeploys.reduce((n, r) => n + r.failed, 0)} failed of ${redeploys.reduce((n, r) => n + r.requests, 0)} requests`,
  });
  const steps = [...new Set(redeploys.flatMap((r) => Object.keys(r.steps)))];
  for (const step of steps) rows.push({ measure: `  step ${step} (median)`, ms: median(redeploys.map((r) => r.steps[step] ?? 0)), note: '' });
  console.log('');
  printTable(rows, ['measure', 'ms', 'note']);
  const file = writeResult('stack', { rounds, imagesMissingAtStart: missing, imageBuild, first, redeploys });
  console.log(`\nwritten to ${file}`);
}

/** Deploys (all services, or `services`), waits for every deployment, then for /health 200 through the edge. */
async function timedDeploy(cp: ControlPlaneProcess, project: StackProject, v: StackVariant, services?: string[]): Promise<Timed> {
  const t0 = Date.now();
  const { deployments } = await deployDirectory(cp.client, { ...project.write(v), ...(services ? { services } : {}) });
  const done: DeploymentView[] = await Promise.all(deployments.map((d) => waitDeployment(cp.client, d.id)));
  for (const d of done) if (d.state !== 'succeeded') throw new Error(`${project.project}/${d.service} ${d.state}: ${d.error}\n${await deploymentLog(cp.client, d.id)}`);
  const succeededMs = Math.max(...done.map((d) => Date.parse(d.finishedAt!))) - t0;
  for (;;) {
    if ((await healthStatus(cp.httpPort, project.domain)) === 200) break;
    if (Date.now() - t0 > 300_000) throw new Error(`${project.project}: /health not 200 through the edge after 5 min`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const healthyMs = Date.now() - t0;
  const steps: Record<string, number> = {};
  // `start 1 replica(s) of v3` → `start 1 replica(s)`: the same step in every round.
  for (const d of done) for (const s of d.steps) if (s.finishedAt) steps[`${d.service}/${s.name.replace(/ of v\d+$/, '')}`] = Date.parse(s.finishedAt) - Date.parse(s.startedAt);
  const builds: Record<string, number> = {};
  for (const d of done) for (const m of (await deploymentLog(cp.client, d.id)).matchAll(/built (slipway\/\S+) in ([\d.]+) s/g)) builds[m[1]!] = Math.round(Number(m[2]) * 1000);
  return { succeededMs, healthyMs, steps, builds };
}

function healthStatus(port: number, host: string): Promise<number> {
  return new Promise((resolve) => {
    http
      .get({ host: '127.0.0.1', port, path: '/health', headers: { host }, agent: false, timeout: 5000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', () => resolve(0));
  });
}

/** Containers, per-environment networks, volumes and app images of the benchmark's projects. */
async function removeProjects(docker: Docker, base: string, projects: string[]): Promise<void> {
  for (const project of projects) {
    for (const label of [`slipway.project=${project}`, `slipway.accessory.project=${project}`]) {
      const containers = await docker.listContainers({ all: true, filters: { label: [label] } });
      await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
    }
    const images = await docker.listImages({ filters: { reference: [`slipway/${project}-*`] } });
    await Promise.all(images.map((i) => docker.getImage(i.Id).remove({ force: true }).catch(() => undefined)));
  }
  for (const n of await docker.listNetworks()) if (n.Name.startsWith(`${base}_`)) await docker.getNetwork(n.Id).remove().catch(() => undefined);
  const { Volumes } = await docker.listVolumes({ filters: { label: [`slipway.base=${base}`] } });
  await Promise.all((Volumes ?? []).map((v) => docker.getVolume(v.Name).remove().catch(() => undefined)));
}
