import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isRequestLogKey, loadOrCreateRequestLogKey, requestLineAuthenticator } from './request-log-key';
import { parseRequestLine } from './parse-request-line';

test('the key file: created 0600 on first start, the same key afterwards, replaced when it holds no valid key', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rl-key-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'request-log.key');
  const key = loadOrCreateRequestLogKey(file);
  assert.ok(isRequestLogKey(key));
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(loadOrCreateRequestLogKey(file), key, 'kept across restarts (lines waiting in the edge ring carry it)');
  writeFileSync(file, 'short\n', { mode: 0o644 });
  const fresh = loadOrCreateRequestLogKey(file);
  assert.notEqual(fresh, key);
  assert.equal(readFileSync(file, 'utf8'), `${fresh}\n`);
  assert.equal(statSync(file).mode & 0o777, 0o600);
});

test('authentication: only "<key> <line>" passes, stripped; a parsed forged line never gets through', () => {
  const key = loadKeyLike();
  const check = requestLineAuthenticator(key);
  const json = '{"t":1,"b":"be_a_web_production","s":"a","m":"GET","p":"/","st":200,"by":1,"ta":1,"tr":1,"ci":"-","xff":"-","cf":"-","id":"-","ts":"--"}';
  assert.equal(check(`${key} ${json}`), json);
  assert.ok(parseRequestLine(check(`${key} ${json}`)!));
  for (const bad of [json, `${key}${json}`, `${key} `, key, ` ${key} ${json}`, `${key.toLowerCase()} ${json}`, `${'x'.repeat(43)} ${json}`, '']) {
    assert.equal(check(bad), null, JSON.stringify(bad.slice(0, 50)));
  }
  assert.throws(() => requestLineAuthenticator('short'), /43 base64url/);
});

function loadKeyLike(): string {
  return 'Zm9vYmFy-_0123456789abcdefghijklmnopqrstuvw'.slice(0, 43);
}
