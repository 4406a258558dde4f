/**
 * The Docker driver against the real engine (no mocks): offline base images, builds that
 * honour .dockerignore, replicas on a bridge network reached by IP from the host, label
 * filters, logs (past and followed), one-off runs, and a graceful stop: SIGTERM reaches the
 * app, which finishes its in-flight request and exits 0 well before the kill timeout.
 *
 * Run: node --import tsx --test test/docker-runtime.test.ts
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { LogEntry, ReplicaLabels } from '../src/core/ports/runtime';
import { DockerRuntime } from '../src/drivers/docker/docker-runtime';
import { createNodeBaseImage, createStaticBaseImage } from '../src/drivers/docker/base-images';
import { writeSourceArchive } from '../src/source/source-archive';
import { toDockerLabels } from '../src/drivers/docker/labels';

const EXAMPLE = path.resolve(import.meta.dirname, '../examples/hello');
const suffix = randomBytes(4).toString('hex');
const network = `slipway-test-${suffix}`;
const project = `rt${suffix}`;
const runtime = new DockerRuntime({ network, logger: pino({ level: 'silent' }) });
const docker = runtime.docker;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'slipway-rt-'));
const builtTags: string[] = [];
const labels = (over: Partial<ReplicaLabels> = {}): ReplicaLabels => ({ project, service: 'web', env: 'production', release: 1, deployment: `d-${suffix}`, ...over });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The output of a one-off container of `image` running `node -e script`. */
async function runNode(image: string, script: string, env: Record<string, string> = {}): Promise<{ exitCode: number | null; out: string }> {
  const lines: string[] = [];
  const r = await runtime.runOnce({ kind: 'run', server: 'local', name: `${project}-run-${randomBytes(3).toString('hex')}`, image, env, labels: labels(), argv: ['node', '-e', script], timeoutMs: 20_000, onOutput: (l) => lines.push(l) });
  return { exitCode: r.exitCode, out: lines.join('\n') };
}

async function buildTagged(contextDir: string, dockerfile: string, name: string, onOutput?: (l: string) => void) {
  const tags = [`slipway/${project}-${name}:t1`, `slipway/${project}-${name}:t1-alias`];
  builtTags.push(...tags);
  const archive = await writeSourceArchive(contextDir, dockerfile, path.join(tmp, `${name}-${randomBytes(3).toString('hex')}.tar`));
  return runtime.build({ contextArchive: archive.file, dockerfile, tags, onOutput });
}

before(async () => {
  await runtime.ping();
  await runtime.ensureNetwork();
});

after(async () => {
  for (const label of [`slipway.project=${project}`, `slipway.run.project=${project}`]) {
    const containers = await docker.listContainers({ all: true, filters: { label: [label] } });
    await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  }
  await docker.getNetwork(network).remove().catch(() => undefined);
  // Environment networks and volumes too (and anything a failed test left on them).
  const { removeTestContainers } = await import('./support/docker-cleanup');
  await removeTestContainers(network);
  // Test images go; the base images stay (they are reused by every suite).
  for (const tag of builtTags) await docker.getImage(tag).remove().catch(() => undefined);
  rmSync(tmp, { recursive: true, force: true });
  runtime.close();
});

test('ping fails with SLW_HOST_MISSING and what to do when no engine answers', async () => {
  const nowhere = new DockerRuntime({ socketPath: path.join(tmp, 'no-docker.sock'), logger: pino({ level: 'silent' }) });
  await assert.rejects(nowhere.ping(), { code: 'SLW_HOST_MISSING', message: /start dockerd or run scripts\/bootstrap-host\.sh/ });
});

test('the replica network is a labelled bridge network, created once', async () => {
  await runtime.ensureNetwork(); // again: no error, no duplicate
  const nets = await docker.listNetworks({ filters: { name: [network] } });
  assert.equal(nets.filter((n) => n.Name === network).length, 1);
  const info = (await docker.getNetwork(network).inspect()) as { Driver: string; Labels: Record<string, string> };
  assert.equal(info.Driver, 'bridge');
  assert.equal(info.Labels['slipway.managed'], 'true');
});

