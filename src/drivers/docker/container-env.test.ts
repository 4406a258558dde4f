import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envArray } from './container-env';

test('env objects become KEY=VALUE entries with values passed verbatim', () => {
  assert.deepEqual(envArray({ A: '1', B: 'x=y $HOME "q" `id`', C: '' }), ['A=1', 'B=x=y $HOME "q" `id`', 'C=']);
});

test('names that Docker would misread are refused without echoing values', () => {
  assert.throws(() => envArray({ 'A=B': 'secret' }), (e: Error) => /A=B/.test(e.message) && !/secret/.test(e.message));
  assert.throws(() => envArray({ '': 'x' }));
});
