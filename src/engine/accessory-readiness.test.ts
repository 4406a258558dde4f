import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AccessoryConfig } from '../core/config';
import { isSlipwayError } from '../core/errors';
import type { AccessoryContainer, ExecResult } from '../core/ports/runtime';
import type { ProbeResult } from '../core/ports/probe';
import { checkAccessoryOnce, NO_HEALTH_RUNNING_MS, waitForAccessoryReady } from './accessory-readiness';
import { accessoryConfig } from './accessory-world.test-support';

const container = (over: Partial<AccessoryContainer> = {}): AccessoryContainer => ({
  id: 'c1',
  server: 'local',
  name: 'shop-cache-production-abcdef',
  labels: { project: 'shop', env: 'production', accessory: 'cache', spec: 'h' },
  state: 'running',
  address: '10.213.0.7',
  image: 'sha256:x',
  startedAt: null,
  exitCode: null,
  oomKilled: false,
  resources: { memoryBytes: null, cpus: null },
  ...over,
});

function deps(opts: { exec?: ExecResult[]; state?: () => Partial<AccessoryContainer> | null; http?: ProbeResult[]; tcp?: ProbeResult[] } = {}) {
  const seen = { exec: [] as Array<{ argv: string[]; env?: Record<string, string> }>, http: [] as string[], tcp: [] as string[], slept: [] as number[] };
  const runtime = {
    exec: async (_id: string, argv: string[], o: { env?: Record<string, string> }) => {
      seen.exec.push({ argv, env: o.env });
      return opts.exec?.shift() ?? { exitCode: 0, timedOut: false, output: '' };
    },
    listAccessories: async () => {
      const s = opts.state ? opts.state() : {};
      return s === null ? [] : [container(s)];
    },
  };
  const fail = { ok: false, status: null, error: 'ECONNREFUSED', durationMs: 1 };
  return {
    seen,
    d: {
      runtime: runtime as never,
      probe: async (url: string) => {
        seen.http.push(url);
        return opts.http?.shift() ?? { ok: true, status: 200, error: null, durationMs: 1 };
      },
      tcpProbe: async (host: string, port: number) => {
        seen.tcp.push(`${host}:${port}`);
        return opts.tcp?.shift() ?? fail;
      },
      mask: (t: string) => t.replaceAll('s3cr3tpassword', '[secret]'),
      sleep: async (ms: number) => void seen.slept.push(ms),
    },
  };
}

const redis = accessoryConfig('cache', 'redis');

test('exec: polls the command with the check env (password) until it exits 0', async () => {
  const { d, seen } = deps({ exec: [{ exitCode: 1, timedOut: false, output: 'Could not connect' }, { exitCode: 1, timedOut: false, output: 'LOADING' }] });
  const r = await waitForAccessoryReady(container(), redis, { password: 's3cr3tpassword' }, d);
  assert.equal(r.checks, 3);
  assert.deepEqual(seen.exec[0]!.argv, redis.health!.command);
  assert.deepEqual(seen.exec[0]!.env, { REDISCLI_AUTH: 's3cr3tpassword' });
  assert.deepEqual(seen.slept, [1, 1]);
});

test('tcp on the container address and port; http on the health port and path (nats /healthz on 8222)', async () => {
  const tcpCfg = accessoryConfig('search', 'container', { port: 7700, health: { kind: 'tcp', path: null, port: null, command: null, intervalMs: 5, timeoutMs: 100, deadlineMs: 1000 } });
  const ok = { ok: true, status: null, error: null, durationMs: 1 };
  const t = deps({ tcp: [{ ok: false, status: null, error: 'ECONNREFUSED', durationMs: 1 }, ok] });
  await waitForAccessoryReady(container(), tcpCfg, {}, t.d);
  assert.deepEqual(t.seen.tcp, ['10.213.0.7:7700', '10.213.0.7:7700']);
  const nats: AccessoryConfig = { ...accessoryConfig('bus', 'nats'), health: { kind: 'http', path: '/healthz', port: 8222, command: null, intervalMs: 5, timeoutMs: 100, deadlineMs: 1000 } };
  const h = deps({ http: [{ ok: false, status: 503, error: null, durationMs: 1 }] });
  await waitForAccessoryReady(container(), nats, { password: 'p' }, h.d);
  assert.deepEqual(h.seen.http, ['http://10.213.0.7:8222/healthz', 'http://10.213.0.7:8222/healthz']);
});

test('a container that stops while waiting fails at once, naming the accessory and the OOM killer', async () => {
  const { d } = deps({ exec: [{ exitCode: 1, timedOut: false, output: '' }], state: () => ({ state: 'exited', exitCode: 137, oomKilled: true }) });
  await assert.rejects(
    waitForAccessoryReady(container(), redis, { password: 'x' }, d),
    (err) => isSlipwayError(err) && err.code === 'SLW_HEALTH_FAILED' && err.message === 'accessory cache stopped before becoming ready (exit code 137, killed by the OOM killer (raise resources.memory))',
  );
  const gone = deps({ exec: [{ exitCode: 1, timedOut: false, output: '' }], state: () => null });
  await assert.rejects(waitForAccessoryReady(container(), redis, { password: 'x' }, gone.d), /its container is gone/);
});

test('the deadline: SLW_HEALTH_FAILED with the last check result, masked', async () => {
  const cfg = { ...redis, health: { ...redis.health!, deadlineMs: 30, intervalMs: 1 } };
  const fails = Array.from({ length: 10_000 }, () => ({ exitCode: 1, timedOut: false, output: 'NOAUTH wrong password s3cr3tpassword\n' }));
  const { d } = deps({ exec: fails });
  d.sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  await assert.rejects(waitForAccessoryReady(container(), cfg, { password: 's3cr3tpassword' }, d), (err) => {
    assert.ok(isSlipwayError(err));
    assert.equal(err.code, 'SLW_HEALTH_FAILED');
    assert.match(err.message, /^accessory cache did not become ready within 0s \(exec check; last: sh exited 1: NOAUTH wrong password \[secret\]\)$/);
    assert.equal(err.details[0]!.path, 'accessories.cache.health');
    return true;
  });
});

test('no health: ready once it has run for 1 s; an exited one is not', async () => {
  const cfg = accessoryConfig('logship', 'container', { health: null });
  const { d, seen } = deps();
  await waitForAccessoryReady(container(), cfg, {}, d);
  assert.deepEqual(seen.slept, [NO_HEALTH_RUNNING_MS]);
  const dead = deps({ state: () => ({ state: 'exited', exitCode: 1 }) });
  await assert.rejects(waitForAccessoryReady(container(), cfg, {}, dead.d), /stopped before becoming ready \(exit code 1\)/);
  assert.deepEqual(await checkAccessoryOnce(container({ state: 'exited' }), cfg, {}, d), { ok: false, detail: 'exited' });
});
