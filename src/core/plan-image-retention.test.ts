import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RETAINED_RELEASES, digestsIn, planImageRetention, type RetentionRelease } from './plan-image-retention';

const d = (n: number | string) => `sha256:${String(n).padStart(64, '0')}`;
/** Releases v1..vN of a scope, each with its own image (digest = scope-unique number). */
const series = (scope: string, count: number, base = 0): RetentionRelease[] =>
  Array.from({ length: count }, (_, i) => ({ scope, number: i + 1, imageDigest: d(base + i + 1) }));

describe('planImageRetention', () => {
  it('removes the images of releases beyond the newest N, oldest first', () => {
    const plan = planImageRetention({ scope: 'a', releases: series('a', 6), retained: new Map([['a', 3]]), protectedDigests: [] });
    assert.deepEqual(plan.releases, [1, 2, 3]);
    assert.deepEqual(plan.remove, [d(1), d(2), d(3)]);
  });

  it('keeps the default of 10 when the scope has no setting (or a nonsense one)', () => {
    assert.equal(DEFAULT_RETAINED_RELEASES, 10);
    const plan = planImageRetention({ scope: 'a', releases: series('a', 12), retained: new Map(), protectedDigests: [] });
    assert.deepEqual(plan.releases, [1, 2]);
    const bad = planImageRetention({ scope: 'a', releases: series('a', 12), retained: new Map([['a', 0]]), protectedDigests: [] });
    assert.deepEqual(bad.releases, [1, 2]);
  });

  it('removes nothing while the scope has N releases or fewer', () => {
    assert.deepEqual(planImageRetention({ scope: 'a', releases: series('a', 3), retained: new Map([['a', 3]]), protectedDigests: [] }).remove, []);
    assert.deepEqual(planImageRetention({ scope: 'a', releases: [], retained: new Map(), protectedDigests: [] }).remove, []);
  });

  it('never removes a protected digest (live, warm, canary, pending, in a container)', () => {
    const plan = planImageRetention({ scope: 'a', releases: series('a', 6), retained: new Map([['a', 2]]), protectedDigests: [d(1), d(3)] });
    assert.deepEqual(plan.remove, [d(2), d(4)]);
  });

  it('keeps an old release whose image a newer release of the same scope uses again (rollback/redeploy)', () => {
    const releases = [...series('a', 5), { scope: 'a', number: 6, imageDigest: d(1) }];
    const plan = planImageRetention({ scope: 'a', releases, retained: new Map([['a', 2]]), protectedDigests: [] });
    assert.deepEqual(plan.remove, [d(2), d(3), d(4)]);
    assert.deepEqual(plan.releases, [2, 3, 4], 'v1 shares v6\'s digest and is not listed as pruned');
  });

  it('keeps a digest promoted to another environment while that environment retains it', () => {
    // staging v1..v5; production got staging's v1 image as its v1 (promotion copies the digest).
    const releases = [...series('staging', 5), { scope: 'production', number: 1, imageDigest: d(1) }, { scope: 'production', number: 2, imageDigest: d(2) }];
    const plan = planImageRetention({ scope: 'staging', releases, retained: new Map([['staging', 1], ['production', 1]]), protectedDigests: [] });
    // d(2) is production's newest (retained); d(1) is beyond production's retention too: it goes.
    assert.deepEqual(plan.remove, [d(1), d(3), d(4)]);
  });

  it('uses each scope\'s own retention for the digests it keeps', () => {
    const releases = [...series('a', 4), { scope: 'b', number: 1, imageDigest: d(1) }, { scope: 'b', number: 2, imageDigest: d(99) }];
    // b keeps 2: its v1 (d1) is within retention, so a's v1 image stays.
    const plan = planImageRetention({ scope: 'a', releases, retained: (s) => (s === 'a' ? 1 : 2), protectedDigests: [] });
    assert.deepEqual(plan.remove, [d(2), d(3)]);
  });

  it('a digest used by another project is the same digest: kept while that project keeps it', () => {
    const releases = [...series('p1:web', 3), { scope: 'p2:api', number: 7, imageDigest: d(2) }];
    const plan = planImageRetention({ scope: 'p1:web', releases, retained: new Map([['p1:web', 1]]), protectedDigests: [] });
    assert.deepEqual(plan.remove, [d(1)]);
  });

  it('lists a digest once when several old releases share it', () => {
    const releases = [
      { scope: 'a', number: 1, imageDigest: d(1) },
      { scope: 'a', number: 2, imageDigest: d(1) },
      { scope: 'a', number: 3, imageDigest: d(3) },
    ];
    const plan = planImageRetention({ scope: 'a', releases, retained: new Map([['a', 1]]), protectedDigests: [] });
    assert.deepEqual(plan.remove, [d(1)]);
    assert.deepEqual(plan.releases, [1, 2]);
  });

  it('never proposes a digest of the newest N of the target scope, whatever the input order', () => {
    const releases = series('a', 20).reverse();
    for (let n = 1; n <= 20; n++) {
      const plan = planImageRetention({ scope: 'a', releases, retained: new Map([['a', n]]), protectedDigests: [] });
      assert.equal(plan.remove.length, 20 - n);
      for (let k = 20 - n + 1; k <= 20; k++) assert.ok(!plan.remove.includes(d(k)), `v${k} is within the newest ${n}`);
    }
  });

  it('only removes images of the target scope', () => {
    const releases = [...series('a', 2), ...series('b', 5, 100)];
    const plan = planImageRetention({ scope: 'a', releases, retained: new Map([['a', 1], ['b', 1]]), protectedDigests: [] });
    assert.deepEqual(plan.remove, [d(1)]);
  });
});

describe('digestsIn', () => {
  it('finds digests anywhere in a stored plan and ignores other strings', () => {
    const plan = { kind: 'promote', image: { ref: 'x', digest: d(5) }, source: { imageDigest: d(6), env: 'staging' }, list: [d(7), 'sha256:short'] };
    assert.deepEqual([...digestsIn(plan)].sort(), [d(5), d(6), d(7)]);
    assert.equal(digestsIn(null).size, 0);
  });
});
