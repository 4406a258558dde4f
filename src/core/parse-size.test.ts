import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryProblem, parseSize } from './parse-size';

test('sizes are binary units as Docker writes them, or a number of bytes', () => {
  assert.equal(parseSize('512m'), 512 * 1024 * 1024);
  assert.equal(parseSize('1g'), 1024 ** 3);
  assert.equal(parseSize('1.5G'), 1.5 * 1024 ** 3);
  assert.equal(parseSize('256k'), 256 * 1024);
  assert.equal(parseSize('64MiB'), 64 * 1024 ** 2);
  assert.equal(parseSize('64mb'), 64 * 1024 ** 2);
  assert.equal(parseSize('100b'), 100);
  assert.equal(parseSize('536870912'), 512 * 1024 * 1024, 'a quoted number is bytes');
  assert.equal(parseSize(7_000_000), 7_000_000);
  assert.equal(parseSize(1.5), 1, 'bytes are whole');
  for (const bad of ['lots', '1x', '-1m', '', '1e3m', ' m']) assert.equal(parseSize(bad), null, bad);
  assert.equal(parseSize(-1), null);
  assert.equal(parseSize(Number.POSITIVE_INFINITY), null);
  assert.equal(parseSize(1e308), null, 'not exact: not a size');
});

test('a memory limit is at least Docker\'s 6m floor', () => {
  assert.equal(memoryProblem('6m'), null);
  assert.equal(memoryProblem('1g'), null);
  assert.match(memoryProblem('5m')!, /at least 6m/);
  assert.match(memoryProblem(1024)!, /at least 6m/);
  assert.match(memoryProblem('big')!, /memory size such as "512m"/);
  assert.match(memoryProblem(true)!, /memory size/);
  assert.match(memoryProblem('2000t')!, /at most 1024t/);
});
