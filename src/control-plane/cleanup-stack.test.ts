import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildOrUndo, CleanupStack } from './cleanup-stack';

/** Stages as startControlPlane runs them: each builds, then registers its undo; `failAt` throws instead of building. */
async function stages(stack: CleanupStack, log: string[], failAt?: string): Promise<string> {
  for (const name of ['store', 'runtime', 'engine', 'loops', 'http']) {
    if (name === failAt) throw new Error(`${name} failed`);
    log.push(`build ${name}`);
    stack.defer(name, async () => {
      await new Promise((r) => setImmediate(r));
      log.push(`undo ${name}`);
    });
  }
  return 'started';
}

test('close() undoes everything, last built first, once', async () => {
  const stack = new CleanupStack();
  const log: string[] = [];
  assert.equal(await buildOrUndo(stack, () => stages(stack, log)), 'started');
  assert.equal(stack.size, 5);
  await stack.close();
  assert.deepEqual(log.filter((l) => l.startsWith('undo')), ['undo http', 'undo loops', 'undo engine', 'undo runtime', 'undo store']);
  await stack.close();
  assert.equal(log.filter((l) => l.startsWith('undo')).length, 5, 'a second close does nothing');
});

test('a stage that fails undoes what the earlier stages built, in reverse, then its error is thrown', async () => {
  const stack = new CleanupStack();
  const log: string[] = [];
  await assert.rejects(
    buildOrUndo(stack, () => stages(stack, log, 'engine')),
    /engine failed/,
  );
  assert.deepEqual(log, ['build store', 'build runtime', 'undo runtime', 'undo store']);
  assert.equal(stack.size, 0);
});

test('a cleanup that throws does not stop the others; close() then throws what failed', async () => {
  const stack = new CleanupStack();
  const ran: string[] = [];
  stack.defer('a', () => void ran.push('a'));
  stack.defer('b', () => {
    throw new Error('b broke');
  });
  stack.defer('c', () => void ran.push('c'));
  await assert.rejects(stack.close(), /b broke/);
  assert.deepEqual(ran, ['c', 'a']);

  stack.defer('x', () => Promise.reject(new Error('x broke')));
  stack.defer('y', () => {
    throw new Error('y broke');
  });
  await assert.rejects(stack.close(), (err: AggregateError) => {
    assert.ok(err instanceof AggregateError);
    assert.equal(err.message, 'y: y broke; x: x broke');
    assert.equal(err.errors.length, 2);
    return true;
  });
});

test('undoing a failed start: failing and stuck cleanups are reported, the others still run, the start error is thrown', async () => {
  const stack = new CleanupStack();
  const ran: string[] = [];
  const failures: string[] = [];
  await assert.rejects(
    buildOrUndo(
      stack,
      async () => {
        stack.defer('first', () => void ran.push('first'));
        stack.defer('stuck', () => new Promise<void>(() => undefined));
        stack.defer('broken', () => {
          throw new Error('broken');
        });
        throw new Error('listen EADDRINUSE');
      },
      { timeoutMs: 50, onCleanupFailure: (f) => failures.push(`${f.name}: ${(f.error as Error).message}`) },
    ),
    /listen EADDRINUSE/,
  );
  assert.deepEqual(ran, ['first']);
  assert.deepEqual(failures, ['broken: broken', 'stuck: did not finish within 50 ms']);
});
