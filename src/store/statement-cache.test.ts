import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { cachingDatabase } from './statement-cache';

function db() {
  const raw = new Database(':memory:');
  raw.exec('create table t (n integer); insert into t values (1), (2), (3)');
  return raw;
}

test('the same SQL text is prepared once and answers every time', () => {
  const c = cachingDatabase(db());
  const a = c.prepare('select n from t where n > ?');
  const b = c.prepare('select n from t where n > ?');
  assert.equal(a, b);
  assert.deepEqual(a.all([1]), [{ n: 2 }, { n: 3 }]);
  assert.deepEqual(b.all([2]), [{ n: 3 }]);
  assert.equal(c.cached, 1);
  c.close();
});

test('a statement still iterating is not handed out again', () => {
  const c = cachingDatabase(db());
  const first = c.prepare('select n from t');
  const it = first.iterate([]);
  it.next();
  const second = c.prepare('select n from t');
  assert.notEqual(second, first);
  assert.equal(second.all([]).length, 3);
  it.return?.();
  assert.equal(c.prepare('select n from t'), first, 'the cached one again once its iteration ended');
  c.close();
});

test('the least recently used text is evicted beyond the size', () => {
  const c = cachingDatabase(db(), 2);
  const one = c.prepare('select 1');
  c.prepare('select 2');
  c.prepare('select 1'); // used again: "select 2" is now the oldest
  c.prepare('select 3');
  assert.equal(c.cached, 2);
  assert.equal(c.prepare('select 1'), one);
  c.close();
});

test('a statement prepared before a migration still runs after it', () => {
  const c = cachingDatabase(db());
  assert.equal(c.prepare('select * from t').all([]).length, 3);
  c.prepare('alter table t add column m integer').run([]);
  assert.deepEqual(c.prepare('select * from t').all([])[0], { n: 1, m: null });
  c.close();
});
