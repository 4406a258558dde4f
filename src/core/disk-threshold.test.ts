import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MIN_FREE_DISK, isDiskLow, parseMinFreeDisk, requiredFreeBytes } from './disk-threshold';

const GiB = 2 ** 30;

describe('parseMinFreeDisk', () => {
  it('reads a percentage, a size, both, or 0', () => {
    assert.deepEqual(parseMinFreeDisk(DEFAULT_MIN_FREE_DISK), { percent: 10, bytes: 2 * GiB });
    assert.deepEqual(parseMinFreeDisk('100%'), { percent: 100, bytes: null });
    assert.deepEqual(parseMinFreeDisk('500MB'), { percent: null, bytes: 500e6 });
    assert.deepEqual(parseMinFreeDisk(' 5 % '.replace(' %', '%')), { percent: 5, bytes: null });
    assert.deepEqual(parseMinFreeDisk('0'), { percent: null, bytes: 0 });
  });

  it('rejects nonsense with a message naming the variable and the form', () => {
    for (const bad of ['', 'lots', '150%', '2XB', '1%,2%', '1GB,2GB', '1,2,3']) {
      assert.throws(() => parseMinFreeDisk(bad), /SLIPWAY_MIN_FREE_DISK: expected a percentage and\/or a size such as "10%,2GiB"/, bad);
    }
  });
});

describe('isDiskLow', () => {
  const min = parseMinFreeDisk('10%,2GiB');

  it('is low below either bound', () => {
    assert.equal(requiredFreeBytes(min, 100 * GiB), 10 * GiB);
    assert.equal(isDiskLow(min, { totalBytes: 100 * GiB, availableBytes: 9 * GiB }, false), true);
    assert.equal(isDiskLow(min, { totalBytes: 100 * GiB, availableBytes: 11 * GiB }, false), false);
    // A small disk: 2 GiB is the larger bound.
    assert.equal(isDiskLow(min, { totalBytes: 10 * GiB, availableBytes: 1.5 * GiB }, false), true);
  });

  it('100% counts any disk as low; 0 never', () => {
    assert.equal(isDiskLow(parseMinFreeDisk('100%'), { totalBytes: 100 * GiB, availableBytes: 99 * GiB }, false), true);
    assert.equal(isDiskLow(parseMinFreeDisk('0'), { totalBytes: 100 * GiB, availableBytes: 0 }, false), false);
  });

  it('once low, stays low until free space clears the bound by a margin (hysteresis)', () => {
    const at = (gib: number, wasLow: boolean) => isDiskLow(min, { totalBytes: 100 * GiB, availableBytes: gib * GiB }, wasLow);
    assert.equal(at(9.9, false), true);
    assert.equal(at(10.2, true), true, 'just above the bound: still low');
    assert.equal(at(10.2, false), false, 'never low: not low');
    assert.equal(at(11.5, true), false, 'cleared by more than the margin');
  });
});
