import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyspaceKeys, parseRdbCheck } from './redis-snapshots';

test("redis-check-rdb's summary: keys and expires of a sound file; null when it is not sound", () => {
  const ok = "[offset 0] Checking RDB file /data/.slipway-backup.rdb\n[offset 1076] Checksum OK\n[offset 1076] \\o/ RDB looks OK! \\o/\n[info] 101 keys read\n[info] 1 expires\n[info] 0 already expired\n";
  assert.deepEqual(parseRdbCheck(ok), { keys: 101, expires: 1 });
  assert.equal(parseRdbCheck('--- RDB ERROR DETECTED ---\n[offset 40] Unexpected EOF reading RDB file\n[info] 3 keys read\n'), null);
  assert.equal(parseRdbCheck('\\o/ RDB looks OK! \\o/\n'), null, 'no count: not trusted');
});

test('INFO keyspace: keys summed over every database', () => {
  assert.equal(keyspaceKeys('# Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=0\r\ndb5:keys=40,expires=0,avg_ttl=0\r\n'), 43);
  assert.equal(keyspaceKeys('# Keyspace\r\n'), 0);
});
