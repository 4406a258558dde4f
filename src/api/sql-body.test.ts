/**
 * `slipway db shell`'s body: the SQL reaches psql in one environment variable, which Linux caps
 * in bytes (128 KiB) and which cannot hold a NUL, so the limit is in UTF-8 bytes and a NUL is
 * refused, naming the field and never quoting the SQL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSlipwayError } from '../core/errors';
import { MAX_SQL_BYTES, sqlBody } from '../core/contract/requests';
import { parseInput } from './parse-body';

function refusal(input: unknown): { message: string; details: Array<{ path?: string; message: string }> } {
  try {
    parseInput(sqlBody, input, 'sql request');
  } catch (err) {
    assert.ok(isSlipwayError(err) && err.code === 'SLW_BAD_REQUEST', String(err));
    return { message: err.message, details: err.details };
  }
  assert.fail('expected a refusal');
}

test('the SQL limit is in bytes: multi-byte text over it is refused, at the limit it is accepted', () => {
  // 60 000 characters, 120 000 bytes: under the old character limit, over the byte limit.
  const wide = `select '${'é'.repeat(60_000 - 10)}';`;
  assert.ok(wide.length < MAX_SQL_BYTES && Buffer.byteLength(wide) > MAX_SQL_BYTES);
  const r = refusal({ sql: wide });
  assert.deepEqual(r.details, [{ path: 'sql', message: `size limit exceeded: must be at most ${MAX_SQL_BYTES} bytes of SQL (UTF-8)` }]);
  assert.ok(!r.message.includes('éé'), 'the SQL is never quoted');
  const exact = `select 1;${' '.repeat(MAX_SQL_BYTES - 9)}`;
  assert.equal(Buffer.byteLength(exact), MAX_SQL_BYTES);
  assert.equal(parseInput(sqlBody, { sql: exact }, 'sql request').sql, exact);
  assert.equal(refusal({ sql: `${exact} ` }).details[0]!.path, 'sql');
});

test('a NUL in the SQL is refused naming the field, without quoting the SQL', () => {
  const r = refusal({ sql: "select 'secret-ish'\0;" });
  assert.deepEqual(r.details, [{ path: 'sql', message: 'must not contain a NUL character (the SQL travels in an environment variable, which cannot hold one)' }]);
  assert.ok(!r.message.includes('secret-ish'));
  assert.equal(parseInput(sqlBody, { sql: 'select 1;' }, 'sql request').timeout, 600_000);
});
