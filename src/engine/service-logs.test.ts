/**
 * ServiceLogs' follow logic (join, leave, rejoin, masking refresh, grep, resume) over an
 * in-memory runtime; the same behaviour against real Docker is test/logs-follow.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { LogEntry, LogOptions, Replica, ReplicaFilter, Runtime } from '../core/ports/runtime';
import { parseLogCursor } from '../core/log-cursor';
import type { EngineContext } from './engine-context';
import { ServiceLogs, type ServiceLogEvent } from './service-logs';

/** Real time (followed streams start at "now"), strictly increasing. */
let clock = 0;
const stamp = () => new Date((clock = Math.max(clock + 1, Date.now()))).toISOString().replace('Z', '000000Z');

/** Containers whose output the test writes; followed streams end when a container stops. */
class FakeRuntime {
  readonly replicas: Replica[] = [];
  private readonly lines = new Map<string, LogEntry[]>();
  private readonly waiters = new Set<() => void>();

  start(name: string, release: number): Replica {
    const r = { id: `id-${name}`, name, labels: { project: 'p', service: 'web', env: 'production', release, deployment: 'd' }, state: 'running' } as Replica;
    this.replicas.push(r);
    this.lines.set(r.id, []);
    return r;
  }
  print(r: Replica, line: string): void {
    this.lines.get(r.id)!.push({ replica: r.name, stream: 'stdout', at: stamp(), line });
    this.wake();
  }
  stop(r: Replica, remove = true): void {
    r.state = 'exited';
    if (remove) this.replicas.splice(this.replicas.indexOf(r), 1);
    this.wake();
  }
  restart(r: Replica): void {
    r.state = 'running';
    if (!this.replicas.includes(r)) this.replicas.push(r);
  }
  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  async listReplicas(f: ReplicaFilter): Promise<Replica[]> {
    return this.replicas.filter((r) => f.release === undefined || r.labels.release === f.release);
  }
  async *replicaLogs(r: Pick<Replica, 'id' | 'name'>, opts: LogOptions): AsyncGenerator<LogEntry> {
    const all = this.lines.get(r.id)!;
    const since = opts.since ? new Date(opts.since).getTime() : -Infinity;
    const sinceText = opts.since && /\.\d{9}Z$/.test(opts.since) ? opts.since : null;
    const keep = (e: LogEntry) => (sinceText ? e.at >= sinceText : Date.parse(e.at) >= since);
    let past = all.filter(keep);
    if (opts.tail !== undefined && opts.tail !== 'all') past = past.slice(-opts.tail || past.length);
    if (opts.tail === 0) past = [];
    yield* past;
    if (!opts.follow) return;
    let next = all.length;
    const replica = this.replicas.find((x) => x.id === r.id) ?? { state: 'exited' };
    while (!opts.signal?.aborted && replica.state === 'running') {
      if (next < all.length) {
        yield all[next++]!;
        continue;
      }
      await new Promise<void>((resolve) => {
        const w = () => {
          this.waiters.delete(w);
          resolve();
        };
        this.waiters.add(w);
        opts.signal?.addEventListener('abort', w, { once: true });
      });
    }
    while (next < all.length) yield all[next++]!;
  }
}

/** `credentials`: accessory credential values by version (a rotation pushes one). */
function context(runtime: FakeRuntime, secrets: Array<Record<string, string>> = [], credentials: string[][] = []): EngineContext {
  const store = {
    listAccessories: async () => (credentials.length > 0 ? [{ id: 1, credentialsVersion: credentials.length }] : []),
    getProject: async () => ({ id: 1 }),
    getEnvironment: async () => ({ id: 7 }),
    getSecrets: async (_env: number, v?: number) => {
      const version = v ?? secrets.length;
      return version === 0 ? null : { version, sealed: JSON.stringify(secrets[version - 1]) };
    },
  };
  const accessories = { credentialValues: async () => credentials.flat() };
  return { runtime: runtime as unknown as Runtime, store, accessories, cipher: { open: (s: string) => s }, logger: pino({ level: 'silent' }) } as unknown as EngineContext;
}

const ref = { project: 'p', service: 'web', env: 'production' };

/** Reads events until `until` holds, then stops the stream. */
async function collect(events: AsyncGenerator<ServiceLogEvent>, until: (seen: ServiceLogEvent[]) => boolean, abort: AbortController): Promise<ServiceLogEvent[]> {
  const seen: ServiceLogEvent[] = [];
  const deadline = setTimeout(() => abort.abort(), 5000);
  for await (const ev of events) {
    seen.push(ev);
    if (until(seen)) break;
  }
  clearTimeout(deadline);
  abort.abort();
  return seen;
}

