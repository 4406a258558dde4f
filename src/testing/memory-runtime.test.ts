import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isSlipwayError, SlipwayError } from '../core/errors';
import type { LogEntry, ReplicaLabels, ReplicaSpec } from '../core/ports/runtime';
import { MemoryProbe, MemoryRuntime, type ScriptedCommand } from './memory-runtime';
import { runRuntimeContract, type RuntimeContractHarness } from './runtime-contract';

const IMAGE = 'slipway/static:latest';

/** `exit-with CODE LINE` prints LINE and exits CODE; `hang` runs until killed: the harness's commands, scripted. */
function exitOf(argv: string[] | undefined): ScriptedCommand {
  return { exitCode: Number(argv?.[1]), output: [argv?.[2] ?? ''] };
}
const isExit = (argv: string[] | undefined) => argv?.[0] === 'exit-with';

function memoryRuntime(): MemoryRuntime {
  const runtime = new MemoryRuntime();
  runtime.addImage(IMAGE, { files: { '/www/index.html': '<p>static</p>' } });
  runtime.scriptRun((s) => isExit(s.argv), (s) => exitOf(s.argv));
  runtime.scriptRun((s) => s.argv[0] === 'hang', { exitCode: 0, durationMs: Infinity });
  runtime.scriptExec((argv) => isExit(argv), (argv) => exitOf(argv));
  runtime.dieAfter((s) => isExit(s.command), 0, { exitCode: (s) => exitOf(s.command).exitCode ?? 0, output: (s) => exitOf(s.command).output ?? [] });
  return runtime;
}

function memoryHarness(): RuntimeContractHarness {
  const runtime = memoryRuntime();
  return {
    runtime,
    project: 'mem',
    image: { ref: IMAGE, port: 8080, healthPath: '/index.html' },
    exitCommand: (code, line) => ['exit-with', String(code), line],
    hangCommand: ['hang'],
    writeFile: async (id, file, content, mode) => runtime.writeFile(id, file, content, mode),
    probe: new MemoryProbe(runtime),
    unreachable: () => {
      const down = memoryRuntime();
      down.down();
      return down;
    },
    canStopDaemon: true,
    stopDaemon: async () => runtime.down(),
    startDaemon: async () => runtime.up(),
    cleanup: async () => runtime.close(),
  };
}

runRuntimeContract('memory', async () => memoryHarness());

const labels = (over: Partial<ReplicaLabels> = {}): ReplicaLabels => ({ project: 'shop', service: 'web', env: 'production', release: 1, deployment: 'd1', ...over });
const spec = (name: string, over: Partial<ReplicaSpec> = {}): ReplicaSpec => ({ server: 'local', name, image: IMAGE, env: {}, port: 3000, labels: labels(), ...over });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function rejectsWithCode(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => isSlipwayError(err) && err.code === code);
}

/** A fresh runtime, its timers cancelled after the test. */
function fresh(t: { after: (fn: () => void) => void }): MemoryRuntime {
  const rt = memoryRuntime();
  t.after(() => rt.close());
  return rt;
}

