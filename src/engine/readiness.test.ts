import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HealthConfig } from '../core/config';
import type { ProbeResult } from '../core/ports/probe';
import type { Replica, Runtime } from '../core/ports/runtime';
import { BOOT_POLL_MS, waitForReadiness } from './readiness';

const replica = { id: 'c1', name: 'shop-web-1', address: '10.0.0.2', port: 3000 } as Replica;
const health: HealthConfig = { path: '/health', intervalMs: 300, timeoutMs: 1000, graceMs: 0, successes: 2, deadlineMs: 5000 };
const refused: ProbeResult = { ok: false, status: null, error: 'ECONNREFUSED', durationMs: 0 };
const ok: ProbeResult = { ok: true, status: 200, error: null, durationMs: 1 };

/** A probe that is refused until `bootMs`, then answers 200; records when each probe ran. */
function bootingApp(bootMs: number) {
  const started = Date.now();
  const at: number[] = [];
  let inspections = 0;
  const probe = async () => {
    at.push(Date.now() - started);
    return Date.now() - started < bootMs ? refused : ok;
  };
  const runtime = {
    inspectReplica: async () => {
      inspections++;
      return { ...replica, state: 'running' };
    },
  } as unknown as Runtime;
  return { probe, runtime, at, inspections: () => inspections };
}

test('a booting app is probed every few ms until it answers, then at the interval', async () => {
  const app = bootingApp(120);
  const r = await waitForReadiness(replica, health, app);
  const connectedAt = app.at.findIndex((t) => t >= 120);
  assert.ok(connectedAt >= 3, `several quick probes while booting: ${app.at.join(', ')}`);
  for (let i = 1; i <= connectedAt; i++) assert.ok(app.at[i]! - app.at[i - 1]! < health.intervalMs / 2, `boot probes ~${BOOT_POLL_MS} ms apart: ${app.at.join(', ')}`);
  assert.equal(app.at.length, connectedAt + 2, 'two consecutive successes');
  assert.ok(app.at.at(-1)! - app.at.at(-2)! >= health.intervalMs - 5, `successes an interval apart: ${app.at.join(', ')}`);
  assert.ok(r.waitedMs < 120 + BOOT_POLL_MS + health.intervalMs + 100, `ready ${r.waitedMs} ms after start`);
  assert.ok(app.inspections() <= 2, `Docker asked at most once per interval while refused, not per probe (${app.inspections()})`);
});

test('a replica that exits while booting fails readiness at once with its exit code', async () => {
  const runtime = { inspectReplica: async () => ({ ...replica, state: 'exited', exitCode: 3 }) } as unknown as Runtime;
  await assert.rejects(waitForReadiness(replica, health, { probe: async () => refused, runtime }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'SLW_HEALTH_FAILED');
    assert.match(err.message, /stopped before becoming ready \(exit code 3\)/);
    return true;
  });
});

test('an app answering 500 is probed at the interval (it is up, just not healthy)', async () => {
  const at: number[] = [];
  const started = Date.now();
  const probe = async (): Promise<ProbeResult> => {
    at.push(Date.now() - started);
    return at.length < 3 ? { ok: false, status: 500, error: null, durationMs: 1 } : ok;
  };
  await waitForReadiness(replica, { ...health, intervalMs: 100 }, { probe, runtime: {} as Runtime });
  for (let i = 1; i < at.length; i++) assert.ok(at[i]! - at[i - 1]! >= 95, `interval spacing: ${at.join(', ')}`);
});
