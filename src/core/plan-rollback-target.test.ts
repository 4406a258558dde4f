import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planRollbackTarget, releaseHistories, type DeploymentFact } from './plan-rollback-target';
import type { DeploymentKind, DeploymentState } from './domain';

const rel = (n: number) => ({ id: 100 + n, number: n });
let clock = 0;
/** A deployment of release vN that ended in `state`, one minute after the previous one. */
const dep = (n: number, state: DeploymentState, kind: DeploymentKind = 'deploy'): DeploymentFact => {
  clock += 1;
  const at = new Date(Date.UTC(2026, 0, 1, 0, clock)).toISOString();
  return { releaseId: 100 + n, kind, state, createdAt: at, finishedAt: ACTIVE.includes(state) ? null : at };
};
const ACTIVE: DeploymentState[] = ['queued', 'building', 'releasing', 'rolling'];

test('after a failed v9 and a live v10, a rollback with no version goes to v8 and says v9 never went live', () => {
  const releases = [rel(10), rel(9), rel(8)];
  const deployments = [dep(8, 'succeeded'), dep(9, 'failed'), dep(10, 'succeeded')];
  const t = planRollbackTarget({ service: 'web', env: 'production', releases, deployments, currentId: 110 });
  assert.ok(t.ok);
  assert.equal(t.release.number, 8);
  assert.match(t.why, /^rolling back to v8 \(live until 2026-01-01T00:\d\d:00\.000Z; v9 never went live\)$/);
});

test('cancelled, interrupted and canary-aborted releases are skipped too; the old code would have picked the one just below', () => {
  const releases = [rel(5), rel(4), rel(3), rel(2), rel(1)];
  const deployments = [dep(1, 'succeeded'), dep(2, 'cancelled'), dep(3, 'rolled_back'), dep(4, 'failed'), dep(5, 'succeeded')];
  const t = planRollbackTarget({ service: 'web', env: 'production', releases, deployments, currentId: 105 });
  assert.ok(t.ok);
  assert.equal(t.release.number, 1);
  assert.match(t.why, /v4, v3, v2 never went live/);
});

test('the newest release below the live one that went live wins, even if it was rolled back from later', () => {
  // v1 live, v2 live, rollback to v1, v3 live: v2 did serve, so it is the target.
  const releases = [rel(3), rel(2), rel(1)];
  const deployments = [dep(1, 'succeeded'), dep(2, 'succeeded'), dep(1, 'succeeded', 'rollback'), dep(3, 'succeeded')];
  const t = planRollbackTarget({ service: 'web', env: 'production', releases, deployments, currentId: 103 });
  assert.ok(t.ok);
  assert.equal(t.release.number, 2);
});

test('a rollback from v2 back to v1 (blue-green warm set) still targets v1; after it, v2 shows rolled_back', () => {
  const releases = [rel(2), rel(1)];
  const deployments = [dep(1, 'succeeded'), dep(2, 'succeeded')];
  const t = planRollbackTarget({ service: 'web', env: 'production', releases, deployments, currentId: 102 });
  assert.ok(t.ok);
  assert.equal(t.release.number, 1);
  const after = releaseHistories(releases, [...deployments, dep(1, 'succeeded', 'rollback')], 101);
  assert.equal(after.get(102)!.outcome, 'rolled_back');
  assert.equal(after.get(101)!.outcome, 'live');
});

test('outcomes: live, was_live with the end of its period, never_live, deploying; repairs do not end a period', () => {
  const releases = [rel(4), rel(3), rel(2), rel(1)];
  const d1 = dep(1, 'succeeded');
  const r1 = dep(1, 'succeeded', 'repair');
  const d2 = dep(2, 'failed');
  const d3 = dep(3, 'succeeded');
  const d4 = dep(4, 'rolling');
  const h = releaseHistories(releases, [d4, d3, d2, r1, d1], 103);
  assert.deepEqual(h.get(101), { outcome: 'was_live', wentLive: true, liveUntil: d3.finishedAt });
  assert.deepEqual(h.get(102), { outcome: 'never_live', wentLive: false, liveUntil: null });
  assert.deepEqual(h.get(103), { outcome: 'live', wentLive: true, liveUntil: null });
  assert.deepEqual(h.get(104), { outcome: 'deploying', wentLive: false, liveUntil: null });
});

