/**
 * The notifier (engine/notifier.ts) end to end, on real parts: the real Notifier over the
 * in-memory SQLite store, the real HTTP sender (drivers/notify) and master keyring, posting
 * to a real HTTP server on 127.0.0.1. Covered: the retry backoff schedule (1 s, 2 s, 4 s…
 * 256 s), the 10-attempt cap, the Slack `{ text }` body, event filtering and HMAC
 * signing of generic webhooks (deployment.failed, approval.needed, job.failed), and a target
 * that recovers (500 then 200) being delivered to exactly once.
 *
 * Why here and not src/engine/: eslint.config.js keeps engine tests to core and engine
 * imports, and these wire the engine to the store and drivers (as main.ts does).
 *
 * Time: the notifier reads the clock through Date only, so each test mocks Date (node:test
 * mock timers, Date alone: sockets and fetch keep real timers) and calls tick() itself
 * instead of start(); backoff is crossed by moving the clock, never by sleeping.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import pino from 'pino';
import type { NotificationDelivery, OutboxEvent } from '../core/domain';
import type { Store } from '../core/ports/store';
import { httpNotificationSender } from '../drivers/notify/http-notification-sender';
import { MasterKeyring } from '../drivers/keyring/master-keyring';
import { deploymentEvent, jobFailedEvent } from '../engine/domain-events';
import type { EngineContext } from '../engine/engine-context';
import { Notifier } from '../engine/notifier';
import { openSqliteStore } from '../store/sqlite-store';

const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const REF = { project: 'shop', service: 'web', env: 'production' };
const DEPLOYMENT = { id: 'dep_1', kind: 'deploy' as const, triggeredBy: 'alice' };

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

/** Ports the notifier never touches: any call fails the test, named. */
function unused<T extends object>(port: string): T {
  return new Proxy({} as T, {
    get: (_t, method) => {
      if (method === 'then') return undefined;
      return () => {
        throw new Error(`${port}.${String(method)} was called by the notifier`);
      };
    },
  });
}

/**
 * A store, a notifier and a receiving server. `answer(path, n)` is the status the server
 * gives the n-th request (1-based) to that path; every request is recorded with its answer.
 */
