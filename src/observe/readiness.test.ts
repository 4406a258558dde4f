import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readinessReport } from '../core/contract/readiness';
import { checkReadiness } from './readiness';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('all checks pass: healthy, with a latency per check', async () => {
  const r = await checkReadiness({ store: async () => undefined, docker: () => sleep(20) }, { version: '1.2.3', timeoutMs: 500 });
  assert.equal(r.status, 'healthy');
  assert.equal(r.version, '1.2.3');
  assert.deepEqual(Object.keys(r.checks), ['store', 'docker']);
  assert.equal(r.checks.docker?.status, 'pass');
  assert.ok(r.checks.docker!.latency_ms >= 15, `latency ${r.checks.docker!.latency_ms}`);
  readinessReport.parse(r);
});

test('a failing dependency: degraded, naming it and why', async () => {
  const r = await checkReadiness(
    { store: async () => undefined, docker: async () => Promise.reject(new Error('connect ENOENT /var/run/docker.sock')) },
    { version: 'x', timeoutMs: 500, critical: ['store'] },
  );
  assert.equal(r.status, 'degraded');
  assert.deepEqual(r.checks.docker, { status: 'fail', latency_ms: r.checks.docker!.latency_ms, output: 'connect ENOENT /var/run/docker.sock' });
  assert.equal(r.checks.store?.status, 'pass');
  readinessReport.parse(r);
});

test('a hanging dependency fails at the timeout, aborted, and the report comes in time', async () => {
  let aborted = false;
  const started = Date.now();
  const r = await checkReadiness(
    {
      docker: (signal) => new Promise(() => signal.addEventListener('abort', () => (aborted = true))),
      edge: () => new Promise(() => undefined),
      store: async () => undefined,
    },
    { version: 'x', timeoutMs: 150 },
  );
  const took = Date.now() - started;
  assert.ok(took < 400, `answered after ${took} ms`);
  assert.equal(r.status, 'degraded');
  assert.equal(r.checks.docker?.output, 'no answer within 150 ms');
  assert.equal(r.checks.edge?.status, 'fail');
  assert.ok(aborted, 'the hanging check was told to give up');
});

test('a failing critical check (the store) is unhealthy', async () => {
  const r = await checkReadiness({ store: async () => { throw new Error('SQLITE_CANTOPEN'); }, docker: async () => undefined }, { version: 'x', timeoutMs: 100, critical: ['store'] });
  assert.equal(r.status, 'unhealthy');
});

test('the startup check failing: starting (boot recovery not done), unless a critical check fails too', async () => {
  const booting = async () => Promise.reject(new Error('starting: bringing 2 live service(s) back'));
  const r = await checkReadiness({ store: async () => undefined, startup: booting, edge: async () => Promise.reject(new Error('down')) }, { version: 'x', timeoutMs: 500, critical: ['store'], startup: 'startup' });
  assert.equal(r.status, 'starting');
  assert.equal(r.checks.startup?.output, 'starting: bringing 2 live service(s) back');
  readinessReport.parse(r);
  const worse = await checkReadiness({ store: async () => Promise.reject(new Error('locked')), startup: booting }, { version: 'x', timeoutMs: 500, critical: ['store'], startup: 'startup' });
  assert.equal(worse.status, 'unhealthy');
  const done = await checkReadiness({ store: async () => undefined, startup: async () => undefined }, { version: 'x', timeoutMs: 500, critical: ['store'], startup: 'startup' });
  assert.equal(done.status, 'healthy');
});
