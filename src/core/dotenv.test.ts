import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSlipwayError } from './errors';
import { parseDotenv } from './dotenv';

test('parses the common .env forms', () => {
  const text = [
    '\uFEFF# comment',
    '',
    'PLAIN=value',
    'export EXPORTED=1',
    'SPACED = padded value   ',
    'INLINE=abc # trailing comment',
    'HASH_IN=abc#def',
    "SINGLE='lit $HOME \\n # not a comment'",
    'DOUBLE="line1\\nline2 \\"q\\" \\\\"',
    'MULTI="first',
    'second"',
    'EMPTY=',
    'EQUALS=a=b=c',
    'URL=postgres://u:p@db:5432/x?sslmode=require',
  ].join('\r\n');
  assert.deepEqual(parseDotenv(text), {
    PLAIN: 'value',
    EXPORTED: '1',
    SPACED: 'padded value',
    INLINE: 'abc',
    HASH_IN: 'abc#def',
    SINGLE: 'lit $HOME \\n # not a comment',
    DOUBLE: 'line1\nline2 "q" \\',
    MULTI: 'first\nsecond',
    EMPTY: '',
    EQUALS: 'a=b=c',
    URL: 'postgres://u:p@db:5432/x?sslmode=require',
  });
});

test('malformed lines are all reported by line number, without their values', () => {
  const text = ['GOOD=1', 'no equals sign here-SECRETVALUE', '1BAD=x', 'OPEN="never closed SECRETVALUE', ''].join('\n');
  assert.throws(
    () => parseDotenv(text, 'prod.env'),
    (err: unknown) => {
      assert.ok(isSlipwayError(err));
      assert.equal(err.code, 'SLW_BAD_REQUEST');
      assert.deepEqual(err.details.map((d) => d.path), ['prod.env:2', 'prod.env:3', 'prod.env:4']);
      assert.match(err.message, /nothing was changed/);
      assert.ok(!err.message.includes('SECRETVALUE'), err.message);
      return true;
    },
  );
});

test('duplicates and text after a closing quote are errors', () => {
  assert.throws(() => parseDotenv('A=1\nA=2'), /A is set twice/);
  assert.throws(() => parseDotenv("A='x' y"), /unexpected text after the closing quote/);
  assert.throws(() => parseDotenv("A='x"), /single quote is never closed/);
});
