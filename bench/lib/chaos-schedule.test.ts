import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FAULT_KINDS, parseKinds, parseSeed, planSchedule, seededRandom } from './chaos-schedule';

test('the schedule has every kind `repeat` times, in time order, each fault inside its own slot', () => {
  const s = planSchedule({ kinds: FAULT_KINDS, repeat: 3, seconds: 400, seed: 7, warmupMs: 4000 });
  assert.equal(s.length, FAULT_KINDS.length * 3);
  for (const k of FAULT_KINDS) assert.equal(s.filter((f) => f.kind === k).length, 3, k);
  const slot = (400_000 - 4000) / s.length;
  s.forEach((f, i) => {
    assert.equal(f.n, i + 1);
    assert.ok(f.atMs >= 4000 + i * slot && f.atMs <= 4000 + i * slot + slot * 0.4 + 1, `fault ${f.n} at ${f.atMs} outside the first 40 % of slot ${i}`);
    assert.ok(f.deployDelayMs >= 0 && f.deployDelayMs <= 2000);
    assert.ok(f.pick >= 0 && f.pick < 1);
  });
});

test('the same seed gives the same schedule; another seed another order', () => {
  const a = planSchedule({ kinds: FAULT_KINDS, repeat: 2, seconds: 300, seed: 42 });
  assert.deepEqual(planSchedule({ kinds: FAULT_KINDS, repeat: 2, seconds: 300, seed: 42 }), a);
  const b = planSchedule({ kinds: FAULT_KINDS, repeat: 2, seconds: 300, seed: 43 });
  assert.notDeepEqual(b.map((f) => f.kind), a.map((f) => f.kind));
});

test('the order is shuffled: not simply the kinds repeated in their listed order', () => {
  const listed = [...FAULT_KINDS, ...FAULT_KINDS];
  const shuffledSeeds = [1, 2, 3, 4, 5].filter((seed) => JSON.stringify(planSchedule({ kinds: FAULT_KINDS, repeat: 2, seconds: 300, seed }).map((f) => f.kind)) !== JSON.stringify(listed));
  assert.equal(shuffledSeeds.length, 5);
});

test('too few seconds for the faults is refused, naming --seconds and what it needs', () => {
  assert.throws(() => planSchedule({ kinds: FAULT_KINDS, repeat: 3, seconds: 60, seed: 1 }), /--seconds: 60 s leaves .* for 18 faults .*expected at least 275/);
  assert.throws(() => planSchedule({ kinds: [], repeat: 1, seconds: 60, seed: 1 }), /--kinds/);
});

test('seededRandom is uniform enough in [0, 1) and deterministic', () => {
  const r = seededRandom(123);
  const xs = Array.from({ length: 10_000 }, () => r());
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.02, `mean ${mean}`);
  assert.equal(seededRandom(123)(), xs[0]);
});

test('--kinds and --seed are validated with the flag and what is expected', () => {
  assert.deepEqual(parseKinds('edge-all, replica'), ['replica', 'edge-all']);
  assert.throws(() => parseKinds('replica,edge'), /--kinds: expected a comma-separated subset of replica,cp-idle,cp-deploy,edge-worker,edge-all,dockerd, got "replica,edge"/);
  assert.throws(() => parseKinds(''), /--kinds/);
  assert.equal(parseSeed('0'), 0);
  assert.throws(() => parseSeed('-1'), /--seed: expected a whole number/);
  assert.throws(() => parseSeed('1.5'), /--seed/);
});
