import { test } from 'node:test';
import assert from 'node:assert/strict';
import { restoredName } from './backup-restore';

const now = new Date('2026-12-07T10:30:59Z');

test('a restored copy is named after its source and the minute', () => {
  assert.equal(restoredName('db', now), 'db-restored-202612071030');
});

test('a long name is shortened so the copy (with a -N suffix) stays a valid accessory name', () => {
  const long = 'orders-database-primary-eu-west';
  const name = restoredName(long, now);
  assert.ok(`${name}-99`.length <= 40, name);
  assert.match(`${name}-2`, /^[a-z][a-z0-9-]{0,39}$/);
  assert.equal(name, 'orders-database-restored-202612071030');
  assert.equal(restoredName('abcdefghijklmno-x', now), 'abcdefghijklmno-restored-202612071030', 'no dash doubled where it was cut');
});
