/**
 * The alert loop on a real (in-memory SQLite) store with scripted figures: when rules fire and
 * resolve, the events they write (once each), silences, restarts of the loop, rules turned off,
 * and the host rules. The same loop against real Docker and HAProxy: test/alerts.test.ts.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import pino from 'pino';
import { figures, type WindowFigures } from '../core/canary-analysis';
import type { AlertRulesLayer } from '../core/alert-rules';
import type { ServiceRef } from '../core/domain';
import type { ServiceTraffic } from '../core/ports/release-traffic';
import type { Store } from '../core/ports/store';
import { SERVICE_DEFAULTS } from '../core/stored-service-config';
import { AlertEvaluator, ALERT_DEFAULTS_SETTING } from '../engine/alerts';
import { openSqliteStore } from '../store/sqlite-store';

const logger = pino({ level: 'silent' });
const T0 = Date.UTC(2026, 11, 8, 1, 0, 0);

class ScriptedTraffic implements ServiceTraffic {
  current: WindowFigures = figures(0, 0, null);
  serviceWindow(_ref: ServiceRef): WindowFigures {
    return this.current;
  }
}

async function world(t: TestContext, alerts: AlertRulesLayer | undefined) {
  const store = await openSqliteStore({ file: ':memory:', logger });
  t.after(() => store.close());
  await store.migrate();
  const project = await store.upsertProject('shop');
  const env = (await store.getEnvironment(project.id, 'production'))!;
  const service = await store.upsertService(project.id, 'web', 'web');
  const live = async (a: AlertRulesLayer | undefined) => {
    const r = await store.createRelease({ serviceId: service.id, environmentId: env.id, imageRef: 'shop/web:1', imageDigest: 'sha256:1', config: { ...SERVICE_DEFAULTS, name: 'web', port: 3000, ...(a ? { alerts: a } : {}) }, sourceRef: null, secretsVersion: null });
    await store.setCurrentReleaseId(service.id, env.id, r.id);
  };
  await live(alerts);
  const traffic = new ScriptedTraffic();
  let now = T0;
  const evaluator = () => new AlertEvaluator({ store, traffic, logger, now: () => now });
  const clock = { set: (ms: number) => (now = T0 + ms), get: () => now };
  return { store, traffic, evaluator, clock, live };
}

async function events(store: Store) {
  return (await store.listOutbox(0, 1000)).filter((e) => e.type.startsWith('alert.'));
}

/** Ticks every second from `from` to `to` (seconds after T0), with the figures `at(s)` gives. */
async function run(w: Awaited<ReturnType<typeof world>>, e: AlertEvaluator, from: number, to: number, at: (s: number) => WindowFigures) {
  for (let s = from; s <= to; s++) {
    w.clock.set(s * 1000);
    w.traffic.current = at(s);
    await e.tick();
  }
}

const errorRule: AlertRulesLayer = { error_rate: { above: 0.1, forMs: 10_000, minRequests: 20, clearForMs: 5000 } };

test('error rate: fires once after its `for`, carries the measured value, resolves once after its clear time', async (t) => {
  const w = await world(t, errorRule);
  const e = w.evaluator();
  const bad = () => figures(100, 30, 40);
  const good = () => figures(100, 0, 40);
  await run(w, e, 0, 9, bad);
  assert.deepEqual(await w.store.listAlerts({}), [], 'not before 10 s');
  await run(w, e, 10, 20, bad);
  const [firing] = await w.store.listAlerts({});
  assert.ok(firing);
  assert.deepEqual({ rule: firing.rule, subject: firing.subject, value: firing.value, link: firing.link }, { rule: 'error_rate', subject: 'shop/production/web', value: 0.3, link: '/p/shop/production/web' });
  assert.match(firing.summary, /30 % of 100 requests answered 5xx/);
  assert.equal(firing.explain, 'slipway requests web --project shop --env production --errors');
  assert.equal(firing.startedAt, new Date(T0 + 10_000).toISOString());

  // Too few requests is no breach: the alert clears (a service nobody calls is not failing).
  await run(w, e, 21, 24, () => figures(5, 5, 40));
  assert.equal((await w.store.listAlerts({})).length, 1, 'still firing within its clear time');
  await run(w, e, 25, 40, good);
  assert.deepEqual(await w.store.listAlerts({}), []);
  const [resolved] = await w.store.listAlerts({ all: true });
  assert.equal(resolved!.endedAt, new Date(T0 + 26_000).toISOString(), 'gone since 21 s, for 5 s');

  const sent = await events(w.store);
  assert.deepEqual(sent.map((x) => x.type), ['alert.firing', 'alert.resolved'], 'each once');
  assert.equal(sent[0]!.payload.alert, firing.id);
  assert.equal(sent[0]!.payload.rule, 'error_rate');
  assert.equal(sent[1]!.payload.state, 'resolved');
});