test('following: replicas started later join, stopped ones leave, a restarted one rejoins without repeats', async () => {
  const rt = new FakeRuntime();
  const logs = new ServiceLogs(context(rt), { pollMs: 20, windowMs: 10 });
  const old = rt.start('p-web-production-v1-aaaaaa', 1);
  rt.print(old, 'v1 started');
  const abort = new AbortController();
  const events = logs.stream(ref, { follow: true, signal: abort.signal });
  const reading = collect(events, (seen) => seen.some((e) => e.entry.line === 'v2 after restart'), abort);

  await new Promise((r) => setTimeout(r, 50));
  const next = rt.start('p-web-production-v2-bbbbbb', 2);
  rt.print(next, 'v2 started'); // printed before the poll notices the replica: still delivered
  await new Promise((r) => setTimeout(r, 60));
  rt.print(old, 'v1 stopping');
  rt.stop(old);
  await new Promise((r) => setTimeout(r, 60));
  rt.stop(next, false);
  await new Promise((r) => setTimeout(r, 60));
  rt.restart(next);
  rt.print(next, 'v2 after restart');

  const seen = await reading;
  assert.deepEqual(
    seen.map((e) => `${e.entry.release} ${e.entry.line}`),
    ['1 v1 started', '2 v2 started', '1 v1 stopping', '2 v2 after restart'],
  );
  const ids = seen.map((e) => e.id);
  assert.equal(new Set(ids).size, ids.length, 'every line has its own cursor');
});

test('masking follows new secrets versions; grep sees the masked text; unmask shows it', async () => {
  const secrets = [{ API_KEY: 'first-secret-value' }];
  const rt = new FakeRuntime();
  const logs = new ServiceLogs(context(rt, secrets), { pollMs: 20, windowMs: 10 });
  const v1 = rt.start('p-web-production-v1-aaaaaa', 1);
  rt.print(v1, 'API_KEY=first-secret-value');
  const abort = new AbortController();
  const reading = collect(logs.stream(ref, { follow: true, signal: abort.signal }), (seen) => seen.length === 2, abort);
  await new Promise((r) => setTimeout(r, 40));
  secrets.push({ API_KEY: 'second-secret-value' }); // `secrets set` → a new release prints the new value
  const v2 = rt.start('p-web-production-v2-bbbbbb', 2);
  rt.print(v2, 'API_KEY=second-secret-value');
  assert.deepEqual((await reading).map((e) => e.entry.line), ['API_KEY=[secret]', 'API_KEY=[secret]']);

  const probe = async (q: { grep?: (l: string) => boolean; unmask?: boolean }) => {
    const out: string[] = [];
    for await (const e of logs.stream(ref, { ...q })) out.push(e.entry.line);
    return out;
  };
  assert.deepEqual(await probe({ grep: (l) => l.includes('first-secret') }), [], 'a pattern cannot test a masked value');
  assert.deepEqual(await probe({ grep: (l) => l.includes('[secret]') }), ['API_KEY=[secret]', 'API_KEY=[secret]']);
  assert.deepEqual(await probe({ unmask: true }), ['API_KEY=first-secret-value', 'API_KEY=second-secret-value']);
});

test('accessory credentials are masked in service logs, and a rotation is picked up while following', async () => {
  const credentials = [['0123456789abcdef-db-app-password']];
  const rt = new FakeRuntime();
  const logs = new ServiceLogs(context(rt, [], credentials), { pollMs: 20, windowMs: 10 });
  const v1 = rt.start('p-web-production-v1-aaaaaa', 1);
  rt.print(v1, 'connecting to postgres://app:0123456789abcdef-db-app-password@db:5432/shop');
  const abort = new AbortController();
  const reading = collect(logs.stream(ref, { follow: true, signal: abort.signal }), (seen) => seen.length === 2, abort);
  await new Promise((r) => setTimeout(r, 40));
  credentials.push(['fedcba9876543210-rotated-password']); // `slipway accessories rotate db`
  const v2 = rt.start('p-web-production-v2-bbbbbb', 2);
  rt.print(v2, 'password=fedcba9876543210-rotated-password');
  assert.deepEqual((await reading).map((e) => e.entry.line), ['connecting to postgres://app:[secret]@db:5432/shop', 'password=[secret]']);
});

test('past lines: merged in time order, tail per replica, release filter, resume after a cursor', async () => {
  const rt = new FakeRuntime();
  const logs = new ServiceLogs(context(rt), { pollMs: 20, windowMs: 10 });
  const a = rt.start('p-web-production-v1-aaaaaa', 1);
  const b = rt.start('p-web-production-v2-bbbbbb', 2);
  for (let i = 0; i < 3; i++) {
    rt.print(a, `a${i}`);
    rt.print(b, `b${i}`);
  }
  const read = async (q: Parameters<ServiceLogs['stream']>[1]) => {
    const out: ServiceLogEvent[] = [];
    for await (const e of logs.stream(ref, q)) out.push(e);
    return out;
  };
  const all = await read({});
  assert.deepEqual(all.map((e) => e.entry.line), ['a0', 'b0', 'a1', 'b1', 'a2', 'b2']);
  assert.deepEqual((await read({ tail: 1 })).map((e) => e.entry.line), ['a2', 'b2']);
  assert.deepEqual((await read({ release: 2 })).map((e) => e.entry.line), ['b0', 'b1', 'b2']);
  const resumed = await read({ tail: 1, resumeAfter: parseLogCursor(all[2]!.id, 'after') });
  assert.deepEqual(resumed.map((e) => e.entry.line), ['b1', 'a2', 'b2'], 'a resume ignores tail and repeats nothing');
});
