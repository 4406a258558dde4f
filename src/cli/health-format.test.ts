import assert from 'node:assert/strict';
import { test } from 'node:test';
import { edgeHealthCell, repairLine, restartsCell, restartsText } from './health-format';

test('status health cell: up, DOWN with how long, - when the edge does not check it', () => {
  assert.equal(edgeHealthCell('up', 40), 'up');
  assert.equal(edgeHealthCell('down', 12), 'DOWN 12s');
  assert.equal(edgeHealthCell('unchecked', null), '-');
});

test('status repair line: a recent successful repair says replicas were replaced, and where to read why', () => {
  const now = Date.parse('2026-01-01T10:00:00Z');
  const last = { id: 'd1', kind: 'repair', state: 'succeeded', finishedAt: '2026-01-01T09:59:00Z' };
  assert.equal(repairLine(last, now), '  replicas replaced by a repair 60s ago (dead or unhealthy): slipway deployment d1');
  assert.equal(repairLine({ ...last, kind: 'deploy' }, now), null);
  assert.equal(repairLine({ ...last, state: 'failed' }, now), null);
  assert.equal(repairLine({ ...last, finishedAt: '2026-01-01T08:00:00Z' }, now), null, 'an old repair is history, not status');
  assert.equal(repairLine(null, now), null);
});

test('status restarts: the service line counts repairs of the live release (24 h, last hour); a replica its slot\'s', () => {
  assert.equal(restartsText({ lastHour: 0, last24h: 0 }), '', 'nothing said when nothing restarted');
  assert.equal(restartsText({ lastHour: 0, last24h: 1 }), ', 1 restart in 24 h');
  assert.equal(restartsText({ lastHour: 2, last24h: 3 }), ', 3 restarts in 24 h (2 in the last hour)');
  assert.equal(restartsCell({ restarts: 0 }), '0');
  assert.equal(restartsCell({ restarts: 2, oomKilled: true }), '2 (OOM killed)');
});
