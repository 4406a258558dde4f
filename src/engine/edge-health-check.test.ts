import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HealthConfig } from '../core/config';
import { SERVICE_DEFAULTS } from '../core/stored-service-config';
import { edgeCheckTarget, edgeHealthCheck } from './edge-health-check';

const health: HealthConfig = { ...SERVICE_DEFAULTS.health, path: '/health', intervalMs: 200, timeoutMs: 1500, graceMs: 0, successes: 1, deadlineMs: 5000 };

test('an HTTP service gets HTTP edge checks, with no kind written (backends recorded before kinds compare equal)', () => {
  const c = edgeHealthCheck({ health, domains: ['shop.example.com'] }, 'shop_web_production');
  assert.deepEqual(c, { path: '/health', host: 'shop.example.com', intervalMs: 1000, timeoutMs: 1500, fall: 3, rise: 2 });
  assert.deepEqual(edgeHealthCheck({ health: { ...health, kind: 'http' }, domains: [] }, 'b'), { ...c, host: 'b' });
  assert.equal(edgeCheckTarget(health), 'on /health');
});

test('tcp and exec services get TCP connect checks at the edge (HAProxy cannot exec in a container)', () => {
  for (const kind of ['tcp', 'exec'] as const) {
    const c = edgeHealthCheck({ health: { ...health, kind, command: kind === 'exec' ? ['true'] : null }, domains: [] }, 'b');
    assert.equal(c.kind, 'tcp');
    assert.equal(edgeCheckTarget({ kind, path: '/health' }), '(tcp connect)');
  }
});