test('a value hovering at the threshold neither fires early nor flaps', async (t) => {
  const w = await world(t, errorRule);
  const e = w.evaluator();
  await run(w, e, 0, 60, (s) => figures(100, s % 4 === 0 ? 5 : 15, 40));
  assert.deepEqual(await events(w.store), [], 'never held for 10 s');
});

test('a silence mutes a rule: the alert is recorded as silenced and nothing is sent, neither at firing nor at resolving', async (t) => {
  const w = await world(t, errorRule);
  await w.store.createSilence({ rule: 'error_rate', subject: 'shop/production/web', project: 'shop', until: new Date(T0 + 3_600_000).toISOString(), reason: 'load test', createdBy: 'admin', createdAt: new Date(T0).toISOString() });
  const e = w.evaluator();
  await run(w, e, 0, 12, () => figures(100, 50, 40));
  const [a] = await w.store.listAlerts({});
  assert.equal(a?.silenced, true);
  await run(w, e, 13, 30, () => figures(100, 0, 40));
  assert.deepEqual(await w.store.listAlerts({}), []);
  assert.deepEqual(await events(w.store), []);
});

test('the loop restarted while an alert fires: it stays one alert, and resolves once', async (t) => {
  const w = await world(t, errorRule);
  await run(w, w.evaluator(), 0, 12, () => figures(100, 50, 40));
  const again = w.evaluator();
  await run(w, again, 13, 20, () => figures(100, 50, 40));
  assert.equal((await w.store.listAlerts({ all: true })).length, 1);
  await run(w, again, 21, 30, () => figures(100, 0, 40));
  assert.deepEqual((await events(w.store)).map((x) => x.type), ['alert.firing', 'alert.resolved']);
});

test('a rule turned off by a new release resolves its firing alert (no longer watched)', async (t) => {
  const w = await world(t, errorRule);
  const e = w.evaluator();
  await run(w, e, 0, 12, () => figures(100, 50, 40));
  await w.live({ error_rate: null });
  await run(w, e, 13, 13, () => figures(100, 50, 40));
  const [a] = await w.store.listAlerts({ all: true });
  assert.equal(a?.state, 'resolved');
  assert.match(a!.summary, /no longer watched/);
});

test('p99 over its threshold fires; the defaults set through the API apply to services that write nothing', async (t) => {
  const w = await world(t, undefined);
  await w.store.setSetting(ALERT_DEFAULTS_SETTING, JSON.stringify({ p99: { above: '200ms', for: '5s', min_requests: 10 }, error_rate: 'off' }));
  const e = w.evaluator();
  await run(w, e, 0, 6, () => figures(50, 40, 350));
  const alerts = await w.store.listAlerts({});
  assert.deepEqual(alerts.map((a) => [a.rule, a.value]), [['p99', 350]], 'p99 fired; error_rate is off by the defaults');
});

test('crash loop: K restarts within N minutes fire at once; the alert resolves when the window has slid past them. OOM kills fire their own rule', async (t) => {
  const w = await world(t, { crash_loop: { restarts: 3, withinMs: 60_000 }, oom: { withinMs: 60_000 } });
  const e = w.evaluator();
  const restart = (s: number, reason: 'exited' | 'oom_killed') =>
    w.store.recordReplicaRestart({ project: 'shop', env: 'production', service: 'web', release: 1, slot: 1, at: T0 + s * 1000, reason, exitCode: reason === 'exited' ? 1 : 137, replica: `shop-web-${s}`, deploymentId: `d${s}` });
  await restart(1, 'exited');
  await restart(2, 'exited');
  await run(w, e, 3, 3, () => figures(0, 0, null));
  assert.deepEqual(await w.store.listAlerts({}), [], 'two restarts: not yet a loop');
  await restart(4, 'oom_killed');
  await run(w, e, 5, 5, () => figures(0, 0, null));
  assert.deepEqual((await w.store.listAlerts({})).map((a) => [a.rule, a.value]).sort(), [['crash_loop', 3], ['oom', 1]]);
  await run(w, e, 62, 62, () => figures(0, 0, null));
  assert.deepEqual((await w.store.listAlerts({})).map((a) => a.rule), ['oom'], 'the first restart left the window');
  await run(w, e, 65, 65, () => figures(0, 0, null));
  assert.deepEqual(await w.store.listAlerts({}), []);
});