test('the node base image is built from this host and reused when unchanged', async () => {
  const image = await createNodeBaseImage(runtime);
  const [major] = process.versions.node.split('.');
  assert.equal(image.tag, `slipway/node:${process.versions.node}`);
  assert.ok(image.tags.includes(`slipway/node:${major}`));
  assert.equal((await runtime.inspectImage(`slipway/node:${major}`))?.id, image.id);
  const t0 = Date.now();
  const again = await createNodeBaseImage(runtime);
  assert.equal(again.reused, true);
  assert.equal(again.id, image.id);
  assert.ok(Date.now() - t0 < 2000, 'reuse is quick');
  const r = await runNode(image.id, 'console.log(process.version, require("os").userInfo({}).username)');
  assert.deepEqual(r, { exitCode: 0, out: `v${process.versions.node} root` });
});

test('builds send only what .dockerignore lets through and stream their output', async () => {
  const ctx = path.join(tmp, 'hello-copy');
  cpSync(EXAMPLE, ctx, { recursive: true });
  writeFileSync(path.join(ctx, 'debug.log'), 'ignored');
  writeFileSync(path.join(ctx, '.env'), 'SECRET=ignored');
  mkdirSync(path.join(ctx, 'node_modules/dep'), { recursive: true });
  writeFileSync(path.join(ctx, 'node_modules/dep/index.js'), 'ignored');
  // A Dockerfile that copies the whole context, to see exactly what was sent.
  writeFileSync(path.join(ctx, 'Dockerfile.inspect'), 'FROM slipway/node:20\nCOPY . /ctx/\n');
  const image = await buildTagged(ctx, 'Dockerfile.inspect', 'ctx');
  const r = await runNode(image.id, 'console.log(require("fs").readdirSync("/ctx", { recursive: true }).sort().join(","))');
  assert.equal(r.exitCode, 0);
  // .dockerignore and Dockerfile are sent (the daemon needs them) but dropped again because they are listed.
  assert.equal(r.out, 'Dockerfile.inspect,Dockerfile.worker,package.json,server.js,worker.js');

  const output: string[] = [];
  const hello = await buildTagged(EXAMPLE, 'Dockerfile', 'web', (l) => output.push(l));
  assert.match(hello.id, /^sha256:/);
  assert.deepEqual(hello.repoDigests, [], 'a local build has no registry digest: its image ID is its content address');
  assert.ok(output.some((l) => /^Step \d+\/\d+ : FROM/.test(l)), output.join('\n'));
  assert.equal((await runtime.inspectImage(`slipway/${project}-web:t1-alias`))?.id, hello.id);
  assert.equal(await runtime.inspectImage(`slipway/${project}-missing:1`), null);
});

test('a failing build reports Docker\'s error and the last output lines', async () => {
  const ctx = path.join(tmp, 'broken');
  mkdirSync(ctx);
  writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM slipway/node:20\nRUN ["node", "-e", "console.log(\'boom-line\'); process.exit(3)"]\n');
  await assert.rejects(buildTagged(ctx, 'Dockerfile', 'broken'), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'SLW_BUILD_FAILED');
    assert.match(err.message, /returned a non-zero code: 3/);
    assert.match(err.message, /boom-line/);
    return true;
  });
});

