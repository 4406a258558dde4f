import assert from 'node:assert/strict';
import { test } from 'node:test';
import { execNeverStarted, OutputTail } from './exec';

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

test('an exec runc could not start (exit 126, OCI runtime exec failed) is known as never started: safe to try again', () => {
  const never = { exitCode: 126, timedOut: false, output: 'OCI runtime exec failed: exec failed: unable to start container process: read init-p: connection reset by peer: unknown' };
  assert.equal(execNeverStarted(never), true);
  assert.equal(execNeverStarted({ ...never, exitCode: 1 }), false, 'the command ran and failed');
  assert.equal(execNeverStarted({ exitCode: 126, timedOut: false, output: 'sh: ./x: Permission denied' }), false, 'a command that is not executable');
});
