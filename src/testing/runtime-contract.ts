/**
 * The Runtime contract: what every Runtime implementation (the Docker driver, the memory
 * engine) must do the same way, so engine tests on the memory engine mean something for
 * Docker. Register it from a test file:
 *
 *   runRuntimeContract('memory', async () => memoryHarness());            // unit lane
 *   runRuntimeContract('docker', async () => dockerHarness());            // integration lane
 *
 * `open` is called once for the suite; each case uses a project of its own (the harness's
 * prefix + a number) and stops what it started, and `cleanup` removes whatever is left.
 */
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { isSlipwayError } from '../core/errors';
import type { HttpProbe, TcpProbe } from '../core/ports/probe';
import type { AccessoryContainer, AccessorySpec, Replica, ReplicaLabels, ReplicaSpec, Runtime, VolumeRef } from '../core/ports/runtime';

export interface RuntimeContractHarness {
  runtime: Runtime;
  /** A prefix of project names no one else uses ([a-z0-9], short): Docker's replica listings are host-wide. */
  project: string;
  /** An image serving HTTP on `port` (`healthPath` answers 2xx) that exits on SIGTERM. */
  image: { ref: string; port: number; healthPath: string };
  /** argv that writes `line` to stdout and exits with `code` (as a replica's command, a one-off or an exec). */
  exitCommand(code: number, line: string): string[];
  /** argv that runs until it is killed. */
  hangCommand: string[];
  /** Writes a file (content, mode) at an absolute path inside a running container, as a process of it would. */
  writeFile(containerId: string, path: string, content: string, mode: number): Promise<void>;
  /** The readiness probes that reach this runtime's containers. */
  probe: { http: HttpProbe; tcp: TcpProbe };
  /** A runtime of the same kind whose engine does not answer (Docker: a socket nothing listens on). */
  unreachable(): Runtime;
  /** Whether stopDaemon/startDaemon work (memory); a Docker suite must not stop the shared dockerd. */
  canStopDaemon: boolean;
  stopDaemon?(): Promise<void>;
  startDaemon?(): Promise<void>;
  /** Removes everything the suite left: containers, volumes, networks. */
  cleanup(): Promise<void>;
}

