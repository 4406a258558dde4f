/**
 * The read side at scale: deploy N services (busybox httpd from the offline static base
 * image, R replicas each) in one request, time until every deployment succeeded, then time
 * the calls the dashboard's overview and the CLI's status make, sequentially (no other
 * client), against a one-service project in the same control plane as the baseline.
 *
 *   npm run bench -- status-scale [--services 50] [--replicas 1] [--runs 20]
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { printTable } from './lib/table';
import { writeResult } from './lib/results';
import { ControlPlaneProcess } from '../test/support/control-plane-process';
import { waitDeployment } from '../test/support/wait-deployment';
import { deployDirectory } from '../src/client/upload-contexts';
import type { SlipwayClient } from '../src/client/api-client';

function siteDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-bench-scale-'));
  mkdirSync(path.join(dir, 'site'));
  writeFileSync(path.join(dir, 'site/index.html'), '<p>scale</p>\n');
  writeFileSync(path.join(dir, 'site/health'), 'ok\n');
  writeFileSync(path.join(dir, 'Dockerfile'), 'FROM slipway/static:latest\nCOPY site/ /www/\n');
  return dir;
}

function projectConfig(project: string, services: number, replicas: number): string {
  const all: Record<string, unknown> = {};
  for (let i = 1; i <= services; i++) {
    all[`svc-${String(i).padStart(3, '0')}`] = {
      build: '.',
      port: 8080,
      replicas,
      domains: [`svc-${i}.${project}.localhost`],
      health: { path: '/health', interval: '200ms', timeout: '1s', successes: 1, deadline: '120s' },
      deploy: { drain_timeout: '1s', stop_timeout: '2s' },
    };
  }
  return stringify({ project, services: all });
}

async function deployProject(client: SlipwayClient, project: string, services: number, replicas: number): Promise<number> {
  const dir = siteDir();
  const config = projectConfig(project, services, replicas);
  writeFileSync(path.join(dir, 'slipway.yml'), config);
  const t0 = Date.now();
  const { deployments } = await deployDirectory(client, { config, dir });
  const outcomes = await Promise.all(deployments.map((d) => waitDeployment(client, d.id)));
  const failed = outcomes.filter((d) => d.state !== 'succeeded');
  if (failed.length > 0) throw new Error(`${failed.length} deployment(s) failed, e.g. ${failed[0]!.service}: ${failed[0]!.error}`);
  return Date.now() - t0;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

async function time(runs: number, call: () => Promise<unknown>): Promise<{ medianMs: number; p99Ms: number; maxMs: number }> {
  await call(); // warm-up (connection, caches)
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await call();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  const r = (v: number) => Math.round(v * 10) / 10;
  return { medianMs: r(quantile(samples, 0.5)), p99Ms: r(quantile(samples, 0.99)), maxMs: r(samples.at(-1)!) };
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { services: { type: 'string', default: '50' }, replicas: { type: 'string', default: '1' }, runs: { type: 'string', default: '20' } } });
  const services = Number(values.services);
  const replicas = Number(values.replicas);
  const runs = Number(values.runs);
  for (const [k, v] of Object.entries({ services, replicas, runs })) if (!Number.isInteger(v) || v < 1) throw new Error(`--${k}: expected a whole number ≥ 1`);
  const cp = await ControlPlaneProcess.create('bench-scale');
  try {
    await cp.start();
    await cp.client.createBaseImage('static');
    const baselineMs = await deployProject(cp.client, 'one', 1, replicas);
    const convergeMs = await deployProject(cp.client, 'fleet', services, replicas);
    const { client } = cp;
    const rows: Array<Record<string, string | number>> = [];
    const calls: Array<[string, (p: string) => Promise<unknown>]> = [
      ['status', (p) => client.status(p)],
      ['metrics overview 1h', (p) => client.metricsOverview(p, { since: '1h' })],
      ['metrics series 1h', (p) => client.metricsOverviewSeries(p, { since: '1h' })],
      ['deployments (20)', (p) => client.deployments(p)],
    ];
    rows.push({ call: 'projects (list)', project: 'both', ...(await time(runs, () => client.projects())) });
    for (const [name, call] of calls) {
      rows.push({ call: name, project: `one (1 service)`, ...(await time(runs, () => call('one'))) });
      rows.push({ call: name, project: `fleet (${services} services)`, ...(await time(runs, () => call('fleet'))) });
    }
    console.log(`\n${services} services × ${replicas} replica(s) deployed in one request: all succeeded after ${convergeMs} ms (1 service: ${baselineMs} ms)\n`);
    printTable(rows);
    const file = writeResult('status-scale', { services, replicas, runs, convergeMs, baselineConvergeMs: baselineMs, cpus: os.cpus().length, rows });
    console.log(`\nwrote ${file}`);
  } finally {
    await cp.destroy();
  }
}
