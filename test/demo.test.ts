/**
 * The README's first command, `npm run demo` (scripts/demo.sh), on a fresh data directory:
 * it starts the control plane, builds the offline base image, deploys examples/hello behind
 * the edge and prints where it is served — and that address answers through the edge. Then
 * the CLI finds the admin token the first start wrote (0600) without SLIPWAY_TOKEN, and the
 * demo run again redeploys. Ports, data directory and Docker network are the test's own
 * (the script honours SLIPWAY_DATA_DIR, SLIPWAY_HTTP_PORT, SLIPWAY_HTTPS_PORT, SLIPWAY_API_PORT
 * and SLIPWAY_DOCKER_NETWORK), so it runs beside nothing else's state.
 *
 * Run: node --import tsx --test --test-concurrency=1 test/demo.test.ts
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './support/free-port';
import { getWithHost } from './support/http-get';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const DATA_DIR = mkdtempSync(path.join(os.tmpdir(), 'slipway-demo-'));
const NETWORK = 'slipway-test-demo';
const [httpPort, httpsPort, apiPort] = [await freePort(), await freePort(), await freePort()];
// No inherited token: the CLI must find the admin token file by itself.
const { SLIPWAY_TOKEN: _t, SLIPWAY_URL: _u, ...inherited } = process.env;
const env: NodeJS.ProcessEnv = {
  ...inherited,
  SLIPWAY_DATA_DIR: DATA_DIR,
  SLIPWAY_HTTP_PORT: String(httpPort),
  SLIPWAY_HTTPS_PORT: String(httpsPort),
  SLIPWAY_API_PORT: String(apiPort),
  SLIPWAY_EDGE_BIND: '127.0.0.1',
  SLIPWAY_DOCKER_NETWORK: NETWORK,
  SLIPWAY_ACME: 'off',
  SLIPWAY_BACKUP_TICK: 'off',
};

async function demo(): Promise<string> {
  try {
    const { stdout, stderr } = await run('bash', ['scripts/demo.sh'], { cwd: ROOT, env, timeout: 600_000, maxBuffer: 32 * 1024 * 1024 });
    return `${stdout}\n${stderr}`;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    let log = '';
    try {
      log = readFileSync(path.join(DATA_DIR, 'server.log'), 'utf8').split('\n').slice(-40).join('\n');
    } catch {
      // no log yet
    }
    assert.fail(`npm run demo failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}\nserver log:\n${log}`);
  }
}

after(async () => {
  try {
    const info = JSON.parse(readFileSync(path.join(DATA_DIR, 'server.json'), 'utf8')) as { pid: number };
    process.kill(info.pid, 'SIGTERM');
  } catch {
    // not started
  }
  const { stopEdge } = await import('../src/drivers/haproxy/haproxy-edge');
  await stopEdge(path.join(DATA_DIR, 'edge')).catch(() => undefined);
  const { removeTestContainers } = await import('./support/docker-cleanup');
  await removeTestContainers(NETWORK);
  rmSync(DATA_DIR, { recursive: true, force: true });
});

test('npm run demo on a fresh data directory deploys examples/hello and prints the address that serves it', { timeout: 900_000 }, async () => {
  const out = await demo();
  const url = `http://hello.localhost:${httpPort}/`;
  assert.ok(out.includes(`hello is served at ${url}`), out);
  const res = await getWithHost(httpPort, 'hello.localhost');
  assert.equal(res.status, 200, `${res.status} ${res.body}`);
  assert.match(res.body, /hello/i);
  assert.match(out, new RegExp(`https://hello\\.localhost:${httpsPort}/`), 'the HTTPS address is printed too');
});

test('the admin token the first start wrote is 0600 and the CLI finds it without SLIPWAY_TOKEN', { timeout: 120_000 }, async () => {
  const file = path.join(DATA_DIR, 'admin-token');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(DATA_DIR).mode & 0o777, 0o700);
  const { stdout } = await run(process.execPath, [path.join(ROOT, 'bin/slipway.mjs'), 'status', '--json', '-f', 'examples/hello/slipway.yml'], { cwd: ROOT, env, timeout: 60_000 });
  const status = JSON.parse(stdout) as { project: string; services: Array<{ service: string; readyReplicas: number }> };
  assert.equal(status.project, 'hello');
  assert.ok(status.services.some((s) => s.readyReplicas >= 1), stdout);
});

test('npm run demo again redeploys: a new release is live behind the same address', { timeout: 900_000 }, async () => {
  const before = (await getWithHost(httpPort, 'hello.localhost')).headers['x-slipway-release'];
  const out = await demo();
  assert.match(out, /control plane already running/);
  const after = await getWithHost(httpPort, 'hello.localhost');
  assert.equal(after.status, 200);
  assert.notEqual(after.headers['x-slipway-release'], before, `a new release serves (was ${String(before)})`);
});
