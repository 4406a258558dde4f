/**
 * The read side at scale: deploy N services (busybox httpd from the offline static base
 * image, R replicas each) in one request, time until every deployment succeeded, then time
 * the calls the dashboard's overview and the CLI's status make, sequentially (no other
 * client), against a one-service project in the same control plane as the baseline.
 *
 *   npm run bench -- status-scale [--services 50] [--replicas 1] [--runs 20]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { wholeNumber } from './lib/flags';
import { printTable } from './lib/table';
import { writeResult } from './lib/results';
import { deployFleet } from './lib/static-fleet';
import { timeCall as time } from './lib/call-latency';
import { ControlPlaneProcess } from '../test/support/control-plane-process';

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { services: { type: 'string', default: '50' }, replicas: { type: 'string', default: '1' }, runs: { type: 'string', default: '20' } } });
  const services = wholeNumber('--services', values.services);
  const replicas = wholeNumber('--replicas', values.replicas);
  const runs = wholeNumber('--runs', values.runs);
  const cp = await ControlPlaneProcess.create('bench-scale');
  try {
    await cp.start();
    await cp.client.createBaseImage('static');
    const baselineMs = (await deployFleet(cp.client, { project: 'one', services: 1, replicas })).succeededMs;
    const convergeMs = (await deployFleet(cp.client, { project: 'fleet', services, replicas })).succeededMs;
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
