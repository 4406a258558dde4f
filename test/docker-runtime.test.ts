/**
 * The Docker driver against the real engine: offline base images, builds honouring
 * .dockerignore, replicas on the bridge network reached by IP, labels, logs, and a
 * graceful stop (SIGTERM reaches the app, which exits 0 well before the kill timeout).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { DockerRuntime } from '../src/drivers/docker/docker-runtime';
import { createNodeBaseImage, createStaticBaseImage } from '../src/drivers/docker/base-images';
import { httpProbe } from '../src/drivers/probe/http-probe';
import { removeTestContainers } from './support/docker-cleanup';

const network = `slipway-test-rt-${process.pid}`;
const runtime = new DockerRuntime({ network, logger: pino({ level: 'silent' }) });
const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-rt-'));
const labels = { project: 'rttest', service: 'web', env: 'production', release: 1, deployment: 'd-rt' };

before(async () => {
  await runtime.ping();
  await runtime.ensureNetwork();
});
after(async () => {
  await removeTestContainers(network);
  rmSync(dir, { recursive: true, force: true });
});

test('the node base image is built from the host and reused when present', async () => {
  const first = await createNodeBaseImage(runtime);
  assert.equal(first.tag, `slipway/node:${process.versions.node}`);
  assert.ok(first.tags.includes(`slipway/node:${process.versions.node.split('.')[0]}`));
  const again = await createNodeBaseImage(runtime);
  assert.equal(again.reused, true);
  assert.equal(again.id, first.id);
});

test('builds honour .dockerignore; a replica runs, is probed by IP, logs, and stops gracefully', async () => {
  const ctx = path.join(dir, 'app');
  cpSync(path.resolve(import.meta.dirname, '../examples/hello'), ctx, { recursive: true });
  writeFileSync(path.join(ctx, 'secret.log'), 'must not be sent');
  writeFileSync(path.join(ctx, 'Dockerfile'), `${'ARG BASE=slipway/node:20\nFROM ${BASE}\nCOPY . /app/\nUSER 1000\nCMD ["node", "/app/server.js"]\n'}`);
  const output: string[] = [];
  const image = await runtime.build({ contextDir: ctx, dockerfile: 'Dockerfile', tags: ['slipway/rttest-web:t1', 'slipway/rttest-web:t1b'], onOutput: (l) => output.push(l) });
  assert.match(image.id, /^sha256:/);
  assert.ok(output.some((l) => /Step|COPY/i.test(l)), 'build output is streamed');
  assert.ok((await runtime.inspectImage('slipway/rttest-web:t1b'))?.id === image.id);
  assert.equal(await runtime.inspectImage('slipway/does-not-exist:1'), null);

  const r = await runtime.startReplica({ name: `rttest-${process.pid}`, image: image.id, port: 3000, env: { SLIPWAY_RELEASE: 'v1', PORT: '3000' }, labels });
  assert.equal(r.state, 'running');
  assert.ok(r.address, 'has an address on the network');
  let probe = await httpProbe(`http://${r.address}:3000/health`, 1000);
  for (let i = 0; i < 50 && !probe.ok; i++) {
    await new Promise((res) => setTimeout(res, 100));
    probe = await httpProbe(`http://${r.address}:3000/health`, 1000);
  }
  assert.equal(probe.ok, true, JSON.stringify(probe));
  const ls = await fetch(`http://${r.address}:3000/`).then((res) => res.json() as Promise<{ release: string }>);
  assert.equal(ls.release, 'v1');

  const listed = await runtime.listReplicas({ project: 'rttest', release: 1 });
  assert.deepEqual(listed.map((x) => x.name), [r.name]);
  assert.deepEqual(listed[0]!.labels, labels);
  assert.equal((await runtime.listReplicas({ project: 'rttest', release: 2 })).length, 0);

  const lines: string[] = [];
  for await (const e of runtime.logs({ project: 'rttest' }, { tail: 10 })) lines.push(e.line);
  assert.ok(lines.some((l) => /listening on :3000/.test(l)), lines.join('\n'));

  // The ignored file never reached the image: the app cannot read it.
  const { execFileSync } = await import('node:child_process');
  const check = execFileSync('docker', ['run', '--rm', image.id, 'node', '-e', "console.log(require('fs').existsSync('/app/secret.log'))"]).toString().trim();
  assert.equal(check, 'false');

  const t0 = Date.now();
  await runtime.stopReplica(r.id, 10_000);
  assert.ok(Date.now() - t0 < 5000, `SIGTERM handled gracefully (${Date.now() - t0} ms, not killed after 10 s)`);
  assert.equal(await runtime.inspectReplica(r.id), null, 'container removed');
  await runtime.stopReplica(r.id, 1000); // stopping a missing replica is not an error
});

test('the static base image serves /www with busybox httpd', async () => {
  const img = await createStaticBaseImage(runtime);
  assert.ok(img.tags.includes('slipway/static:latest'));
  const r = await runtime.startReplica({ name: `rttest-static-${process.pid}`, image: img.id, port: 8080, env: {}, labels: { ...labels, service: 'site' } });
  let body = '';
  for (let i = 0; i < 30 && !body; i++) {
    body = await fetch(`http://${r.address}:8080/`).then((res) => res.text(), () => '');
    if (!body) await new Promise((res) => setTimeout(res, 100));
  }
  assert.match(body, /slipway\/static/);
  await runtime.stopReplica(r.id, 2000);
});