interface TarFile {
  name: string;
  type: 'file' | 'directory';
  mode: number;
  /** base64 of the bytes (files), so deepEqual shows them. */
  content?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const NO_LIMITS = { memoryBytes: null, cpus: null };

async function rejectsWithCode(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isSlipwayError(err), `expected a SlipwayError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

/** Polls until `fn` gives a value (Docker's state changes are seen a moment later). */
async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A tar stream of these entries (owned by root). */
function tarOf(files: TarFile[]): Readable {
  const pack = tarStream.pack();
  for (const f of files) {
    const content = f.content === undefined ? Buffer.alloc(0) : Buffer.from(f.content, 'base64');
    pack.entry({ name: f.type === 'directory' ? `./${f.name}/` : `./${f.name}`, type: f.type, mode: f.mode, uid: 0, gid: 0, mtime: new Date(1_700_000_000_000) }, content);
  }
  pack.finalize();
  return pack as unknown as Readable;
}

/** The entries of a tar stream: names as written (`raw`) and normalized (no `./`, no trailing `/`; the root is `.`). */
async function entriesOf(archive: Readable): Promise<{ raw: string[]; files: TarFile[] }> {
  const extract = tarStream.extract();
  archive.pipe(extract as unknown as NodeJS.WritableStream);
  const raw: string[] = [];
  const files: TarFile[] = [];
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry as AsyncIterable<Buffer>) chunks.push(chunk);
    const { name, type, mode } = entry.header;
    raw.push(name);
    const clean = name.replace(/^\.\//, '').replace(/\/+$/, '') || '.';
    // Docker's headers carry the file-type bits in the mode too (Go 1.8 style): compare permissions.
    if (type === 'file') files.push({ name: clean, type, mode: mode & 0o7777, content: Buffer.concat(chunks).toString('base64') });
    else if (type === 'directory') files.push({ name: clean, type, mode: mode & 0o7777 });
  }
  return { raw, files };
}

const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64');

export function runRuntimeContract(name: string, open: () => Promise<RuntimeContractHarness>): void {
  describe(`Runtime contract: ${name}`, () => {
    let h: RuntimeContractHarness;
    let projects = 0;
    before(async () => {
      h = await open();
    });
    after(async () => {
      await h?.cleanup();
    });

    /** A project of this case only: what one case leaves behind never disturbs another. */
    const project = () => `${h.project}${++projects}`;
    const rt = () => h.runtime;
    const labels = (p: string, over: Partial<ReplicaLabels> = {}): ReplicaLabels => ({ project: p, service: 'web', env: 'production', release: 1, deployment: `${p}-d1`, ...over });
    const replicaSpec = (p: string, suffix: string, over: Partial<ReplicaSpec> = {}): ReplicaSpec => ({
      server: h.runtime.servers[0]!,
      name: `${p}-${suffix}`,
      image: h.image.ref,
      env: { GREETING: 'hello $HOME "q"' },
      port: h.image.port,
      labels: labels(p),
      ...over,
    });
    const accessorySpec = (p: string, accessory: string, over: Partial<AccessorySpec> = {}): AccessorySpec => ({
      server: h.runtime.servers[0]!,
      name: `${p}-${accessory}`,
      image: h.image.ref,
      env: {},
      labels: { project: p, env: 'production', accessory, spec: 'h1' },
      volumes: [{ volume: 'data', path: '/data', readOnly: false }],
      ...over,
    });
    /** Starts a replica, stopped again after the case whatever happens. */
    async function startReplica(t: TestContext, spec: ReplicaSpec): Promise<Replica> {
      const r = await rt().startReplica(spec);
      t.after(() => rt().stopReplica(r.id, 1000).catch(() => undefined));
      return r;
    }
    async function startAccessory(t: TestContext, spec: AccessorySpec): Promise<AccessoryContainer> {
      const a = await rt().startAccessory(spec);
      t.after(() => rt().stopAccessory(a.id, 1000).catch(() => undefined));
      return a;
    }
    const imageId = async () => (await rt().inspectImage(h.image.ref))!.id;
    /**
     * The project's volumes once no container uses them: an export's never-started container
     * goes a moment after its stream closed (Docker's driver removes it without waiting), and
     * until then removeVolume or importVolume(replace) is refused.
     */
    const whenUnused = (p: string) =>
      waitFor('no container to use the volumes', async () => {
        const volumes = await rt().listVolumes({ project: p, sizes: false });
        return volumes.every((v) => v.usedBy.length === 0) ? volumes : undefined;
      });
    const names = (list: Array<{ name: string }>) => list.map((x) => x.name);

    test('ping and engineInfo answer with the engine\'s facts', async () => {
      await rt().ping();
      const info = await rt().engineInfo();
      assert.ok(info.version.length > 0, 'a version');
      assert.ok(info.cpus > 0 && info.memoryBytes > 0, JSON.stringify(info));
      assert.ok(info.containersRunning <= info.containers);
      assert.ok(info.rootDir.startsWith('/'));
    });

    test('a started replica is listed running with its labels and an address; stopping removes it', async (t) => {
      const p = project();
      const spec = replicaSpec(p, 'web-1');
      const r = await startReplica(t, spec);
      assert.equal(r.name, spec.name);
      assert.equal(r.state, 'running');
      assert.deepEqual(r.labels, spec.labels);
      assert.match(r.address ?? '', IPV4);
      assert.equal(r.port, h.image.port);
      assert.equal(r.image, await imageId(), 'the image ID, not the reference the spec named');
      assert.ok(r.startedAt && !Number.isNaN(Date.parse(r.startedAt)));
      assert.equal(r.exitCode, null);
      assert.equal(r.restartCount, 0);
      assert.equal(r.oomKilled ?? false, false);
      assert.deepEqual(r.resources, NO_LIMITS);

      const listed = await rt().listReplicas({ project: p });
      assert.deepEqual(names(listed), [spec.name]);
      assert.deepEqual(await rt().inspectReplica(r.id), listed[0]);
      await waitFor('the replica in the recent listing', async () => ((await rt().listReplicasRecent({ project: p })).length === 1 ? true : undefined));

      await rt().stopReplica(r.id, 5000);
      assert.equal(await rt().inspectReplica(r.id), null);
      assert.deepEqual(await rt().listReplicas({ project: p }), []);
      await rt().stopReplica(r.id, 1000); // stopping again is fine
      await rt().stopReplica('0'.repeat(64), 1000); // so is a container that never existed
      await waitFor('the recent listing to drop it', async () => ((await rt().listReplicasRecent({ project: p })).length === 0 ? true : undefined));
    });

    test('replicas of two services are told apart by their labels', async (t) => {
      const p = project();
      const [web1, web2, worker, staging] = await Promise.all([
        startReplica(t, replicaSpec(p, 'web-1')),
        startReplica(t, replicaSpec(p, 'web-2', { labels: labels(p, { release: 2, deployment: `${p}-d2` }) })),
        startReplica(t, replicaSpec(p, 'worker-1', { port: 0, labels: labels(p, { service: 'worker' }) })),
        startReplica(t, replicaSpec(p, 'web-staging', { labels: labels(p, { env: 'staging', deployment: `${p}-d3` }) })),
      ]);
      const sorted = (...rs: Replica[]) => rs.map((r) => r.name).sort((a, b) => a.localeCompare(b));
      assert.equal(worker!.port, 0, 'a worker listens on no port');
      assert.deepEqual(names(await rt().listReplicas({ project: p })), sorted(web1!, web2!, worker!, staging!));
      assert.deepEqual(names(await rt().listReplicas({ project: p, service: 'web' })), sorted(web1!, web2!, staging!));
      assert.deepEqual(names(await rt().listReplicas({ project: p, service: 'web', env: 'production' })), sorted(web1!, web2!));
      assert.deepEqual(names(await rt().listReplicas({ project: p, service: 'worker' })), [worker!.name]);
      assert.deepEqual(names(await rt().listReplicas({ project: p, release: 2 })), [web2!.name]);
      assert.deepEqual(names(await rt().listReplicas({ deployment: `${p}-d1` })), sorted(web1!, worker!));
      assert.deepEqual(names(await rt().listReplicas({ project: p, deployment: `${p}-d3` })), [staging!.name]);
      assert.deepEqual(await rt().listReplicas({ project: p, env: 'preview-x' }), []);
      assert.deepEqual(await rt().listReplicas({ project: `${p}x` }), []);
      const direct = await rt().listReplicas({ project: p, service: 'web' });
      await waitFor('the recent listing to agree', async () => {
        const recent = await rt().listReplicasRecent({ project: p, service: 'web' });
        return JSON.stringify(recent) === JSON.stringify(direct) ? true : undefined;
      });
    });

    test('containers name the server they run on; a start on a server this runtime does not run is refused and starts nothing', async (t) => {
      const p = project();
      const [server] = rt().servers;
      assert.ok(server, 'the runtime runs a server');
      const r = await startReplica(t, replicaSpec(p, 'web-1'));
      const a = await startAccessory(t, accessorySpec(p, 'cache'));
      assert.equal(r.server, server);
      assert.equal(a.server, server);
      assert.deepEqual(names(await rt().listReplicas({ project: p, server })), [r.name]);
      assert.deepEqual(await rt().listReplicas({ project: p, server: `${server}-elsewhere` }), [], 'another server has none of them');
      assert.deepEqual((await rt().listAccessories({ project: p, server })).map((x) => x.name), [a.name]);
      assert.deepEqual(await rt().listAccessories({ project: p, server: `${server}-elsewhere` }), []);
      await waitFor('the recent listing to filter by server', async () => ((await rt().listReplicasRecent({ project: p, server })).length === 1 ? true : undefined));
      assert.deepEqual(await rt().listReplicasRecent({ project: p, server: `${server}-elsewhere` }), []);
      const elsewhere = `${server}-elsewhere`;
      await rejectsWithCode(rt().startReplica(replicaSpec(p, 'web-2', { server: elsewhere })), 'SLW_INTERNAL', /elsewhere/);
      await rejectsWithCode(rt().startAccessory(accessorySpec(p, 'db', { server: elsewhere })), 'SLW_INTERNAL', /elsewhere/);
      await rejectsWithCode(rt().runOnce({ kind: 'run', server: elsewhere, name: `${p}-run`, image: h.image.ref, env: {}, labels: labels(p), argv: h.exitCommand(0, 'x'), timeoutMs: 10_000 }), 'SLW_INTERNAL', /elsewhere/);
      assert.deepEqual(names(await rt().listReplicas({ project: p })), [r.name], 'the refused start left nothing');
      assert.deepEqual((await rt().listAccessories({ project: p })).map((x) => x.name), [a.name]);
    });

    test('a replica is refused for an image the engine does not have, and for a name in use', async (t) => {
      const p = project();
      await rejectsWithCode(rt().startReplica(replicaSpec(p, 'web-1', { image: `slipway/${p}-missing:1` })), 'SLW_RUNTIME');
      assert.deepEqual(await rt().listReplicas({ project: p }), [], 'nothing is left of it');
      const r = await startReplica(t, replicaSpec(p, 'web-1'));
      await rejectsWithCode(rt().startReplica(replicaSpec(p, 'web-1', { labels: labels(p, { release: 2 }) })), 'SLW_RUNTIME', /already in use/);
      assert.deepEqual((await rt().listReplicas({ project: p })).map((x) => x.id), [r.id]);
    });

    test('a replica whose process ended stays listed as exited, with its exit code, output and no address, until stopped', async (t) => {
      const p = project();
      const r = await startReplica(t, replicaSpec(p, 'web-1', { command: h.exitCommand(3, `bye from ${p}`) }));
      const ended = await waitFor('the process to end', async () => {
        const x = await rt().inspectReplica(r.id);
        return x && x.state !== 'running' ? x : undefined;
      });
      assert.equal(ended.state, 'exited');
      assert.equal(ended.exitCode, 3);
      assert.equal(ended.address, null);
      assert.ok(ended.startedAt);
      assert.deepEqual(await rt().listReplicas({ project: p }), [ended]);
      const lines: string[] = [];
      // Following an ended replica gives what it wrote and ends.
      for await (const e of rt().logs({ project: p }, { tail: 'all', follow: true, signal: AbortSignal.timeout(10_000) })) {
        assert.equal(e.replica, r.name);
        assert.ok(!Number.isNaN(Date.parse(e.at)), e.at);
        lines.push(`${e.stream}: ${e.line}`);
      }
      assert.deepEqual(lines, [`stdout: bye from ${p}`]);
      await rt().stopReplica(r.id, 1000);
      assert.deepEqual(await rt().listReplicas({ project: p }), []);
      const after: string[] = [];
      for await (const e of rt().replicaLogs(r, { tail: 'all' })) after.push(e.line);
      assert.deepEqual(after, [], 'its logs went with it');
    });

    test('a running replica answers the probes at its address and port; a stopped one does not', async (t) => {
      const p = project();
      const r = await startReplica(t, replicaSpec(p, 'web-1'));
      const url = `http://${r.address}:${r.port}${h.image.healthPath}`;
      const ok = await waitFor('the HTTP probe', async () => {
        const res = await h.probe.http(url, 1000);
        return res.ok ? res : undefined;
      });
      assert.ok(ok.status !== null && ok.status >= 200 && ok.status < 400, JSON.stringify(ok));
      assert.equal(ok.error, null);
      assert.equal((await h.probe.tcp(r.address!, r.port, 1000)).ok, true);
      const wrongPort = await h.probe.tcp(r.address!, r.port + 1, 1000);
      assert.equal(wrongPort.ok, false, 'nothing listens on another port');
      assert.equal(wrongPort.status, null);
      await rt().stopReplica(r.id, 5000);
      const gone = await h.probe.http(url, 1000);
      assert.equal(gone.ok, false);
      assert.equal(gone.status, null, 'no HTTP answer at all');
      assert.ok(gone.error);
      assert.equal((await h.probe.tcp(r.address!, r.port, 1000)).ok, false);
    });

    test('replicaStats reads a running replica (its memory limit) and is null once it is gone', async (t) => {
      const p = project();
      const limits = { memoryBytes: 64 * 1024 * 1024, cpus: 0.5 };
      const r = await startReplica(t, replicaSpec(p, 'web-1', { resources: limits }));
      assert.deepEqual(r.resources, limits);
      const s = await rt().replicaStats(r.id, 10_000);
      assert.ok(s, 'a reading');
      assert.ok(Math.abs(Date.now() - s.at) < 60_000);
      assert.equal(s.memoryLimitBytes, limits.memoryBytes);
      assert.ok(s.memoryUsedBytes >= 0 && s.cpu.usageNs >= 0 && s.cpu.systemNs > 0 && s.cpu.onlineCpus > 0, JSON.stringify(s));
      await rt().stopReplica(r.id, 5000);
      assert.equal(await rt().replicaStats(r.id, 5000), null);
    });

    test('a one-off reports its exit code and output, is never a replica, and is removed afterwards', async () => {
      const p = project();
      const lines: Array<[string, string]> = [];
      const spec = { kind: 'run' as const, server: h.runtime.servers[0]!, name: `${p}-run`, image: h.image.ref, env: { A: '1' }, labels: labels(p), argv: h.exitCommand(7, `one-off ${p}`), timeoutMs: 30_000, onOutput: (line: string, stream: string) => lines.push([stream, line]) };
      const r = await rt().runOnce(spec);
      assert.deepEqual({ exitCode: r.exitCode, timedOut: r.timedOut }, { exitCode: 7, timedOut: false });
      assert.ok(r.durationMs >= 0);
      assert.deepEqual(lines, [['stdout', `one-off ${p}`]]);
      assert.deepEqual(await rt().listReplicas({ project: p }), [], 'a one-off is never a replica');
      // Its container is gone: the same name can run again.
      const again = await rt().runOnce({ ...spec, argv: h.exitCommand(0, 'again'), onOutput: undefined });
      assert.equal(again.exitCode, 0);
      await rejectsWithCode(rt().runOnce({ ...spec, image: `slipway/${p}-missing:1` }), 'SLW_RUNTIME');
    });

    test('a one-off that outlives its timeout is timed out with no exit code', async () => {
      const p = project();
      const spec = { kind: 'job' as const, server: h.runtime.servers[0]!, name: `${p}-slow`, image: h.image.ref, env: {}, labels: labels(p), argv: h.hangCommand, timeoutMs: 500 };
      const r = await rt().runOnce(spec);
      assert.equal(r.timedOut, true);
      assert.equal(r.exitCode, null);
      assert.ok(r.durationMs >= 450, `${r.durationMs} ms`);
      assert.equal((await rt().runOnce({ ...spec, argv: h.exitCommand(0, 'ok'), timeoutMs: 30_000 })).exitCode, 0, 'the killed one was removed');
    });

    test('an accessory is never a replica; its volume is labelled its own, refused removal while mounted, outlives it, then goes', async (t) => {
      const p = project();
      const spec = accessorySpec(p, 'store');
      const a = await startAccessory(t, spec);
      assert.equal(a.state, 'running');
      assert.deepEqual(a.labels, spec.labels);
      assert.match(a.address ?? '', IPV4);
      assert.equal(a.image, await imageId());
      assert.deepEqual({ exitCode: a.exitCode, oomKilled: a.oomKilled, resources: a.resources }, { exitCode: null, oomKilled: false, resources: NO_LIMITS });
      assert.deepEqual(names(await rt().listAccessories({ project: p })), [a.name]);
      assert.deepEqual(names(await rt().listAccessories({ project: p, env: 'production', accessory: 'store' })), [a.name]);
      assert.deepEqual(await rt().listAccessories({ project: p, env: 'staging' }), []);
      assert.deepEqual(await rt().listAccessories({ project: p, accessory: 'db' }), []);
      assert.deepEqual(await rt().listReplicas({ project: p }), [], 'an accessory is never a replica');
      assert.equal(await rt().inspectReplica(a.id), null);

      const [volume, ...more] = await rt().listVolumes({ project: p, sizes: false });
      assert.deepEqual(more, []);
      assert.ok(volume!.name.endsWith(`_${p}_production_store_data`), volume!.name);
      assert.ok(volume!.createdAt === null || !Number.isNaN(Date.parse(volume!.createdAt)));
      assert.deepEqual({ ...volume!, createdAt: null }, { name: volume!.name, project: p, env: 'production', owner: 'store', volume: 'data', sizeBytes: null, createdAt: null, usedBy: [a.name] });
      await h.writeFile(a.id, '/data/note.txt', `kept ${p}`, 0o600);

      const refused = await rt().removeVolume(volume!.name);
      assert.equal(refused.removed, false);
      assert.match(refused.reason ?? '', new RegExp(`in use by container .*${a.name}`));

      await rt().stopAccessory(a.id, 5000);
      await rt().stopAccessory(a.id, 5000); // missing is fine
      assert.deepEqual(await rt().listAccessories({ project: p }), []);
      assert.deepEqual((await rt().listVolumes({ project: p, sizes: false })).map((v) => [v.name, v.usedBy]), [[volume!.name, []]], 'the volume outlives its container');

      // A new container of the accessory finds the data.
      const second = await startAccessory(t, accessorySpec(p, 'store', { labels: { ...spec.labels, spec: 'h2' } }));
      assert.equal(second.labels.spec, 'h2');
      const copy = await entriesOf(await rt().exportVolume({ project: p, env: 'production', owner: 'store', volume: 'data' }, { image: h.image.ref, path: 'note.txt' }));
      assert.deepEqual(copy.files, [{ name: 'note.txt', type: 'file', mode: 0o600, content: b64(`kept ${p}`) }]);
      await rt().stopAccessory(second.id, 5000);
      await whenUnused(p);

      assert.deepEqual(await rt().removeVolume(volume!.name), { removed: true });
      assert.deepEqual(await rt().removeVolume(volume!.name), { removed: true }, 'missing counts as removed');
      assert.deepEqual(await rt().listVolumes({ project: p, sizes: false }), []);
    });

    test('a replica\'s volumes belong to its service (or the owner its mount names)', async (t) => {
      const p = project();
      const r = await startReplica(t, replicaSpec(p, 'web-1', { volumes: [{ volume: 'uploads', path: '/uploads', readOnly: false }, { volume: 'shared', path: '/shared', readOnly: true, owner: 'files' }] }));
      const volumes = await rt().listVolumes({ project: p, env: 'production', sizes: false });
      assert.deepEqual(
        volumes.map((v) => ({ suffix: v.name.slice(v.name.indexOf(`_${p}_`)), owner: v.owner, volume: v.volume, usedBy: v.usedBy })),
        [
          { suffix: `_${p}_production_files_shared`, owner: 'files', volume: 'shared', usedBy: [r.name] },
          { suffix: `_${p}_production_web_uploads`, owner: 'web', volume: 'uploads', usedBy: [r.name] },
        ],
      );
      assert.deepEqual(await rt().listVolumes({ project: p, env: 'staging', sizes: false }), []);
    });

    test('exportVolume then importVolume round-trips contents, modes and directories into another owner\'s volume', async () => {
      const p = project();
      const image = h.image.ref;
      const src: VolumeRef = { project: p, env: 'production', owner: 'src', volume: 'data' };
      const dst: VolumeRef = { ...src, owner: 'dst' };
      const files: TarFile[] = [
        { name: 'a.txt', type: 'file', mode: 0o644, content: b64('alpha\n') },
        { name: 'secret', type: 'file', mode: 0o600, content: b64('top') },
        { name: 'sub', type: 'directory', mode: 0o750 },
        { name: 'sub/b.bin', type: 'file', mode: 0o640, content: b64(Buffer.from([0, 1, 2, 255, 10])) },
        { name: 'sub/deep', type: 'directory', mode: 0o700 },
        { name: 'sub/deep/c.txt', type: 'file', mode: 0o755, content: b64('') },
      ];
      await rt().importVolume(src, tarOf(files), { image });
      const exported = await entriesOf(await rt().exportVolume(src, { image }));
      assert.ok(exported.raw.every((n) => n.startsWith('./')), `a whole volume is exported as ./… entries: ${exported.raw.join(' ')}`);
      assert.deepEqual(exported.files[0], { name: '.', type: 'directory', mode: exported.files[0]?.mode }, 'the root first');
      assert.deepEqual(exported.files.slice(1), files);

      await rt().importVolume(dst, await rt().exportVolume(src, { image }), { image, replace: true });
      assert.deepEqual((await entriesOf(await rt().exportVolume(dst, { image }))).files.slice(1), files);
      assert.deepEqual((await entriesOf(await rt().exportVolume(dst, { image, path: 'sub/b.bin' }))).files, [{ ...files[3]!, name: 'b.bin' }], 'one path: named by its last segment');
      assert.deepEqual((await entriesOf(await rt().exportVolume(dst, { image, path: 'sub' }))).files, files.slice(2));
      assert.deepEqual((await entriesOf(await rt().exportVolume(dst, { image, path: 'sub/deep' }))).files, files.slice(4).map((f) => ({ ...f, name: f.name.slice('sub/'.length) })));
      await rejectsWithCode(rt().exportVolume(dst, { image, path: 'missing.txt' }), 'SLW_NOT_FOUND');
      assert.deepEqual(
        (await whenUnused(p)).map((v) => [v.owner, v.volume]),
        [['dst', 'data'], ['src', 'data']],
        'both volumes are labelled as their owner\'s',
      );

      // An export not read yet holds its volume through its never-started container — while it has
      // more to give than the pipes between the engine and the reader hold (Docker's driver lets the
      // volume go once the engine has sent everything): 8 MiB more than any buffer on the way.
      const big = { name: 'big.bin', type: 'file' as const, mode: 0o644, content: Buffer.alloc(8 * 1024 * 1024, 7).toString('base64') };
      await rt().importVolume(src, tarOf([big]), { image });
      await whenUnused(p);
      const unread = await rt().exportVolume(src, { image });
      const held = (await rt().listVolumes({ project: p, sizes: false })).find((v) => v.owner === 'src')!;
      assert.equal(held.usedBy.length, 1, JSON.stringify(held));
      assert.equal((await rt().removeVolume(held.name)).removed, false);
      assert.deepEqual((await entriesOf(unread)).files.slice(1).sort((a, b) => a.name.localeCompare(b.name)), [big, ...files].sort((a, b) => a.name.localeCompare(b.name)));
      await whenUnused(p);
      assert.deepEqual(await rt().removeVolume(held.name), { removed: true });
    });

    test('importVolume adds to a volume, or empties it first with replace, which is refused while a container mounts it', async (t) => {
      const p = project();
      const image = h.image.ref;
      const ref: VolumeRef = { project: p, env: 'production', owner: 'box', volume: 'data' };
      const file = (name: string): TarFile => ({ name, type: 'file', mode: 0o644, content: b64(name) });
      const namesIn = async () => (await entriesOf(await rt().exportVolume(ref, { image }))).files.slice(1).map((f) => f.name);
      await rt().importVolume(ref, tarOf([file('a.txt')]), { image });
      await rt().importVolume(ref, tarOf([file('b.txt')]), { image });
      assert.deepEqual(await namesIn(), ['a.txt', 'b.txt']);
      await whenUnused(p);
      await rt().importVolume(ref, tarOf([file('c.txt')]), { image, replace: true });
      assert.deepEqual(await namesIn(), ['c.txt']);

      const a = await startAccessory(t, accessorySpec(p, 'box'));
      const refused = tarOf([file('d.txt')]);
      await rejectsWithCode(rt().importVolume(ref, refused, { image, replace: true }), 'SLW_RUNTIME');
      refused.destroy();
      assert.deepEqual(await namesIn(), ['c.txt'], 'untouched');
      await rt().stopAccessory(a.id, 5000);
    });

    test('exec runs in a running container with its exit code and output, and fails for a gone one', async (t) => {
      const p = project();
      const a = await startAccessory(t, accessorySpec(p, 'box', { volumes: [] }));
      const seen: string[] = [];
      const r = await rt().exec(a.id, h.exitCommand(3, `exec ${p}`), { timeoutMs: 10_000, onOutput: (l) => seen.push(l) });
      assert.deepEqual(r, { exitCode: 3, timedOut: false, output: `exec ${p}` });
      assert.deepEqual(seen, [`exec ${p}`]);
      await rt().stopAccessory(a.id, 5000);
      await rejectsWithCode(rt().exec(a.id, h.exitCommand(0, 'x'), { timeoutMs: 5000 }), 'SLW_RUNTIME');
    });

    test('an environment network is ensured idempotently and kept while a container runs on it', async (t) => {
      const p = project();
      const net = await rt().ensureEnvNetwork(p, 'staging');
      assert.ok(net.endsWith(`_${p}_staging`), net);
      assert.equal(await rt().ensureEnvNetwork(p, 'staging'), net);
      t.after(() => rt().removeEnvNetwork(p, 'staging').catch(() => undefined));
      const r = await startReplica(t, replicaSpec(p, 'web-1', { labels: labels(p, { env: 'staging' }) }));
      await rejectsWithCode(rt().removeEnvNetwork(p, 'staging'), 'SLW_RUNTIME', new RegExp(`still used by .*${r.name}`));
      await rt().stopReplica(r.id, 5000);
      await rt().removeEnvNetwork(p, 'staging');
      await rt().removeEnvNetwork(p, 'staging'); // a missing one is fine
      assert.equal(await rt().ensureEnvNetwork(p, 'staging'), net, 'created again under the same name');
    });

    test('images: inspected by reference and ID, tagged, untagged by repository', async () => {
      const p = project();
      const info = await rt().inspectImage(h.image.ref);
      assert.ok(info);
      assert.match(info.id, /^sha256:[0-9a-f]{64}$/);
      assert.deepEqual((await rt().inspectImage(info.id))?.id, info.id);
      assert.equal(await rt().inspectImage(`slipway/${p}-none:1`), null);
      const tag = `slipway/${p}-tag:t1`;
      await rt().tagImage(h.image.ref, tag);
      assert.equal((await rt().inspectImage(tag))?.id, info.id);
      assert.ok((await rt().inspectImage(info.id))?.tags.includes(tag));
      assert.deepEqual(await rt().removeRepositories([`slipway/${p}-tag`]), { removed: [tag], kept: [] });
      assert.equal(await rt().inspectImage(tag), null);
      assert.equal((await rt().inspectImage(h.image.ref))?.id, info.id, 'its other tags keep it');
      await rejectsWithCode(rt().tagImage(`slipway/${p}-none:1`, `slipway/${p}-x:1`), 'SLW_RUNTIME');
      assert.deepEqual(await rt().removeImage(`sha256:${'0'.repeat(64)}`), { removed: true, untagged: [] }, 'a missing image counts as removed');
    });

    test('an engine that does not answer: ping and engineInfo fail SLW_HOST_MISSING, every other call SLW_RUNTIME', async () => {
      const p = project();
      const down = h.unreachable();
      await rejectsWithCode(down.ping(), 'SLW_HOST_MISSING', /does not answer/);
      await rejectsWithCode(down.engineInfo(), 'SLW_HOST_MISSING');
      await rejectsWithCode(down.listReplicas({ project: p }), 'SLW_RUNTIME');
      await rejectsWithCode(down.inspectImage(h.image.ref), 'SLW_RUNTIME');
      await rejectsWithCode(down.startReplica(replicaSpec(p, 'web-1')), 'SLW_RUNTIME');
      await rejectsWithCode(down.listVolumes({ project: p }), 'SLW_RUNTIME');
    });

    test('the engine stopped and started again', async (t) => {
      if (!h.canStopDaemon || !h.stopDaemon || !h.startDaemon) {
        t.skip('this harness cannot stop its engine');
        return;
      }
      const p = project();
      const r = await startReplica(t, replicaSpec(p, 'web-1'));
      await h.stopDaemon();
      try {
        await rejectsWithCode(rt().ping(), 'SLW_HOST_MISSING');
        await rejectsWithCode(rt().listReplicas({ project: p }), 'SLW_RUNTIME');
      } finally {
        await h.startDaemon();
      }
      await rt().ping();
      // With live-restore, containers keep running while the engine is away.
      if ((await rt().engineInfo()).liveRestore) assert.equal((await rt().inspectReplica(r.id))?.state, 'running');
    });
  });
}
