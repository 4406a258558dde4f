/**
 * NatsJetStreamAdmin against real nats-servers (Debian's binary, started here on loopback with
 * JetStream and a user/password): snapshot → delete → restore round trips of a stream with a
 * durable consumer and of a KV bucket, a restore into a second fresh server, the errors, and
 * listing past a page of names. The binary is required: without it this fails, it does not skip.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { AckPolicy, connect, Empty, headers, StorageType, type ConsumerInfo, type JetStreamManager, type NatsConnection } from 'nats';
import type { NatsServerRef, StreamSnapshotMeta } from '../../core/ports/jetstream-admin';
import { NatsJetStreamAdmin } from './jetstream-admin';

const USER = 'slipway';
const PASSWORD = 'Pw-7c1d9e0f-snapshot';
const admin = new NatsJetStreamAdmin();

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A nats-server with JetStream in its own store dir, plus an admin connection for setting up and checking. */
class ScratchServer {
  private constructor(
    readonly ref: NatsServerRef,
    readonly nc: NatsConnection,
    readonly jsm: JetStreamManager,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {}

  static async start(jetstream = true): Promise<ScratchServer> {
    const dir = await mkdtemp(join(tmpdir(), 'slipway-nats-'));
    const conf = join(dir, 'server.conf');
    await writeFile(conf, `authorization {\n  user: ${USER}\n  password: "${PASSWORD}"\n}\n`);
    const port = await freePort();
    const js = jetstream ? ['--jetstream', '--store_dir', join(dir, 'store')] : [];
    const child = spawn('nats-server', ['-c', conf, '-a', '127.0.0.1', '-p', String(port), ...js], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr?.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-4000)));
    const ref: NatsServerRef = { host: '127.0.0.1', port, user: USER, password: PASSWORD, timeoutMs: 5000 };
    for (let i = 0; ; i++) {
      const nc = await connect({ servers: `127.0.0.1:${port}`, user: USER, pass: PASSWORD, timeout: 1000 }).catch((err: Error) => err);
      // Ready once JetStream answers too (it starts after the listener).
      const jsm = nc instanceof Error ? nc : await nc.jetstreamManager({ checkAPI: jetstream }).catch((err: Error) => err);
      if (!(nc instanceof Error) && !(jsm instanceof Error)) return new ScratchServer(ref, nc, jsm, child, dir);
      if (!(nc instanceof Error)) await nc.close();
      if (i > 50 || child.exitCode !== null) {
        child.kill();
        await rm(dir, { recursive: true, force: true });
        throw new Error(`nats-server did not start on ${port}: ${(jsm as Error).message}\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    await this.nc.close().catch(() => undefined);
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill();
    await exited;
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Deterministic, poorly compressible bodies of 0..2,999 bytes, so the snapshot spans many chunks. */
function body(i: number): Uint8Array {
  const out = new Uint8Array((i * 7919) % 3000);
  let x = i + 1;
  for (let j = 0; j < out.length; j++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[j] = x >>> 24;
  }
  return out;
}
const SUBJECTS = ['orders.created', 'orders.paid', 'orders.shipped', 'orders.cancelled', 'audit.orders'];

async function* replay(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const c of chunks) yield c;
}

/** The same bytes cut differently (one big buffer in odd-sized slices): the restore re-chunks. */
async function* reslice(chunks: Uint8Array[], size: number): AsyncGenerator<Uint8Array> {
  const all = Buffer.concat(chunks);
  for (let at = 0; at < all.length; at += size) yield all.subarray(at, at + size);
}

async function takeSnapshot(server: ScratchServer, stream: string): Promise<{ meta: StreamSnapshotMeta; chunks: Uint8Array[]; progress: number[] }> {
  const chunks: Uint8Array[] = [];
  const progress: number[] = [];
  const meta = await admin.snapshot(
    server.ref,
    stream,
    async (c) => {
      chunks.push(c);
      await tick(); // a sink that yields, as a file write would
    },
    (b) => progress.push(b),
  );
  return { meta, chunks, progress };
}

function consumerView(c: ConsumerInfo): Record<string, unknown> {
  return { name: c.name, ack_policy: c.config.ack_policy, delivered: c.delivered.stream_seq, ack_floor: c.ack_floor.stream_seq, ack_pending: c.num_ack_pending, pending: c.num_pending };
}

const spawned = spawnSync('nats-server', ['--version']);
if (spawned.error) throw new Error(`this test needs the nats-server binary on PATH (apt-get install -y nats-server): ${spawned.error.message}`);

let a: ScratchServer;
let b: ScratchServer;
/** No JetStream: a test client plays the JetStream API there, to script what 2.9 never sends. */
let fake: ScratchServer;
let orders: { meta: StreamSnapshotMeta; chunks: Uint8Array[] } | undefined;
let ordersConsumer: Record<string, unknown> | undefined;

const running: ScratchServer[] = [];
before(async () => {
  const started = await Promise.allSettled([ScratchServer.start(), ScratchServer.start(), ScratchServer.start(false)]);
  // Every server that did start is stopped by `after`, even when another did not.
  for (const s of started) if (s.status === 'fulfilled') running.push(s.value);
  for (const s of started) if (s.status === 'rejected') throw s.reason;
  [a, b, fake] = running as [ScratchServer, ScratchServer, ScratchServer];
});
after(async () => {
  await Promise.all(running.map((s) => s.stop()));
});

test('a stream of 5,000 messages with a durable consumer survives snapshot, delete and restore', async () => {
  await a.jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>', 'audit.>'], storage: StorageType.File });
  const js = a.nc.jetstream();
  for (let i = 0; i < 5000; i += 500) {
    await Promise.all(Array.from({ length: 500 }, (_, k) => js.publish(SUBJECTS[(i + k) % SUBJECTS.length] ?? 'orders.x', body(i + k))));
  }
  await a.jsm.consumers.add('ORDERS', { durable_name: 'worker', ack_policy: AckPolicy.Explicit });
  const consumer = await js.consumers.get('ORDERS', 'worker');
  const batch = await consumer.fetch({ max_messages: 100, expires: 5000 });
  for await (const m of batch) if (m.seq <= 60) await m.ackAck();
  ordersConsumer = consumerView(await a.jsm.consumers.info('ORDERS', 'worker'));
  assert.deepEqual({ delivered: ordersConsumer.delivered, ack_floor: ordersConsumer.ack_floor, ack_pending: ordersConsumer.ack_pending }, { delivered: 100, ack_floor: 60, ack_pending: 40 });
  // Publishes ran concurrently: the samples are what landed at each sequence.
  const samples = await Promise.all([1, 2, 777, 2500, 4999, 5000].map((seq) => a.jsm.streams.getMessage('ORDERS', { seq })));

  const before = await admin.streamState(a.ref, 'ORDERS');
  assert.ok(before);
  assert.equal(before.messages, 5000);
  assert.equal(before.consumers, 1);
  assert.deepEqual({ firstSeq: before.firstSeq, lastSeq: before.lastSeq }, { firstSeq: 1, lastSeq: 5000 });

  const { meta, chunks, progress } = await takeSnapshot(a, 'ORDERS');
  const total = chunks.reduce((n, c) => n + c.length, 0);
  assert.ok(chunks.length > 10, `many chunks (got ${chunks.length})`);
  assert.equal(progress.at(-1), total, 'progress ends at the bytes received');
  assert.equal(meta.stream, 'ORDERS');
  assert.equal(meta.config.name, 'ORDERS');
  assert.deepEqual(meta.summary, before);

  assert.equal(await admin.deleteStream(a.ref, 'ORDERS'), true);
  assert.equal(await admin.streamState(a.ref, 'ORDERS'), null);

  const restoredProgress: number[] = [];
  const restored = await admin.restore(a.ref, meta, replay(chunks), (n) => restoredProgress.push(n));
  assert.deepEqual(restored, before);
  assert.equal(restoredProgress.at(-1), total);
  assert.deepEqual(await admin.streamState(a.ref, 'ORDERS'), before);
  assert.deepEqual(consumerView(await a.jsm.consumers.info('ORDERS', 'worker')), ordersConsumer);
  for (const s of samples) {
    const m = await a.jsm.streams.getMessage('ORDERS', { seq: s.seq });
    assert.equal(m.subject, s.subject);
    assert.deepEqual(m.data, s.data, `body of seq ${s.seq}`);
  }
  orders = { meta, chunks };
});

test('a KV bucket (stream KV_settings) round-trips with its history and delete markers', async () => {
  const kv = await a.nc.jetstream().views.kv('settings', { history: 5 });
  await kv.put('theme', 'light');
  await kv.put('theme', 'dark');
  await kv.put('locale', 'fr-FR');
  await kv.put('feature.beta', 'on');
  await kv.put('legacy', 'x');
  await kv.delete('legacy');
  const before = await admin.streamState(a.ref, 'KV_settings');
  assert.ok(before);

  const { meta, chunks } = await takeSnapshot(a, 'KV_settings');
  assert.deepEqual(meta.summary, before);
  assert.equal(await admin.deleteStream(a.ref, 'KV_settings'), true);
  assert.deepEqual(await admin.restore(a.ref, meta, replay(chunks)), before);

  const back = await a.nc.jetstream().views.kv('settings', { bindOnly: true });
  assert.equal((await back.get('theme'))?.string(), 'dark');
  assert.equal((await back.get('feature.beta'))?.string(), 'on');
  assert.equal((await back.get('legacy'))?.operation, 'DEL');
  const history: string[] = [];
  for await (const e of await back.history({ key: 'theme' })) history.push(e.string());
  assert.deepEqual(history, ['light', 'dark']);
  const keys: string[] = [];
  for await (const k of await back.keys()) keys.push(k);
  assert.deepEqual(keys.sort(), ['feature.beta', 'locale', 'theme']);
});

test('a snapshot restores into a second, fresh server (the backup verification)', async () => {
  assert.ok(orders, 'needs the ORDERS snapshot of the first test');
  assert.equal(await admin.streamState(b.ref, 'ORDERS'), null);
  const state = await admin.restore(b.ref, orders.meta, reslice(orders.chunks, 50_000));
  assert.deepEqual(state, orders.meta.summary);
  assert.deepEqual(consumerView(await b.jsm.consumers.info('ORDERS', 'worker')), ordersConsumer);
  for (const seq of [1, 1234, 5000]) {
    const [x, y] = await Promise.all([a.jsm.streams.getMessage('ORDERS', { seq }), b.jsm.streams.getMessage('ORDERS', { seq })]);
    assert.equal(y.subject, x.subject);
    assert.deepEqual(y.data, x.data);
  }
});

test('errors name the stream and the cause, never the password', async () => {
  await assert.rejects(admin.snapshot(a.ref, 'NOPE', async () => {}), /NATS 127\.0\.0\.1:\d+: snapshot of stream "NOPE": stream not found/);
  assert.equal(await admin.streamState(a.ref, 'NOPE'), null);
  assert.equal(await admin.deleteStream(a.ref, 'NOPE'), false);

  assert.ok(orders);
  await assert.rejects(admin.restore(a.ref, orders.meta, replay(orders.chunks)), /restore of stream "ORDERS": the stream already exists/);

  await a.jsm.streams.add({ name: 'VOLATILE', subjects: ['volatile.>'], storage: StorageType.Memory });
  await assert.rejects(admin.snapshot(a.ref, 'VOLATILE', async () => {}), /snapshot of stream "VOLATILE": a memory-storage stream has no snapshot/);

  // Half an archive: the server cannot build the stream, and says so in its final answer.
  const half = Buffer.concat(orders.chunks).subarray(0, 100_000);
  assert.equal(await admin.deleteStream(b.ref, 'ORDERS'), true);
  await assert.rejects(admin.restore(b.ref, orders.meta, replay([half])), /restore of stream "ORDERS": restore failed: /);
  assert.equal(await admin.streamState(b.ref, 'ORDERS'), null, 'a failed restore leaves no stream');

  const wrong = 'Wrong-Pw-0a9b8c7d';
  for (const ref of [{ ...a.ref, password: wrong }, { ...a.ref, user: 'intruder', password: PASSWORD }]) {
    await assert.rejects(admin.listStreams(ref), (err: Error) => {
      assert.match(err.message, /NATS 127\.0\.0\.1:\d+: cannot connect: .*authorization violation/i);
      assert.ok(!err.message.includes(wrong) && !err.message.includes(PASSWORD), err.message);
      return true;
    });
  }

  await assert.rejects(admin.streamState(a.ref, 'a.b'), /invalid stream name "a\.b"/);
});

test('listStreams pages past the server’s 1,024 names a page', async () => {
  // Memory streams: cheap to create, and listing does not care about storage.
  const names = Array.from({ length: 1100 }, (_, i) => `LIST_${String(i).padStart(4, '0')}`);
  for (let i = 0; i < names.length; i += 100) {
    await Promise.all(names.slice(i, i + 100).map((name) => b.jsm.streams.add({ name, subjects: [`list.${name}`], storage: StorageType.Memory })));
  }
  const listed = await admin.listStreams(b.ref);
  assert.equal(listed.length, new Set(listed).size, 'no name twice');
  assert.deepEqual(listed.filter((n) => n.startsWith('LIST_')).sort(), names);
  assert.deepEqual(listed.filter((n) => !n.startsWith('LIST_')).sort(), []);
});

test('newer servers’ end markers: 204 ends a snapshot, an error status or silence fails it', async () => {
  // Scripted snapshots: two acked chunks and an unacked tail, then the stream's end marker (or none).
  const ends: Record<string, (deliver: string) => void> = {
    EOF204: (d) => fake.nc.publish(d, Empty, { headers: headers(204, 'EOF') }),
    GONE: (d) => fake.nc.publish(d, Empty, { headers: headers(408, 'No Interest') }),
    STALL: () => {},
  };
  let acks = 0;
  fake.nc.subscribe('fake.ack.>', { callback: () => acks++ });
  fake.nc.subscribe('$JS.API.STREAM.>', {
    callback: (_err, m) => {
      const [, , , verb, stream = ''] = m.subject.split('.');
      const info = { config: { name: stream, storage: 'file' }, state: { messages: 2, bytes: 6, first_seq: 1, last_seq: 2, consumer_count: 0 } };
      m.respond(new TextEncoder().encode(JSON.stringify(info)));
      if (verb !== 'SNAPSHOT') return;
      const deliver = (JSON.parse(new TextDecoder().decode(m.data)) as { deliver_subject: string }).deliver_subject;
      fake.nc.publish(deliver, new Uint8Array([1, 2, 3]), { reply: 'fake.ack.1' });
      fake.nc.publish(deliver, new Uint8Array([4, 5]), { reply: 'fake.ack.2' });
      fake.nc.publish(deliver, new Uint8Array([6]));
      ends[stream]?.(deliver);
    },
  });
  const ref = { ...fake.ref, timeoutMs: 300 };
  const received: number[] = [];
  const meta = await admin.snapshot(ref, 'EOF204', async (c) => void received.push(...c));
  assert.deepEqual(received, [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(meta.summary, { messages: 2, bytes: 6, firstSeq: 1, lastSeq: 2, consumers: 0 });
  await fake.nc.flush();
  assert.equal(acks, 2, 'each chunk with a reply subject is acked');

  await assert.rejects(admin.snapshot(ref, 'GONE', async () => {}), /snapshot of stream "GONE": the server ended it with 408 No Interest/);
  await assert.rejects(admin.snapshot(ref, 'STALL', async () => {}), /snapshot of stream "STALL": stalled, no chunk for 300 ms after 6 bytes/);
});
