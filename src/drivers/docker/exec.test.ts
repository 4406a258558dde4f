import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OutputTail } from './exec';

test('exec output keeps only its last part', () => {
  const tail = new OutputTail(10);
  tail.addLine('first line');
  tail.addLine('abc');
  tail.addLine('def');
  assert.equal(tail.toString(), 'ne\nabc\ndef');
  const many = new OutputTail(64 * 1024);
  for (let i = 0; i < 20_000; i++) many.addLine(`line ${i}`);
  const out = many.toString();
  assert.ok(out.length <= 64 * 1024);
  assert.ok(out.endsWith('line 19999'));
});