describe('MemoryRuntime failure injection', () => {
  test('a start that fails leaves no container, after creating its volumes as Docker does; `times` bounds it', async (t) => {
    const rt = fresh(t);
    rt.failStartsOf((s) => s.name === 'web-1', undefined, { times: 1 });
    const volumes = [{ volume: 'uploads', path: '/uploads', readOnly: false }];
    await assert.rejects(rt.startReplica(spec('web-1', { volumes })), { code: 'SLW_RUNTIME', message: 'docker: start container web-1: injected start failure' });
    assert.deepEqual(await rt.listReplicas({}), []);
    assert.deepEqual((await rt.listVolumes({})).map((v) => [v.owner, v.usedBy]), [['web', []]]);
    const r = await rt.startReplica(spec('web-1', { volumes })); // the name is free, and the rule was used up
    assert.equal(r.state, 'running');

    const boom = new SlipwayError('SLW_RUNTIME', 'docker: start container db: port is already allocated');
    rt.failStartsOf((s) => 'volumes' in s && s.name === 'db', boom);
    await assert.rejects(rt.startAccessory({ server: 'local', name: 'db', image: IMAGE, env: {}, labels: { project: 'shop', env: 'production', accessory: 'db', spec: 'h' }, volumes: [] }), (err) => err === boom);
    await assert.rejects(rt.startAccessory({ server: 'local', name: 'db', image: IMAGE, env: {}, labels: { project: 'shop', env: 'production', accessory: 'db', spec: 'h' }, volumes: [] }), (err) => err === boom, 'every time by default');
  });

  test('a replica that never passes readiness: the probes answer 503 and refuse until it is made healthy', async (t) => {
    const rt = fresh(t);
    const probe = new MemoryProbe(rt);
    rt.unhealthyStartsOf((s) => s.name === 'sick');
    const sick = await rt.startReplica(spec('sick'));
    const well = await rt.startReplica(spec('well'));
    assert.deepEqual(await probe.http(`http://${sick.address}:3000/health`, 1000), { ok: false, status: 503, error: null, durationMs: 0 });
    assert.deepEqual(await probe.tcp(sick.address!, 3000, 1000), { ok: false, status: null, error: 'ECONNREFUSED', durationMs: 0 });
    assert.deepEqual(await probe.http(`http://${well.address}:3000/health`, 1000), { ok: true, status: 200, error: null, durationMs: 0 });
    assert.equal((await probe.http(`http://${well.address}:3001/health`, 1000)).error, 'ECONNREFUSED', 'the wrong port');
    assert.equal((await probe.http('http://10.9.9.9:3000/health', 1000)).error, 'ECONNREFUSED', 'nothing at that address');
    rt.setHealthy(sick.id, true);
    assert.equal((await probe.http(`http://${sick.address}:3000/health`, 1000)).status, 200);
    rt.setHealthy('well', false); // by name too
    assert.equal((await probe.http(`http://${well.address}:3000/health`, 1000)).status, 503);
    assert.deepEqual(probe.calls.slice(0, 2), [`http http://${sick.address}:3000/health`, `tcp ${sick.address}:3000`]);
  });

  test('a container dies after its time (output first), and one stopped before that never does', async (t) => {
    const rt = fresh(t);
    rt.dieAfter((s) => s.name.startsWith('doomed'), 30, { exitCode: 2, output: () => ['last words'] });
    const doomed = await rt.startReplica(spec('doomed-1'));
    const spared = await rt.startReplica(spec('doomed-2'));
    await rt.stopReplica(spared.id, 1000);
    assert.equal((await rt.inspectReplica(doomed.id))?.state, 'running');
    await sleep(60);
    const dead = await rt.inspectReplica(doomed.id);
    assert.deepEqual({ state: dead?.state, exitCode: dead?.exitCode, address: dead?.address }, { state: 'exited', exitCode: 2, address: null });
    const lines: string[] = [];
    for await (const e of rt.replicaLogs(doomed, { tail: 'all' })) lines.push(e.line);
    assert.deepEqual(lines, ['last words']);
    assert.equal(rt.containerInfo(spared.id), null, 'removed, and its death was cancelled');
  });

  test('kill ends a container now, as the OOM killer would; followers of its logs stop', async (t) => {
    const rt = fresh(t);
    const r = await rt.startReplica(spec('hog', { resources: { memoryBytes: 32 * 1024 * 1024, cpus: null } }));
    rt.pushLog(r.id, 'before');
    const seen: LogEntry[] = [];
    const following = (async () => {
      for await (const e of rt.logs({ service: 'web' }, { tail: 0, follow: true })) seen.push(e);
    })();
    await sleep(5);
    rt.pushLog(r.id, 'allocating', 'stderr');
    await sleep(5);
    rt.kill(r.name, 137, { oomKilled: true });
    await following;
    assert.deepEqual(seen.map((e) => [e.stream, e.line]), [['stderr', 'allocating']], 'tail 0: only what came after');
    const dead = await rt.inspectReplica(r.id);
    assert.deepEqual({ state: dead?.state, exitCode: dead?.exitCode, oomKilled: dead?.oomKilled }, { state: 'exited', exitCode: 137, oomKilled: true });
    assert.equal(await rt.replicaStats(r.id, 1000), null, 'no reading of a dead container');
  });

  test('the daemon down: ping and engineInfo fail SLW_HOST_MISSING, the rest SLW_RUNTIME, a cached network still resolves; up again, all works', async (t) => {
    const rt = fresh(t);
    const probe = new MemoryProbe(rt);
    const r = await rt.startReplica(spec('web-1'));
    const net = await rt.ensureEnvNetwork('shop', 'production');
    rt.down();
    await assert.rejects(rt.ping(), { code: 'SLW_HOST_MISSING', message: /does not answer .*start dockerd/ });
    await rejectsWithCode(rt.engineInfo(), 'SLW_HOST_MISSING');
    await assert.rejects(rt.listReplicas({}), { code: 'SLW_RUNTIME', message: /^docker: listReplicas: connect ENOENT/ });
    await rejectsWithCode(rt.stopReplica(r.id, 1000), 'SLW_RUNTIME');
    await rejectsWithCode(rt.ensureEnvNetwork('shop', 'staging'), 'SLW_RUNTIME');
    assert.equal(await rt.ensureEnvNetwork('shop', 'production'), net, 'the driver answers an ensured network from its cache');
    await assert.rejects(async () => {
      for await (const _ of rt.logs({}, {})) assert.fail('no lines');
    }, { code: 'SLW_RUNTIME' });
    assert.equal((await probe.http(`http://${r.address}:3000/`, 1000)).ok, true, 'containers keep serving (live-restore)');
    rt.up();
    await rt.ping();
    assert.deepEqual((await rt.listReplicas({})).map((x) => x.state), ['running']);
  });

  test('every call is recorded in order, containers by name', async (t) => {
    const rt = fresh(t);
    const r = await rt.startReplica(spec('web-1'));
    await rt.listReplicas({ project: 'shop', release: 1 });
    await rt.runOnce({ kind: 'release', server: 'local', name: 'shop-release-1', image: IMAGE, env: {}, labels: labels(), argv: ['migrate'], timeoutMs: 1000 });
    await rt.exec(r.id, ['true'], { timeoutMs: 1000 });
    await rt.stopReplica(r.id, 1000);
    await rt.stopReplica(r.id, 1000);
    rt.down();
    await rt.ping().catch(() => undefined);
    assert.deepEqual(rt.calls, ['startReplica web-1', 'listReplicas project=shop release=1', 'runOnce release shop-release-1', 'exec web-1 true', 'stopReplica web-1', `stopReplica ${r.id}`, 'ping']);
    assert.deepEqual(rt.oneOffs.map((s) => s.argv), [['migrate']]);
  });
});

