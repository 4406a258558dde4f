import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countStatements } from './db-shell';

test('countStatements counts ;-terminated statements outside quotes and comments', () => {
  assert.equal(countStatements('select 1'), 1);
  assert.equal(countStatements('select 1;'), 1);
  assert.equal(countStatements('select 1; select 2;\n  '), 2);
  assert.equal(countStatements("insert into t values ('a;b'); select \"x;y\" from t"), 2);
  assert.equal(countStatements('-- one; two;\nselect 1; /* a; b */ select 2;'), 2);
  assert.equal(countStatements('create function f() returns int as $$ select 1; select 2; $$ language sql; select f();'), 2);
  assert.equal(countStatements('do $body$ begin perform 1; end $body$;'), 1);
  assert.equal(countStatements('\\dt\nselect 1;'), 2);
  assert.equal(countStatements(";;  ;"), 0);
  assert.equal(countStatements("select 'it''s; fine';"), 1);
});