test('replicas: started on the network, reached by IP, listed by label, logged, stopped gracefully', async () => {
  const image = await runtime.inspectImage(`slipway/${project}-web:t1`);
  assert.ok(image, 'built by the previous test');
  const env = { SLIPWAY_RELEASE: 'v1', APP_VERSION: '7', WEIRD: 'a b $HOME "q" `id`' };
  const [r1, r2] = await Promise.all([
    runtime.startReplica({ server: 'local', name: `${project}-web-1`, image: image.id, port: 3000, env, labels: labels() }),
    runtime.startReplica({ server: 'local', name: `${project}-web-2`, image: image.id, port: 3000, env, labels: labels({ release: 2, deployment: `d2-${suffix}` }) }),
  ]);
  assert.equal(r1.state, 'running');
  assert.match(r1.address ?? '', /^\d+\.\d+\.\d+\.\d+$/);
  assert.equal(r1.port, 3000);
  assert.equal(r1.image, image.id);
  assert.deepEqual(r1.labels, labels());
  assert.ok(r1.startedAt && !Number.isNaN(Date.parse(r1.startedAt)));

  const info = await docker.getContainer(r1.id).inspect();
  assert.deepEqual(Object.values(info.NetworkSettings.Ports ?? {}).filter(Boolean), [], 'no published ports');
  assert.equal(info.HostConfig.RestartPolicy?.Name, 'no');
  assert.equal(info.HostConfig.Init, true);
  assert.ok(info.Config.Env.includes('WEIRD=a b $HOME "q" `id`'), 'env values are passed verbatim');
  // Its environment's network only (the service name as alias there), not the base network.
  assert.deepEqual(Object.keys(info.NetworkSettings.Networks), [`${network}_${project}_production`]);
  assert.ok(info.NetworkSettings.Networks[`${network}_${project}_production`]?.Aliases?.includes('web'));

  // The host reaches replicas directly on the bridge network.
  for (const r of [r1, r2]) {
    await waitFor(`${r.name} /health`, async () => ((await fetch(`http://${r.address}:3000/health`)).status === 200 ? true : undefined));
  }
  const res = await fetch(`http://${r1.address}:3000/`, { headers: { 'x-request-id': 'req-42' } });
  assert.equal(res.headers.get('x-slipway-release'), 'v1');
  assert.deepEqual(await res.json(), { app: 'hello', release: 'v1', version: '7', replica: r1.id.slice(0, 12), requestId: 'req-42', proto: null });

  assert.deepEqual((await runtime.listReplicas({ project })).map((r) => r.name), [r1.name, r2.name]);
  assert.deepEqual((await runtime.listReplicas({ project, release: 2 })).map((r) => r.id), [r2.id]);
  assert.deepEqual((await runtime.listReplicas({ deployment: `d-${suffix}` })).map((r) => r.id), [r1.id]);
  assert.deepEqual(await runtime.listReplicas({ project, env: 'staging' }), []);
  assert.deepEqual(await runtime.inspectReplica(r1.id), (await runtime.listReplicas({ project, release: 1 }))[0]);

  // Past logs of every matching replica, with the server's startup line.
  const past: LogEntry[] = [];
  for await (const e of runtime.logs({ project }, { tail: 20 })) past.push(e);
  for (const r of [r1, r2]) {
    assert.ok(past.some((e) => e.replica === r.name && e.stream === 'stdout' && /listening on :3000/.test(e.line)), JSON.stringify(past));
  }
  assert.ok(past.every((e) => !Number.isNaN(Date.parse(e.at))));

  // Follow both while r2 is stopped with a request in flight.
  const abort = new AbortController();
  const followed: LogEntry[] = [];
  const following = (async () => {
    for await (const e of runtime.logs({ project }, { tail: 0, follow: true, signal: abort.signal })) followed.push(e);
  })();
  const slow = fetch(`http://${r2.address}:3000/slow?ms=1500`).then(async (x) => ({ status: x.status, body: await x.text() }));
  await sleep(200);
  const since = Math.floor(Date.now() / 1000) - 1;
  const t0 = Date.now();
  await runtime.stopReplica(r2.id, 10_000);
  const stopMs = Date.now() - t0;
  assert.equal((await slow).status, 200, 'the in-flight request was finished');
  assert.ok(stopMs >= 1000 && stopMs < 8000, `SIGTERM handled gracefully: stopped in ${stopMs} ms (kill timeout 10 s)`);
  assert.equal(await dieExitCode(r2.id, since), '0', 'the app exited 0 by itself');
  assert.equal(await runtime.inspectReplica(r2.id), null, 'the container is removed');
  await runtime.stopReplica(r2.id, 1000); // a missing replica is not an error
  await waitFor('the stop in the followed logs', async () => (followed.some((e) => e.line === 'stopped cleanly') ? true : undefined), 3000);
  assert.ok(followed.some((e) => e.replica === r2.name && /^SIGTERM: finishing 1 in-flight/.test(e.line)), JSON.stringify(followed));

  // Aborting ends the follow although r1 still runs.
  abort.abort();
  await Promise.race([following, sleep(3000).then(() => assert.fail('following did not stop on abort'))]);

  await runtime.stopReplica(r1.id, 10_000);
  assert.deepEqual(await runtime.listReplicas({ project }), []);
});