describe('MemoryRuntime behaviour', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-memrt-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('builds register an image from the request: same context, same image; tags move; failures are scripted', async (t) => {
    const rt = fresh(t);
    const context = path.join(dir, 'ctx.tar');
    writeFileSync(context, 'a context');
    const output: string[] = [];
    const one = await rt.build({ contextArchive: context, dockerfile: 'Dockerfile', tags: ['slipway/shop-web:a', 'slipway/shop-web:latest'], labels: { 'slipway.project': 'shop' }, onOutput: (l) => output.push(l) });
    assert.match(one.id, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(one.tags, ['slipway/shop-web:a', 'slipway/shop-web:latest']);
    assert.deepEqual(one.labels, { 'slipway.project': 'shop' });
    assert.ok(output.includes('Successfully tagged slipway/shop-web:a'), output.join('\n'));
    assert.equal((await rt.build({ contextArchive: context, dockerfile: 'Dockerfile', tags: ['slipway/shop-web:b'], labels: { 'slipway.project': 'shop' } })).id, one.id, 'the same image again');
    writeFileSync(context, 'another context');
    const two = await rt.build({ contextArchive: context, dockerfile: 'Dockerfile', tags: ['slipway/shop-web:latest'] });
    assert.notEqual(two.id, one.id);
    assert.deepEqual((await rt.inspectImage('slipway/shop-web'))?.id, two.id, '`latest` moved to the new image');
    await rejectsWithCode(rt.build({ contextArchive: path.join(dir, 'missing.tar'), dockerfile: 'Dockerfile', tags: ['x:1'] }), 'SLW_BUILD_FAILED');
    rt.failBuildsOf((req) => req.tags.includes('x:2'), 'RUN npm ci: exit code 1');
    await assert.rejects(rt.build({ contextArchive: context, dockerfile: 'Dockerfile', tags: ['x:2'] }), { code: 'SLW_BUILD_FAILED', message: /exit code 1/ });
  });

  test('images in use are kept: removeImage refuses, removeRepositories keeps the last tag; prune takes dangling ones', async (t) => {
    const rt = fresh(t);
    const app = rt.addImage('slipway/shop-web:1', { sizeBytes: 100 });
    rt.addImage('slipway/shop-web:2', { sizeBytes: 50 });
    const r = await rt.startReplica(spec('web-1', { image: 'slipway/shop-web:1' }));
    assert.equal(r.image, app.id);
    assert.deepEqual(await rt.removeImage(app.id), { removed: false, untagged: [], reason: 'used by container web-1' });
    const result = await rt.removeRepositories(['slipway/shop-web']);
    assert.deepEqual(result.removed, ['slipway/shop-web:2']);
    assert.deepEqual(result.kept.map((k) => k.tag), ['slipway/shop-web:1']);
    assert.deepEqual(await rt.removeImage(await rt.inspectImage(IMAGE).then((i) => i!.id)), { removed: false, untagged: [], reason: 'a base image builds start from' });
    await rt.stopReplica(r.id, 1000);
    assert.deepEqual(await rt.removeImage(app.id), { removed: true, untagged: ['slipway/shop-web:1'] });
    rt.addImage('sha256:' + 'd'.repeat(64), { id: 'sha256:' + 'd'.repeat(64), sizeBytes: 7, labels: { 'slipway.image.project': 'shop' } });
    rt.addImage('sha256:' + 'e'.repeat(64), { id: 'sha256:' + 'e'.repeat(64), sizeBytes: 5 });
    assert.deepEqual(await rt.pruneBuildLeftovers(0), { reclaimedBytes: 7 }, 'a dangling image Slipway built goes; an unlabelled one (a build in progress) stays');
    assert.notEqual(await rt.inspectImage('sha256:' + 'e'.repeat(64)), null);
  });

  test('readImageFiles: the .sql files directly in a directory, sorted, bounded', async (t) => {
    const rt = fresh(t);
    rt.addImage('slipway/shop-web:1', { files: { '/app/migrations/0002_b.sql': 'b', '/app/migrations/0001_a.sql': 'a', '/app/migrations/readme.md': 'x', '/app/migrations/sub/0003.sql': 'c' } });
    assert.deepEqual(await rt.readImageFiles('slipway/shop-web:1', '/app/migrations/', { maxBytes: 10 }), [{ name: '0001_a.sql', content: 'a' }, { name: '0002_b.sql', content: 'b' }]);
    await rejectsWithCode(rt.readImageFiles('slipway/shop-web:1', '/nope', { maxBytes: 10 }), 'SLW_NOT_FOUND');
    await rejectsWithCode(rt.readImageFiles('slipway/shop-web:1', '/app/migrations', { maxBytes: 1 }), 'SLW_TOO_LARGE');
    await rejectsWithCode(rt.readImageFiles('slipway/none:1', '/app', { maxBytes: 10 }), 'SLW_RUNTIME');
  });

  test('logs: tail per replica, an exact resume point, follow until aborted', async (t) => {
    const rt = fresh(t);
    const a = await rt.startReplica(spec('web-1'));
    const b = await rt.startReplica(spec('web-2'));
    for (const line of ['a1', 'a2', 'a3']) rt.pushLog(a.id, line);
    const b1 = rt.pushLog(b.id, 'b1');
    const read = async (opts: Parameters<MemoryRuntime['logs']>[1]) => {
      const out: string[] = [];
      for await (const e of rt.logs({ project: 'shop' }, opts)) out.push(e.line);
      return out;
    };
    assert.deepEqual(await read({ tail: 2 }), ['a2', 'a3', 'b1']);
    assert.deepEqual(await read({ tail: 'all', since: b1.at }), ['b1'], 'lines at or after `since`');
    assert.match(b1.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    const abort = new AbortController();
    const followed: string[] = [];
    const following = (async () => {
      for await (const e of rt.logs({ project: 'shop' }, { tail: 0, follow: true, signal: abort.signal })) followed.push(e.line);
    })();
    await sleep(5);
    rt.pushLog(b.id, 'b2');
    await sleep(5);
    abort.abort();
    await following;
    assert.deepEqual(followed, ['b2']);
  });

  test('one-offs and execs follow their scripts: output, durations, timeouts', async (t) => {
    const rt = fresh(t);
    rt.scriptRun((s) => s.argv[0] === 'slow', { exitCode: 0, durationMs: 20, stderr: ['working'] });
    const lines: string[] = [];
    const slow = await rt.runOnce({ kind: 'job', server: 'local', name: 'j1', image: IMAGE, env: {}, labels: labels(), argv: ['slow'], timeoutMs: 1000, onOutput: (l, s) => lines.push(`${s} ${l}`) });
    assert.deepEqual({ exitCode: slow.exitCode, timedOut: slow.timedOut, lines }, { exitCode: 0, timedOut: false, lines: ['stderr working'] });
    assert.ok(slow.durationMs >= 15);
    const r = await rt.startReplica(spec('web-1'));
    rt.scriptExec((argv, c) => argv[0] === 'pg_isready' && c.name === 'web-1', { exitCode: 2, output: ['no response'] }, { times: 1 });
    assert.deepEqual(await rt.exec(r.id, ['pg_isready'], { timeoutMs: 1000 }), { exitCode: 2, timedOut: false, output: 'no response' });
    assert.deepEqual(await rt.exec(r.id, ['pg_isready'], { timeoutMs: 1000 }), { exitCode: 0, timedOut: false, output: '' }, 'the script was used up');
    rt.scriptExec((argv) => argv[0] === 'sleep', { exitCode: 0, durationMs: Infinity, output: ['started'] });
    assert.deepEqual(await rt.exec(r.id, ['sleep'], { timeoutMs: 10 }), { exitCode: null, timedOut: true, output: 'started' });
    await rejectsWithCode(rt.exec(r.id, [], { timeoutMs: 10 }), 'SLW_RUNTIME');
    assert.deepEqual(rt.containerInfo('web-1')?.env, {});
  });

  test('an export holds its volume a moment after its stream closed, as Docker\'s driver does (transientLingerMs)', async (t) => {
    const rt = new MemoryRuntime({ transientLingerMs: 30 });
    t.after(() => rt.close());
    rt.addImage(IMAGE);
    const stream = await rt.exportVolume({ project: 'shop', env: 'production', owner: 'cache', volume: 'data' }, { image: IMAGE });
    for await (const _ of stream) {
      // read it all
    }
    await sleep(5);
    const [volume] = await rt.listVolumes({});
    assert.deepEqual(volume?.usedBy, ['transient-1']);
    assert.equal((await rt.removeVolume(volume.name)).removed, false, 'refused right after the export');
    await sleep(40);
    assert.deepEqual(await rt.removeVolume(volume.name), { removed: true });
  });

  test('env values Docker refuses are refused before any container exists', async (t) => {
    const rt = fresh(t);
    await rejectsWithCode(rt.startReplica(spec('web-1', { env: { 'A=B': '1' } })), 'SLW_RUNTIME');
    assert.deepEqual(await rt.listReplicas({}), []);
  });

  test('engineInfo counts containers and images', async (t) => {
    const rt = fresh(t);
    const r = await rt.startReplica(spec('web-1'));
    await rt.startReplica(spec('web-2'));
    rt.kill(r.id, 1);
    const info = await rt.engineInfo();
    assert.deepEqual({ containers: info.containers, running: info.containersRunning, images: info.images, liveRestore: info.liveRestore }, { containers: 2, running: 1, images: 1, liveRestore: true });
  });
});
