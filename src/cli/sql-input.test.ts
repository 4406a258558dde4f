import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitStatements } from './sql-input';

test('a statement is complete at a line ending with ;', () => {
  assert.deepEqual(splitStatements('select 1;'), { statements: ['select 1;'], rest: '', quit: false });
  assert.deepEqual(splitStatements('select 1'), { statements: [], rest: 'select 1', quit: false });
  assert.deepEqual(splitStatements('select\n1;'), { statements: ['select\n1;'], rest: '', quit: false });
  assert.deepEqual(splitStatements("insert into t values ('a;\nb');"), { statements: ["insert into t values ('a;\nb');"], rest: '', quit: false });
  assert.deepEqual(splitStatements("insert into t values ('a;"), { statements: [], rest: "insert into t values ('a;", quit: false });
  assert.deepEqual(splitStatements('do $$ begin perform 1;\nend $$;'), { statements: ['do $$ begin perform 1;\nend $$;'], rest: '', quit: false });
});

test('meta-commands run alone; \\q quits', () => {
  assert.deepEqual(splitStatements('\\dt'), { statements: ['\\dt'], rest: '', quit: false });
  assert.deepEqual(splitStatements('\\q'), { statements: [], rest: '', quit: true });
  assert.deepEqual(splitStatements(''), { statements: [], rest: '', quit: false });
});
