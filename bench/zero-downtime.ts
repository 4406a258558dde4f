/**
 * Failed requests during consecutive deploys under the same keep-alive load:
 * Slipway's rolling deploy through the edge vs `docker compose up -d` of the same
 * image (what our users run today), measured in one run on this machine.
 *
 *   npm run bench -- zero-downtime [--deploys 5] [--concurrency 8]
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { startLoad, type LoadReport } from './lib/load-generator';
import { printTable } from './lib/table';
import { writeResult } from './lib/results';
import { ControlPlaneProcess } from '../test/support/control-plane-process';
import { TestProject } from '../test/support/test-project';
import { deployAndWait } from '../test/support/wait-deployment';
import { freePort } from '../test/support/free-port';

const run = promisify(execFile);

interface Row {
  method: string;
  deploys: number;
  requests: number;
  failed: number;
  failures: string;
  deployMeanS: number;
  deployMaxS: number;
  p99Ms: number;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { deploys: { type: 'string', default: '5' }, concurrency: { type: 'string', default: '8' } } });
  const deploys = Number(values.deploys);
  const concurrency = Number(values.concurrency);
  const rows: Row[] = [];

  const cp = await ControlPlaneProcess.create('bench-zdt');
  const app = new TestProject('benchzdt');
  let image = '';
  try {
    await cp.start();
    await cp.client.createBaseImage('node');
    const first = await deployAndWait(cp.client, app.write({ version: 'v0' }));
    if (first.state !== 'succeeded') throw new Error(`initial deploy failed: ${first.error}`);
    image = (await cp.client.releases('benchzdt', 'web')).releases[0]!.imageRef;

    console.log(`slipway rolling: ${deploys} deploys under ${concurrency} keep-alive clients…`);
    const load = startLoad({ url: cp.edgeUrl, hostHeader: app.domain, concurrency });
    const durations: number[] = [];
    for (let i = 1; i <= deploys; i++) {
      const t0 = Date.now();
      const d = await deployAndWait(cp.client, app.write({ version: `v${i}` }));
      durations.push((Date.now() - t0) / 1000);
      if (d.state !== 'succeeded') throw new Error(`deploy ${i} failed: ${d.error}`);
    }
    rows.push(row('slipway rolling (edge)', deploys, durations, await load.stop()));
  } finally {
    await cp.destroy();
  }

  rows.push(await composeBaseline(image, deploys, concurrency));

  printTable(rows as unknown as Record<string, string | number>[], ['method', 'deploys', 'requests', 'failed', 'failures', 'deployMeanS', 'deployMaxS', 'p99Ms']);
  const file = writeResult('zero-downtime', { machine: { cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30) }, deploys, concurrency, rows });
  console.log(`\nwritten ${file}`);
}

/** `docker compose up -d` after changing the service's environment, the same image, port published on loopback. */
async function composeBaseline(image: string, deploys: number, concurrency: number): Promise<Row> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-bench-compose-'));
  const port = await freePort();
  const project = `slipwaybench${process.pid}`;
  const write = (version: string) =>
    writeFileSync(
      path.join(dir, 'docker-compose.yml'),
      `version: "3"\nservices:\n  web:\n    image: ${image}\n    ports: ["127.0.0.1:${port}:3000"]\n    environment:\n      APP_VERSION: "${version}"\n      SLIPWAY_RELEASE: "${version}"\n`,
    );
  const compose = (...args: string[]) => run('docker-compose', ['-p', project, '-f', path.join(dir, 'docker-compose.yml'), ...args], { cwd: dir });
  try {
    write('c0');
    await compose('up', '-d');
    await waitHttp(`http://127.0.0.1:${port}/health`);
    console.log(`docker compose up -d: ${deploys} deploys under ${concurrency} keep-alive clients…`);
    const load = startLoad({ url: `http://127.0.0.1:${port}/`, concurrency });
    await new Promise((r) => setTimeout(r, 500));
    const durations: number[] = [];
    for (let i = 1; i <= deploys; i++) {
      const t0 = Date.now();
      write(`c${i}`);
      await compose('up', '-d');
      await waitHttp(`http://127.0.0.1:${port}/health`);
      durations.push((Date.now() - t0) / 1000);
      await new Promise((r) => setTimeout(r, 500));
    }
    return row('docker compose up -d', deploys, durations, await load.stop());
  } finally {
    await compose('down', '-t', '1').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function waitHttp(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer`);
}

function row(method: string, deploys: number, durations: number[], r: LoadReport): Row {
  return {
    method,
    deploys,
    requests: r.total,
    failed: r.failed,
    failures: Object.entries(r.errors).map(([k, v]) => `${k}×${v}`).join(' ') || '-',
    deployMeanS: Number((durations.reduce((a, b) => a + b, 0) / durations.length).toFixed(2)),
    deployMaxS: Number(Math.max(...durations).toFixed(2)),
    p99Ms: Number(r.latencyMs.p99.toFixed(1)),
  };
}
