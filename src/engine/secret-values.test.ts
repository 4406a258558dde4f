/** The secret masker: whole values, every line of a multi-line value, JSON-escaped and base64 forms. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MASK, secretMasker, secretNeedles } from './secret-values';

const BODY = ['MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj', 'MZR4tv6ZpYbf0oCZjlS2k4yHb7Vh3AcWZbLs2nP0qL8sTqV5dDm1aR9uVkWp3xYz', 'q1w2e3r4=='];
const PEM = ['-----BEGIN PRIVATE KEY-----', ...BODY, '-----END PRIVATE KEY-----', ''].join('\n');

test('every line of a multi-line value is masked where output is relayed line by line', () => {
  const mask = secretMasker([PEM]);
  // What `console.log("KEY=" + process.env.KEY)` turns into once split into log lines.
  const printed = `KEY=${PEM}`.split('\n').map(mask);
  assert.deepEqual(printed, ['KEY=-----BEGIN PRIVATE KEY-----', MASK, MASK, MASK, '-----END PRIVATE KEY-----', '']);
  for (const line of printed) for (const secret of BODY) assert.ok(!line.includes(secret), line);
  assert.equal(mask(`  ${BODY[1]}\r`), `  ${MASK}\r`, 'indented or CRLF output still matches');
  assert.equal(secretMasker([PEM.replace(/\n/g, '\r\n')])(BODY[0]!), MASK, 'a CRLF value is split into lines too');
});

test('the whole value, its JSON-escaped form and its base64 form are masked', () => {
  const mask = secretMasker([PEM, 'pa"ss\\word']);
  assert.equal(mask(`whole: ${PEM}`), `whole: ${MASK}`);
  assert.equal(mask(`{"key":${JSON.stringify(PEM)}}`), `{"key":"${MASK}"}`, 'a JSON log line holding the value');
  assert.equal(mask(`b64 ${Buffer.from(PEM).toString('base64')}`), `b64 ${MASK}`);
  assert.equal(mask('{"pw":"pa\\"ss\\\\word"}'), `{"pw":"${MASK}"}`, 'JSON escaping of a single-line value');
  assert.equal(mask(`raw pa"ss\\word`), `raw ${MASK}`);
});

test('short lines and PEM armor are not needles, so unrelated output stays readable', () => {
  const value = ['{', '  "a": 1,', '  "client_secret": "k3y-abcdef",', '}', '-----', ''].join('\n');
  const needles = secretNeedles([value, 'on', '']);
  assert.ok(!needles.includes('{') && !needles.includes('}') && !needles.includes('-----') && !needles.includes(''), JSON.stringify(needles));
  assert.ok(needles.includes('"client_secret": "k3y-abcdef",'));
  const pemNeedles = secretNeedles([PEM]);
  assert.ok(!pemNeedles.includes('-----BEGIN PRIVATE KEY-----') && !pemNeedles.includes('-----END PRIVATE KEY-----'), 'armor lines alone are not secret');
  const mask = secretMasker([value, 'on']);
  assert.equal(mask('{ "status": "on" } -----'), '{ "status": "on" } -----');
  assert.equal(mask('  "client_secret": "k3y-abcdef",'), `  ${MASK}`);
});

test('longest first in one pass; values are literal text, not patterns', () => {
  const mask = secretMasker(['abcd', 'abcdefgh', 'a.b*c(d)[e]', 'secret']);
  assert.equal(mask('xabcdefghx abcd'), `x${MASK}x ${MASK}`);
  assert.equal(mask('a.b*c(d)[e] aXb*c(d)[e]'), `${MASK} aXb*c(d)[e]`);
  assert.equal(mask('my secret'), `my ${MASK}`, 'a value that is part of MASK does not mask the mask again');
  assert.equal(secretMasker([])('anything'), 'anything');
  assert.equal(secretMasker(['abc'])('abc'), 'abc', 'values under 4 characters are left alone');
});