test('a named release that never went live is refused with a conflict asking for force; with force it is the target', () => {
  const releases = [rel(3), rel(2), rel(1)];
  const deployments = [dep(1, 'succeeded'), dep(2, 'failed'), dep(3, 'succeeded')];
  const refused = planRollbackTarget({ service: 'web', env: 'production', releases, deployments, currentId: 103, requested: 2 });
  assert.equal(refused.ok, false);
  assert.ok(!refused.ok && refused.code === 'SLW_CONFLICT' && /v2 of web never went live/.test(refused.message) && /--force/.test(refused.message));
  const forced = planRollbackTarget({ service: 'web', env: 'production', releases, deployments, currentId: 103, requested: 2, force: true });
  assert.ok(forced.ok && forced.release.number === 2 && /never went live; forced/.test(forced.why));
  const named = planRollbackTarget({ service: 'web', env: 'production', releases, deployments, currentId: 103, requested: 1 });
  assert.ok(named.ok && named.release.number === 1);
});

test('no target: an unknown number, no live release, nothing earlier, nothing earlier that went live', () => {
  const releases = [rel(2), rel(1)];
  const unknown = planRollbackTarget({ service: 'web', env: 'production', releases, deployments: [], currentId: 102, requested: 7 });
  assert.ok(!unknown.ok && unknown.code === 'SLW_NOT_FOUND' && /v7 of web does not exist/.test(unknown.message));
  const noLive = planRollbackTarget({ service: 'web', env: 'production', releases, deployments: [], currentId: null });
  assert.ok(!noLive.ok && /no live release/.test(noLive.message));
  const first = planRollbackTarget({ service: 'web', env: 'production', releases: [rel(1)], deployments: [dep(1, 'succeeded')], currentId: 101 });
  assert.ok(!first.ok && /no release before v1/.test(first.message));
  const neverLive = planRollbackTarget({ service: 'web', env: 'production', releases, deployments: [dep(1, 'failed'), dep(2, 'succeeded')], currentId: 102 });
  assert.ok(!neverLive.ok && neverLive.code === 'SLW_NOT_FOUND' && /that went live; v1 never went live/.test(neverLive.message));
});

test('a release slipway stop made is no default target (a rollback never stops a service), but can be named; from a stopped service a rollback starts it', () => {
  const stopped = (n: number) => ({ ...rel(n), stopped: true });
  // v1 deploy, v2 stop, v3 start: rolling back from v3 goes to v1, not to the stop.
  const releases = [rel(3), stopped(2), rel(1)];
  const deployments = [dep(1, 'succeeded'), dep(2, 'succeeded', 'stop'), dep(3, 'succeeded', 'start')];
  const t = planRollbackTarget({ service: 'web', env: 'production', releases, deployments, currentId: 103 });
  assert.ok(t.ok);
  assert.equal(t.release.number, 1);
  assert.match(t.why, /^rolling back to v1 \(live until [^;]+; v2 stopped the service \(slipway stop\)\)$/);
  const named = planRollbackTarget({ service: 'web', env: 'production', releases, deployments, currentId: 103, requested: 2 });
  assert.ok(named.ok && named.release.number === 2, 'named, it is a release that went live');
  // Stopped now (v2 live): the rollback goes to the release before the stop, which runs replicas.
  const fromStop = planRollbackTarget({ service: 'web', env: 'production', releases: [stopped(2), rel(1)], deployments: deployments.slice(0, 2), currentId: 102 });
  assert.ok(fromStop.ok && fromStop.release.number === 1);
  // Only stops below: none to go to, and the message says why.
  const none = planRollbackTarget({ service: 'web', env: 'production', releases: [rel(3), stopped(2)], deployments: [dep(2, 'succeeded', 'stop'), dep(3, 'succeeded', 'start')], currentId: 103 });
  assert.ok(!none.ok);
  assert.match(none.message, /has no release before v3 in production that went live; v2 stopped the service \(slipway stop\); name one/);
});