test('a replica that ignores SIGTERM is SIGKILLed once stop_timeout has passed, then removed', async () => {
  const image = await runtime.inspectImage(`slipway/${project}-web:t1`);
  assert.ok(image, 'built by an earlier test');
  const stubborn = "process.on('SIGTERM', () => console.log('ignoring SIGTERM')); console.log('up'); setInterval(() => {}, 1000);";
  const r = await runtime.startReplica({ server: 'local', name: `${project}-stubborn-1`, image: image.id, port: 3000, env: {}, labels: labels({ service: 'stubborn' }), command: ['node', '-e', stubborn] });
  const logs = async () => {
    const out: string[] = [];
    for await (const e of runtime.logs({ project, service: 'stubborn' }, { tail: 20 })) out.push(e.line);
    return out;
  };
  await waitFor('the stubborn replica is up', async () => ((await logs()).includes('up') ? true : undefined));
  const since = Math.floor(Date.now() / 1000) - 1;
  const t0 = Date.now();
  await runtime.stopReplica(r.id, 1500);
  const stopMs = Date.now() - t0;
  // A lower bound only: SIGKILL never comes before stop_timeout (how long after is Docker's business).
  assert.ok(stopMs >= 1500, `stopped after ${stopMs} ms: not before stop_timeout (1500 ms)`);
  assert.equal(await dieExitCode(r.id, since), '137', 'killed by SIGKILL (128 + 9)');
  assert.equal(await runtime.inspectReplica(r.id), null, 'the container is removed');
});

test('the recent listing for views follows Docker events instead of listing on every read', async () => {
  const image = await runtime.inspectImage(`slipway/${project}-web:t1`);
  assert.ok(image, 'built by an earlier test');
  let listings = 0;
  const list = docker.listContainers.bind(docker);
  docker.listContainers = ((opts: unknown) => {
    listings++;
    return list(opts as never);
  }) as typeof docker.listContainers;
  try {
    const r = await runtime.startReplica({ server: 'local', name: `${project}-web-recent`, image: image.id, port: 3000, env: {}, labels: labels({ service: 'recent' }) });
    const seen = await waitFor('the new replica in the recent listing', async () => {
      const found = await runtime.listReplicasRecent({ project, service: 'recent' });
      return found.length === 1 ? found : undefined;
    });
    assert.deepEqual(seen, await runtime.listReplicas({ project, service: 'recent' }), 'the same replicas as a direct listing');
    // Once the event stream is connected and nothing changes, reads cost no Docker listing.
    await waitFor('a kept listing', async () => {
      const before = listings;
      await runtime.listReplicasRecent({ project });
      await runtime.listReplicasRecent({ project, service: 'recent' });
      return listings === before ? true : undefined;
    });
    await runtime.stopReplica(r.id, 5000);
    await waitFor('the stopped replica gone from the recent listing', async () => ((await runtime.listReplicasRecent({ project, service: 'recent' })).length === 0 ? true : undefined), 5000);
  } finally {
    docker.listContainers = list;
  }
});

test('one-off runs get env verbatim, report exit codes and time out', async () => {
  const ok = await runNode('slipway/node:20', 'console.log(process.env.WEIRD); console.error("to stderr")', { WEIRD: 'x=y $HOME "q"' });
  // stdout and stderr are two streams: Docker does not order lines across them.
  assert.deepEqual({ ...ok, out: ok.out.split('\n').sort() }, { exitCode: 0, out: ['to stderr', 'x=y $HOME "q"'] });
  assert.equal((await runNode('slipway/node:20', 'process.exit(7)')).exitCode, 7);
  const slow = await runtime.runOnce({ kind: 'release', server: 'local', name: `${project}-run-slow`, image: 'slipway/node:20', env: {}, labels: labels(), argv: ['node', '-e', 'setTimeout(() => {}, 60000)'], timeoutMs: 1000 });
  assert.equal(slow.timedOut, true);
  assert.equal(slow.exitCode, null);
  assert.equal((await docker.listContainers({ all: true, filters: { label: [`slipway.run.project=${project}`] } })).length, 0, 'one-off containers are removed');
});

test('a one-off that writes 2000 lines and exits at once: every line reaches onOutput before runOnce returns, each time', async () => {
  const script = 'for (let i = 1; i <= 2000; i++) console.log("line " + i); console.error("2000 written")';
  const expected = Array.from({ length: 2000 }, (_, i) => `line ${i + 1}`);
  const once = async () => {
    const out: string[] = [];
    const err: string[] = [];
    const r = await runtime.runOnce({
      kind: 'release', server: 'local', name: `${project}-run-many-${randomBytes(3).toString('hex')}`, image: 'slipway/node:20', env: {}, labels: labels(),
      argv: ['node', '-e', script], timeoutMs: 30_000, onOutput: (l, stream) => void (stream === 'stderr' ? err : out).push(l),
    });
    return { exitCode: r.exitCode, out, err };
  };
  for (let run = 1; run <= 5; run++) {
    const r = await once();
    assert.equal(r.exitCode, 0);
    assert.deepEqual(r.out, expected, `run ${run}: ${r.out.length} stdout line(s)`);
    assert.deepEqual(r.err, ['2000 written'], `run ${run}`);
  }
  // Several at once (a busier engine): still every line of each.
  for (const r of await Promise.all([once(), once(), once(), once()])) {
    assert.deepEqual([r.exitCode, r.out.length, r.err], [0, 2000, ['2000 written']]);
    assert.deepEqual(r.out, expected);
  }
});

