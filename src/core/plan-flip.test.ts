import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flipWeights, planFlipBack, type FlipCandidate } from './plan-flip';
import { isExpired, keepWarmMs, parseWarmSet, warmSetFor } from './warm-set';
import { SERVICE_DEFAULTS } from './stored-service-config';
import type { DeployConfig } from './config';

const now = new Date('2030-01-01T12:00:00.000Z');
const warm = warmSetFor(1, 'dep-2', new Date(now.getTime() - 60_000), 5 * 60_000);
const replicas: FlipCandidate[] = [
  { name: 'v1-a', release: 1, running: true, edge: 'standby' },
  { name: 'v1-b', release: 1, running: true, edge: 'standby' },
  { name: 'v2-a', release: 2, running: true, edge: 'ready' },
  { name: 'v2-b', release: 2, running: true, edge: 'ready' },
];

test('a flip raises every new server before it cuts any old one', () => {
  assert.deepEqual(flipWeights(['g1', 'g2'], ['b1', 'b2']), [
    { name: 'g1', weight: 1 },
    { name: 'g2', weight: 1 },
    { name: 'b1', weight: 0 },
    { name: 'b2', weight: 0 },
  ]);
  assert.deepEqual(flipWeights(['g1'], []), [{ name: 'g1', weight: 1 }]);
  assert.throws(() => flipWeights(['a'], ['a']), /both up and down/);
});

test('rollback to the warm release inside its window is a flip back of the whole set', () => {
  assert.deepEqual(planFlipBack({ warm, target: 1, desired: 2, now, replicas }), { flip: true, up: ['v1-a', 'v1-b'], down: ['v2-a', 'v2-b'] });
});

test('anything less than the whole warm set, in its window, for that release, is a normal rollback with the reason', () => {
  const no = (input: Partial<Parameters<typeof planFlipBack>[0]>) => {
    const plan = planFlipBack({ warm, target: 1, desired: 2, now, replicas, ...input });
    assert.equal(plan.flip, false);
    return plan.flip ? '' : plan.reason;
  };
  assert.match(no({ warm: null }), /no warm set/);
  assert.match(no({ target: 3 }), /the warm set runs v1, not v3/);
  assert.match(no({ now: new Date(Date.parse(warm.retireAt)) }), /warm window of v1 ended at 2030-01-01T12:04:00.000Z/);
  assert.match(no({ replicas: replicas.map((r) => (r.name === 'v1-b' ? { ...r, running: false } : r)) }), /only 1 of the 2 warm replica\(s\) of v1 are on standby at the edge \(1 running\)/);
  assert.match(no({ replicas: replicas.map((r) => (r.name === 'v1-b' ? { ...r, edge: null } : r)) }), /only 1 of the 2/);
  assert.match(no({ replicas: replicas.map((r) => (r.name === 'v1-b' ? { ...r, edge: 'drain' as const } : r)) }), /only 1 of the 2/, 'a set already being retired is not flipped back to');
  assert.match(no({ desired: 3 }), /only 2 of the 3/);
});

test('the flip back cuts every server taking traffic, whatever its release', () => {
  const mixed: FlipCandidate[] = [...replicas, { name: 'v3-a', release: 3, running: true, edge: 'ready' }, { name: 'v0-a', release: 0, running: true, edge: 'drain' }];
  assert.deepEqual(planFlipBack({ warm, target: 1, desired: 2, now, replicas: mixed }), { flip: true, up: ['v1-a', 'v1-b'], down: ['v2-a', 'v2-b', 'v3-a'] });
});

test('keep_warm comes from the blue-green side of the flip; the window is stored as times', () => {
  const bg = (ms: number): DeployConfig => ({ ...SERVICE_DEFAULTS.deploy, strategy: 'blue-green', keepWarmMs: ms });
  const rolling: DeployConfig = { ...SERVICE_DEFAULTS.deploy, strategy: 'rolling' };
  assert.equal(keepWarmMs(bg(3000), rolling), 3000, 'a deploy: the new release decides');
  assert.equal(keepWarmMs(rolling, bg(7000)), 7000, 'a flip back to a release deployed rolling: the blue-green one it leaves decides');
  assert.deepEqual(warmSetFor(4, 'd', now, 3000), { release: 4, deploymentId: 'd', since: '2030-01-01T12:00:00.000Z', retireAt: '2030-01-01T12:00:03.000Z' });
  assert.equal(isExpired(warmSetFor(4, 'd', now, 3000), new Date(now.getTime() + 2999)), false);
  assert.equal(isExpired(warmSetFor(4, 'd', now, 3000), new Date(now.getTime() + 3000)), true);
});

test('a stored warm set is parsed strictly; anything else reads as none', () => {
  assert.deepEqual(parseWarmSet(JSON.stringify(warm)), warm);
  assert.equal(parseWarmSet(null), null);
  assert.equal(parseWarmSet(''), null);
  assert.equal(parseWarmSet('{not json'), null);
  assert.equal(parseWarmSet(JSON.stringify({ ...warm, release: 0 })), null);
  assert.equal(parseWarmSet(JSON.stringify({ ...warm, extra: 1 })), null);
});