test('host rules: disk over its share for its `for`, a failing certificate, the edge down', async (t) => {
  const w = await world(t, undefined);
  await w.store.setSetting(ALERT_DEFAULTS_SETTING, JSON.stringify({ disk: { above: '90%', for: '2s', clear_for: '1s' }, edge_down: { for: '3s' }, certificate: { failures: 2 } }));
  let edgeDownSince: number | null = null;
  const e = new AlertEvaluator({ store: w.store, logger, now: () => w.clock.get(), edgeDown: () => (edgeDownSince === null ? null : { reason: 'HAProxy exited', since: edgeDownSince }) });
  const sample = (s: number, usedShare: number) =>
    w.store.addResourceSamples([], [{ server: 'local', at: T0 + s * 1000, spanMs: 1000, cpuPercent: 5, cpus: 2, memoryUsedBytes: 1, memoryTotalBytes: 100, diskUsedBytes: usedShare * 1000, diskTotalBytes: 1000, diskAvailableBytes: (1 - usedShare) * 1000 }]);
  await w.store.putCertificate({ domain: 'shop.example.com', source: 'acme', status: 'failed', certPem: null, keyId: null, sealedKey: null, domains: ['shop.example.com'], notBefore: null, notAfter: null, issuer: null, fingerprint256: null, renewAt: null, issuedAt: null, lastError: 'urn:ietf:params:acme:error:dns', failures: 2, nextAttemptAt: null });
  for (let s = 0; s <= 4; s++) {
    await sample(s, 0.95);
    if (s === 1) edgeDownSince = T0 + 1000;
    w.clock.set(s * 1000);
    await e.tick();
  }
  const firing = await w.store.listAlerts({});
  assert.deepEqual(firing.map((a) => [a.rule, a.subject]).sort(), [['certificate', 'certificate:shop.example.com'], ['disk', 'local'], ['edge_down', 'local']]);
  assert.match(firing.find((a) => a.rule === 'disk')!.summary, /95 % of the data directory's disk in use/);
  edgeDownSince = null;
  await sample(5, 0.5);
  w.clock.set(5000);
  await e.tick();
  await sample(6, 0.5);
  w.clock.set(6000);
  await e.tick();
  assert.deepEqual((await w.store.listAlerts({})).map((a) => a.rule), ['certificate']);
  // A host sample older than two minutes is no figure: the disk alert neither fires nor clears on it.
  w.clock.set(200_000);
  await e.tick();
  assert.deepEqual((await w.store.listAlerts({})).map((a) => a.rule), ['certificate']);
});

test('backup verification: fires when the newest verification of an accessory\'s backups failed, resolves when a newer one passed', async (t) => {
  const w = await world(t, undefined);
  const project = (await w.store.getProject('shop'))!;
  const env = (await w.store.getEnvironment(project.id, 'production'))!;
  await w.store.saveAccessory({
    environmentId: env.id,
    name: 'db',
    kind: 'postgres',
    config: { name: 'db', kind: 'postgres', image: 'slipway/postgres:15', builtIn: true, version: '15', port: 5432, volumes: [], env: {}, command: null, health: { kind: 'exec', path: null, port: null, command: ['pg_isready'], intervalMs: 500, timeoutMs: 5000, deadlineMs: 60_000 }, resources: { memoryBytes: null, cpus: null }, stopTimeoutMs: 10_000, database: 'shop' },
    imageDigest: 'sha256:pg',
    specHash: 'h',
  });
  const verified = async (id: string, ok: boolean) => {
    await w.store.createBackup({ id, environmentId: env.id, accessory: 'db', type: 'full', trigger: 'schedule', deploymentId: null, triggeredBy: null });
    const at = new Date(w.clock.get()).toISOString();
    await w.store.updateBackup(id, { state: 'succeeded', finishedAt: at, verification: { state: ok ? 'passed' : 'failed', startedAt: at, finishedAt: at, durationMs: 10, checks: [{ name: 'pgbackrest verify', ok, detail: ok ? 'ok' : 'checksum invalid 1 file' }], error: ok ? null : 'pgbackrest verify: checksum invalid 1 file' } });
  };
  const e = w.evaluator();
  await verified('b1', false);
  await run(w, e, 0, 0, () => figures(0, 0, null));
  const [a] = await w.store.listAlerts({});
  assert.deepEqual({ rule: a?.rule, subject: a?.subject, link: a?.link }, { rule: 'backup_verify', subject: 'backup:shop/production/db', link: '/backups/shop/production' });
  assert.match(a!.summary, /verification of backup b1 failed: pgbackrest verify: checksum invalid 1 file/);
  await new Promise((r) => setTimeout(r, 5));
  await verified('b2', true);
  await run(w, e, 1, 1, () => figures(0, 0, null));
  assert.deepEqual(await w.store.listAlerts({}), []);
  assert.deepEqual((await events(w.store)).map((x) => x.type), ['alert.firing', 'alert.resolved']);
});
