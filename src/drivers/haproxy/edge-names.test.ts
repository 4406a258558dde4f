import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertBackendName, assertServerName, normalizeHosts, serverAddress, splitAddress } from './edge-names';

test('names that would change a config line or a runtime command are refused', () => {
  assert.doesNotThrow(() => assertBackendName('be_shop_web_production'));
  assert.throws(() => assertBackendName('be x'), { code: 'SLW_EDGE' });
  assert.doesNotThrow(() => assertServerName('web-1.abc_2'));
  assert.throws(() => assertServerName('a/b'), { code: 'SLW_EDGE' });
  assert.throws(() => normalizeHosts(['a.example.com b']), { code: 'SLW_EDGE' });
  assert.throws(() => normalizeHosts(['a.example.com:8080']), { code: 'SLW_EDGE' });
});

test('hosts are lowercased and deduplicated', () => {
  assert.deepEqual(normalizeHosts(['App.Example.com', 'app.example.com', 'b.localhost']), ['app.example.com', 'b.localhost']);
});

test('server addresses: IPv4, bracketed IPv6, no host names', () => {
  assert.equal(serverAddress('10.0.0.2', 3000), '10.0.0.2:3000');
  assert.equal(serverAddress('fd00::2', 3000), '[fd00::2]:3000');
  assert.throws(() => serverAddress('web', 3000), { code: 'SLW_EDGE' });
  assert.throws(() => serverAddress('10.0.0.2', 0), { code: 'SLW_EDGE' });
  assert.deepEqual(splitAddress('[fd00::2]:3000'), { address: 'fd00::2', port: 3000 });
  assert.deepEqual(splitAddress('10.0.0.2:3000'), { address: '10.0.0.2', port: 3000 });
});
