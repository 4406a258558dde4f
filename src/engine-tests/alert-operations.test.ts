/**
 * What the API does with alerts (engine/alert-operations.ts) on a real in-memory store: the
 * rules in force through every layer, defaults refused when invalid, silences and who may set them.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import pino from 'pino';
import type { SlipwayError } from '../core/errors';
import { SERVICE_DEFAULTS } from '../core/stored-service-config';
import { AlertOperations } from '../engine/alert-operations';
import { openSqliteStore } from '../store/sqlite-store';

const T0 = Date.UTC(2026, 11, 8, 1, 0, 0);

async function world(t: TestContext) {
  const store = await openSqliteStore({ file: ':memory:', logger: pino({ level: 'silent' }) });
  t.after(() => store.close());
  await store.migrate();
  for (const name of ['shop', 'blog']) {
    const project = await store.upsertProject(name);
    const env = (await store.getEnvironment(project.id, 'production'))!;
    for (const [svc, port] of [['web', 3000], ['worker', null]] as const) {
      const service = await store.upsertService(project.id, svc, port ? 'web' : 'worker');
      const r = await store.createRelease({ serviceId: service.id, environmentId: env.id, imageRef: 'x:1', imageDigest: 'sha256:1', config: { ...SERVICE_DEFAULTS, name: svc, type: port ? 'web' : 'worker', port, ...(name === 'shop' && svc === 'web' ? { alerts: { error_rate: { above: 0.01 }, p99: { aboveMs: 300 } } } : {}) }, sourceRef: null, secretsVersion: null });
      await store.setCurrentReleaseId(service.id, env.id, r.id);
    }
  }
  return { store, ops: new AlertOperations(store, () => T0) };
}

const code = (c: string) => (err: unknown) => (err as SlipwayError).code === c;

test('rules in force: built-in, then the server defaults, then slipway.yml; workers have no request rules', async (t) => {
  const { ops } = await world(t);
  await ops.setDefaults({ error_rate: { for: '2m' }, disk: 'off' });
  const rules = await ops.rules({ project: 'shop' });
  assert.deepEqual(rules.defaults, { error_rate: { for: '2m' }, disk: 'off' });
  assert.equal(rules.host.find((r) => r.rule === 'disk')?.on, false);
  const web = rules.services.find((s) => s.service === 'web')!;
  assert.equal(web.rules.find((r) => r.rule === 'error_rate')?.description, '5xx over 1 % for 2m0s (at least 20 requests; clears after 5m0s)');
  assert.equal(web.rules.find((r) => r.rule === 'p99')?.on, true);
  const worker = rules.services.find((s) => s.service === 'worker')!;
  assert.deepEqual(worker.rules.map((r) => r.rule), ['crash_loop', 'oom']);
  assert.deepEqual([...new Set((await ops.rules({})).services.map((s) => s.project))].sort(), ['blog', 'shop']);
  await assert.rejects(ops.setDefaults({ error_rate: { above: '300%' } }), code('SLW_BAD_REQUEST'));
  assert.deepEqual((await ops.rules({})).defaults, { error_rate: { for: '2m' }, disk: 'off' }, 'a refused change keeps what was there');
});

test('silences: a service, a project, a host rule; a project token keeps to its project; listed while in force; ended', async (t) => {
  const { ops } = await world(t);
  const s1 = await ops.silence({ rule: 'error_rate', project: 'shop', service: 'web', forMs: 7_200_000, reason: 'migration' }, 'alice', null);
  assert.deepEqual({ subject: s1.subject, project: s1.project, until: s1.until, createdBy: s1.createdBy }, { subject: 'shop/production/web', project: 'shop', until: new Date(T0 + 7_200_000).toISOString(), createdBy: 'alice' });
  const s2 = await ops.silence({ rule: 'crash_loop', project: 'blog', forMs: 60_000 }, 'bob', null);
  assert.equal(s2.subject, null);
  await ops.silence({ rule: 'disk', forMs: 60_000 }, 'admin', null);
  await assert.rejects(ops.silence({ rule: 'disk', project: 'shop', forMs: 60_000 }, 'admin', null), code('SLW_BAD_REQUEST'));
  await assert.rejects(ops.silence({ rule: 'error_rate', subject: 'x', forMs: 60_000 }, 'admin', null), code('SLW_BAD_REQUEST'));
  await assert.rejects(ops.silence({ rule: 'error_rate', project: 'nope', forMs: 60_000 }, 'admin', null), code('SLW_NOT_FOUND'));
  // A token restricted to shop: its services only, no host rules, only its silences.
  await assert.rejects(ops.silence({ rule: 'error_rate', project: 'blog', forMs: 60_000 }, 'ci', 'shop'), code('SLW_FORBIDDEN'));
  await assert.rejects(ops.silence({ rule: 'disk', forMs: 60_000 }, 'ci', 'shop'), code('SLW_FORBIDDEN'));
  await ops.silence({ rule: 'backup_verify', subject: 'backup:shop/production/db', forMs: 60_000 }, 'ci', 'shop');
  await assert.rejects(ops.unsilence(s2.id, 'shop'), code('SLW_NOT_FOUND'));
  assert.equal((await ops.list({ project: 'shop' })).silences.length, 2);
  assert.equal((await ops.list({})).silences.length, 4);
  await ops.unsilence(s1.id, 'shop');
  assert.equal((await ops.list({ project: 'shop' })).silences.length, 1);
  await assert.rejects(ops.unsilence(s1.id, null), code('SLW_NOT_FOUND'));
});