test('a slow reader of a one-off (as the control plane, a store write per line): every line, though most arrive after the exit', async () => {
  // Docker buffers the output (about 1 MB) for the attach stream: the command exits at once and its
  // lines keep arriving for seconds after the wait answered. Reading for a fixed 2 s lost the rest.
  const n = 50_000;
  for (let run = 1; run <= 3; run++) {
    let count = 0;
    let last = '';
    const started = Date.now();
    const r = await runtime.runOnce({
      kind: 'release', server: 'local', name: `${project}-run-slow-reader-${randomBytes(3).toString('hex')}`, image: 'slipway/node:20', env: {}, labels: labels(),
      argv: ['node', '-e', `for (let i = 1; i <= ${n}; i++) console.log("line " + i)`], timeoutMs: 60_000,
      onOutput: (l) => {
        count++;
        last = l;
        const until = performance.now() + 0.1;
        while (performance.now() < until); // 0.1 ms of work per line, on this thread
      },
    });
    assert.equal(r.exitCode, 0);
    assert.deepEqual([count, last], [n, `line ${n}`], `run ${run} (${Date.now() - started} ms)`);
  }
});

test('a replica started before environment networks (on the base network) is still found at its address', async () => {
  await createStaticBaseImage(runtime);
  const old = await docker.createContainer({
    name: `${project}-old-${randomBytes(3).toString('hex')}`,
    Image: 'slipway/static:latest',
    Labels: toDockerLabels(labels({ service: 'old' }), 8080),
    HostConfig: { NetworkMode: network, Init: true },
  });
  await old.start();
  const ip = (await old.inspect()).NetworkSettings.Networks[network]?.IPAddress;
  assert.match(ip ?? '', /^\d+\.\d+\.\d+\.\d+$/);
  const [found] = await runtime.listReplicas({ project, service: 'old' });
  assert.equal(found?.address, ip);
  await waitFor('busybox httpd on the base network', async () => ((await fetch(`http://${ip}:8080/index.html`)).ok ? true : undefined));
  await runtime.stopReplica(old.id, 2000);
});

test('the static base image serves files from /www with busybox httpd', async () => {
  const base = await createStaticBaseImage(runtime);
  assert.ok(base.tags.includes('slipway/static:latest'));
  const ctx = path.join(tmp, 'site');
  mkdirSync(path.join(ctx, 'site'), { recursive: true });
  writeFileSync(path.join(ctx, 'site/index.html'), `<p>hello from ${suffix}</p>\n`);
  writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM slipway/static:latest\nCOPY site/ /www/\n');
  const image = await buildTagged(ctx, 'Dockerfile', 'site');
  const r = await runtime.startReplica({ server: 'local', name: `${project}-site-1`, image: image.id, port: 8080, env: {}, labels: labels({ service: 'site' }) });
  const body = await waitFor('busybox httpd', async () => {
    const res = await fetch(`http://${r.address}:8080/index.html`);
    return res.ok ? res.text() : undefined;
  });
  assert.equal(body, `<p>hello from ${suffix}</p>\n`);
  const t0 = Date.now();
  await runtime.stopReplica(r.id, 5000);
  assert.ok(Date.now() - t0 < 4000, 'busybox stops on SIGTERM (forwarded by the init process)');
});

/** The exit code Docker recorded when the container died (from the engine's event log). */
async function dieExitCode(id: string, since: number): Promise<string | undefined> {
  const stream = await docker.getEvents({ since, until: Math.ceil(Date.now() / 1000), filters: { container: [id], event: ['die'] } });
  let text = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) text += chunk.toString();
  const events = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { Actor: { Attributes: Record<string, string> } });
  return events.at(-1)?.Actor.Attributes.exitCode;
}
