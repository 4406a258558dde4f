import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statusQuery } from './commands/metrics';

test('slipway requests --status: sent in canonical form; --errors is --status 5xx; a bad list or both flags name the flag', () => {
  assert.deepEqual(statusQuery({}), {});
  assert.deepEqual(statusQuery({ errors: true }), { status: '5xx' });
  assert.deepEqual(statusQuery({ status: '404' }), { status: '404' });
  assert.deepEqual(statusQuery({ status: '500, 4XX,404' }), { status: '4xx,404,500' });
  assert.throws(() => statusQuery({ status: '4xx,abc' }), /^CliError: --status: "abc" is neither a status class \(1xx to 5xx\) nor a status code \(100 to 599\)/);
  assert.throws(() => statusQuery({ status: '' }), /^CliError: --status: an empty entry/);
  assert.throws(() => statusQuery({ status: '404', errors: true }), /^CliError: --errors is --status 5xx: give one of the two/);
});
