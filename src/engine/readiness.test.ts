import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HealthConfig } from '../core/config';
import { SERVICE_DEFAULTS } from '../core/stored-service-config';
import type { ProbeResult } from '../core/ports/probe';
import type { Replica, Runtime } from '../core/ports/runtime';
import { BOOT_POLL_MS, waitForReadiness } from './readiness';

const replica = { id: 'c1', name: 'shop-web-1', address: '10.0.0.2', port: 3000 } as Replica;
const health: HealthConfig = { ...SERVICE_DEFAULTS.health, path: '/health', intervalMs: 300, timeoutMs: 1000, graceMs: 0, successes: 2, deadlineMs: 5000 };
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

test('health.kind tcp: ready once the port accepts connections, successes times in a row', async () => {
  const calls: Array<[string, number]> = [];
  let n = 0;
  const tcpProbe = async (host: string, port: number): Promise<ProbeResult> => {
    calls.push([host, port]);
    return ++n < 3 ? refused : { ok: true, status: null, error: null, durationMs: 1 };
  };
  const runtime = { inspectReplica: async () => ({ ...replica, state: 'running' }) } as unknown as Runtime;
  const httpProbe = async (): Promise<ProbeResult> => assert.fail('no HTTP probe for kind tcp');
  const r = await waitForReadiness(replica, { ...health, intervalMs: 50, kind: 'tcp' }, { probe: httpProbe, tcpProbe, runtime });
  assert.equal(r.probes, 4, 'two refused, then two successes');
  assert.deepEqual(calls[0], ['10.0.0.2', 3000]);
});

test('health.kind tcp: a port that never opens fails naming the check and the last result', async () => {
  const runtime = { inspectReplica: async () => ({ ...replica, state: 'running' }) } as unknown as Runtime;
  await assert.rejects(
    waitForReadiness(replica, { ...health, intervalMs: 50, deadlineMs: 300, kind: 'tcp' }, { probe: async () => ok, tcpProbe: async () => refused, runtime }),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, 'SLW_HEALTH_FAILED');
      assert.match(err.message, /did not pass readiness \(tcp connect to port 3000\) within 0s \(last probe: ECONNREFUSED; 2 consecutive successes needed\)/);
      return true;
    },
  );
});

test('health.kind exec: runs the command in the replica, exit 0 counts, other codes fail with the code', async () => {
  const execs: Array<{ id: string; argv: string[]; timeoutMs: number }> = [];
  const codes = [1, 0, 0];
  const runtime = {
    exec: async (id: string, argv: string[], opts: { timeoutMs: number }) => {
      execs.push({ id, argv, timeoutMs: opts.timeoutMs });
      return { exitCode: codes.shift() ?? 0, timedOut: false, output: 'SECRET=hunter2' };
    },
  } as unknown as Runtime;
  const exec = { ...health, intervalMs: 20, kind: 'exec' as const, command: ['pg_isready', '-q'] };
  const r = await waitForReadiness(replica, exec, { probe: async () => assert.fail('no HTTP probe for kind exec'), runtime });
  assert.equal(r.probes, 3);
  assert.deepEqual(execs[0], { id: 'c1', argv: ['pg_isready', '-q'], timeoutMs: 1000 });

  const failing = { exec: async () => ({ exitCode: 3, timedOut: false, output: 'SECRET=hunter2' }) } as unknown as Runtime;
  await assert.rejects(waitForReadiness(replica, { ...exec, deadlineMs: 200 }, { probe: async () => ok, runtime: failing }), (err: Error) => {
    assert.match(err.message, /did not pass readiness \(exec \["pg_isready","-q"\]\) within 0s \(last probe: exit code 3;/);
    assert.doesNotMatch(err.message, /hunter2/, 'the check output is never relayed');
    return true;
  });
});

test('health.kind exec: a check that times out fails saying so; one that cannot run because the container stopped fails with its exit code', async () => {
  const timedOut = { exec: async () => ({ exitCode: null, timedOut: true, output: '' }), inspectReplica: async () => ({ ...replica, state: 'running' }) } as unknown as Runtime;
  await assert.rejects(waitForReadiness(replica, { ...health, intervalMs: 20, deadlineMs: 100, kind: 'exec', command: ['sleep', '9'] }, { probe: async () => ok, runtime: timedOut }), /last probe: timed out after 1000 ms/);
  const stopped = {
    exec: async () => {
      throw new Error('container c1 is not running');
    },
    inspectReplica: async () => ({ ...replica, state: 'exited', exitCode: 137 }),
  } as unknown as Runtime;
  await assert.rejects(waitForReadiness(replica, { ...health, kind: 'exec', command: ['true'] }, { probe: async () => ok, runtime: stopped }), /stopped before becoming ready \(exit code 137\)/);
});