async function world(t: TestContext, answer: (path: string, n: number) => number = () => 200) {
  t.mock.timers.enable({ apis: ['Date'], now: T0 });
  const store: Store = await openSqliteStore({ file: ':memory:', logger: pino({ level: 'silent' }) });
  await store.migrate();
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const p = req.url ?? '/';
      const status = answer(p, received.filter((r) => r.path === p).length + 1);
      received.push({ path: p, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'nope');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // An environment key: the keyring neither reads nor writes a key file (the directory need not exist).
  const cipher = new MasterKeyring({ dataDir: path.join(tmpdir(), 'slipway-notifier-test-unused'), env: { SLIPWAY_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') } });
  const ctx: EngineContext = {
    store,
    cipher,
    logger: pino({ level: 'silent' }),
    runtime: unused('runtime'),
    edge: unused('edge'),
    probe: unused('probe'),
    sources: unused('sources'),
    git: unused('git'),
    contexts: unused('contexts'),
  };
  const notifier = new Notifier(ctx, httpNotificationSender);
  t.after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await store.close();
  });
  const delivery = async (targetId: string): Promise<NotificationDelivery> => {
    const rows = (await store.listDeliveries(100)).filter((d) => d.targetId === targetId);
    assert.equal(rows.length, 1, `one delivery row for ${targetId}`);
    return rows[0]!;
  };
  return { store, notifier, received, base, delivery };
}

const sinceNow = (iso: string) => Date.parse(iso) - Date.now();

test('a failing target is retried after 1 s, 2 s, 4 s… 256 s, and not a millisecond earlier; given up, it shows no next attempt', async (t) => {
  const w = await world(t, () => 500);
  const { target } = await w.notifier.addTarget({ kind: 'webhook', url: `${w.base}/down` }, 'test');
  await w.store.appendOutboxEvent(deploymentEvent('deployment.failed', REF, DEPLOYMENT, { errorCode: 'SLW_HEALTH', error: 'boom' }));

  // 1 s · 2^(n-1) after attempt n; the 10th failure gives up (no next attempt: now).
  const expected = [1, 2, 4, 8, 16, 32, 64, 128, 256, 0].map((s) => s * 1000);
  await w.notifier.tick();
  for (let attempt = 1; attempt <= 10; attempt++) {
    assert.equal(w.received.length, attempt, `attempt ${attempt} was sent`);
    const d = await w.delivery(target.id);
    assert.equal(d.attempts, attempt);
    assert.equal(d.status, attempt < 10 ? 'pending' : 'failed');
    assert.equal(sinceNow(d.nextAttemptAt), expected[attempt - 1], `backoff recorded after attempt ${attempt}`);
    if (attempt === 10) break;
    // Not due one millisecond before the recorded time; due exactly at it.
    t.mock.timers.tick(expected[attempt - 1]! - 1);
    await w.notifier.tick();
    assert.equal(w.received.length, attempt, `no attempt ${attempt + 1} before its backoff elapsed`);
    t.mock.timers.tick(1);
    await w.notifier.tick();
  }
});

test('after 10 failed attempts the delivery is failed and never sent again', async (t) => {
  const w = await world(t, () => 500);
  const { target } = await w.notifier.addTarget({ kind: 'webhook', url: `${w.base}/down` }, 'test');
  await w.store.appendOutboxEvent(deploymentEvent('deployment.failed', REF, DEPLOYMENT, { errorCode: 'SLW_HEALTH', error: 'boom' }));

  // Five minutes is past every backoff, so each round makes exactly one attempt.
  for (let round = 1; round <= 9; round++) {
    await w.notifier.tick();
    t.mock.timers.tick(300_000);
  }
  assert.equal(w.received.length, 9);
  assert.equal((await w.delivery(target.id)).status, 'pending', 'still retried after 9 failures');

  await w.notifier.tick();
  const d = await w.delivery(target.id);
  assert.equal(w.received.length, 10);
  assert.deepEqual({ status: d.status, attempts: d.attempts, deliveredAt: d.deliveredAt }, { status: 'failed', attempts: 10, deliveredAt: null });
  assert.match(d.lastError ?? '', /answered HTTP 500/);
  assert.deepEqual(await w.notifier.backlog(), { events: 0, pendingDeliveries: 0 });

  // A day later, several rounds: nothing more reaches the target.
  t.mock.timers.tick(24 * 3600_000);
  for (let round = 0; round < 3; round++) await w.notifier.tick();
  assert.equal(w.received.length, 10);
  assert.equal((await w.delivery(target.id)).attempts, 10);
});

test('a Slack target receives { text } for a deployment event, unsigned', async (t) => {
  const w = await world(t);
  const { target, secret } = await w.notifier.addTarget({ kind: 'slack', url: `${w.base}/slack` }, 'test');
  assert.equal(secret, null, 'Slack targets have no signing secret');
  await w.store.appendOutboxEvent(deploymentEvent('deployment.failed', REF, DEPLOYMENT, { errorCode: 'SLW_HEALTH', error: 'health check timed out after 30s' }));

  await w.notifier.tick();
  assert.equal(w.received.length, 1);
  const [req] = w.received;
  assert.equal(req!.path, '/slack');
  assert.equal(req!.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(req!.body), { text: ':x: shop/web/production: deployment failed: health check timed out after 30s' });
  assert.equal(req!.headers['x-slipway-signature'], undefined);
  assert.equal((await w.delivery(target.id)).status, 'delivered');
});

test('deployment.failed, approval.needed and job.failed reach a subscribed webhook, signed; a target subscribed to other events gets none of them', async (t) => {
  const w = await world(t);
  const subscribed = await w.notifier.addTarget({ kind: 'webhook', url: `${w.base}/ops`, events: ['deployment.failed', 'approval.needed', 'job.failed'] }, 'test');
  const other = await w.notifier.addTarget({ kind: 'webhook', url: `${w.base}/releases`, events: ['deployment.succeeded'] }, 'test');
  assert.ok(subscribed.secret && other.secret);

  await w.store.appendOutboxEvent(deploymentEvent('deployment.failed', REF, DEPLOYMENT, { errorCode: 'SLW_HEALTH', error: 'boom' }));
  await w.store.appendOutboxEvent(deploymentEvent('approval.needed', REF, { id: 'dep_2', kind: 'deploy', triggeredBy: 'bob' }));
  await w.store.appendOutboxEvent(jobFailedEvent(REF, { id: 3, status: 'failed', exitCode: 2, note: null, release: 4 }));
  // The other target's own event proves it is reachable: it is filtered, not broken.
  await w.store.appendOutboxEvent(deploymentEvent('deployment.succeeded', REF, { id: 'dep_3', kind: 'deploy', triggeredBy: 'bob' }, { release: 5 }));
  const events = new Map<string, OutboxEvent>((await w.store.listOutbox(0, 10)).map((e) => [e.type, e]));

  await w.notifier.tick();
  const ops = w.received.filter((r) => r.path === '/ops');
  const releases = w.received.filter((r) => r.path === '/releases');
  assert.deepEqual(ops.map((r) => r.headers['x-slipway-event']).sort(), ['approval.needed', 'deployment.failed', 'job.failed']);
  assert.deepEqual(releases.map((r) => r.headers['x-slipway-event']), ['deployment.succeeded']);

  for (const r of ops) {
    const e = events.get(String(r.headers['x-slipway-event']))!;
    assert.deepEqual(JSON.parse(r.body), { id: e.eventId, type: e.type, at: e.createdAt, project: 'shop', data: e.payload });
    assert.equal(r.headers['x-slipway-event-id'], e.eventId);
    // The sender signs "<timestamp>.<body>" with the target's secret; the timestamp is the send time in seconds.
    const ts = String(r.headers['x-slipway-timestamp']);
    assert.equal(ts, String(Math.floor(T0 / 1000)));
    assert.equal(r.headers['x-slipway-signature'], `sha256=${createHmac('sha256', subscribed.secret).update(`${ts}.${r.body}`).digest('hex')}`);
    assert.notEqual(r.headers['x-slipway-signature'], `sha256=${createHmac('sha256', other.secret).update(`${ts}.${r.body}`).digest('hex')}`, 'each target signs with its own secret');
  }
  // The payloads the engine's event helpers build arrive as `data`.
  const data = (type: string) => (JSON.parse(ops.find((r) => r.headers['x-slipway-event'] === type)!.body) as { data: unknown }).data;
  assert.deepEqual(data('deployment.failed'), { deploymentId: 'dep_1', project: 'shop', service: 'web', env: 'production', kind: 'deploy', triggeredBy: 'alice', errorCode: 'SLW_HEALTH', error: 'boom' });
  assert.deepEqual(data('approval.needed'), { deploymentId: 'dep_2', project: 'shop', service: 'web', env: 'production', kind: 'deploy', triggeredBy: 'bob' });
  assert.deepEqual(data('job.failed'), { jobRun: 3, project: 'shop', service: 'web', env: 'production', status: 'failed', exitCode: 2, note: null, release: 4 });

  // Filtering happens at fan-out: the other target has no delivery rows for these events at all.
  const rows = await w.store.listDeliveries(100);
  assert.deepEqual(rows.filter((d) => d.targetId === other.target.id).map((d) => d.type), ['deployment.succeeded']);
  assert.ok(rows.filter((d) => d.targetId === subscribed.target.id).every((d) => d.status === 'delivered' && d.attempts === 1));
});

test('a target that answers 500 then 200 gets the event delivered exactly once, on the second attempt', async (t) => {
  const w = await world(t, (_path, n) => (n === 1 ? 500 : 200));
  const { target } = await w.notifier.addTarget({ kind: 'webhook', url: `${w.base}/flaky` }, 'test');
  await w.store.appendOutboxEvent(deploymentEvent('approval.needed', REF, DEPLOYMENT));

  await w.notifier.tick();
  const first = await w.delivery(target.id);
  assert.deepEqual({ status: first.status, attempts: first.attempts }, { status: 'pending', attempts: 1 });
  assert.match(first.lastError ?? '', /answered HTTP 500/);

  t.mock.timers.tick(1000);
  await w.notifier.tick();
  const d = await w.delivery(target.id);
  assert.deepEqual(
    { status: d.status, attempts: d.attempts, lastError: d.lastError, deliveredAt: d.deliveredAt },
    { status: 'delivered', attempts: 2, lastError: null, deliveredAt: new Date(T0 + 1000).toISOString() },
  );

  // Later rounds leave a delivered event alone.
  t.mock.timers.tick(3600_000);
  for (let round = 0; round < 3; round++) await w.notifier.tick();
  assert.deepEqual(w.received.map((r) => r.status), [500, 200]);
  // Both attempts carry the same idempotency key, so a receiver could dedupe a repeat.
  assert.equal(new Set(w.received.map((r) => r.headers['x-slipway-event-id'])).size, 1);
});
