import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CanaryControls } from './canary-control';

test('a command wakes the waiting canary loop at once and is taken once, in order', async () => {
  const controls = new CanaryControls();
  const box = controls.register('d1');
  const started = Date.now();
  const waited = box.wait(5000);
  controls.send('d1', 'pause');
  controls.send('d1', 'promote');
  await waited;
  assert.ok(Date.now() - started < 1000, 'woken before the timeout');
  assert.deepEqual(box.take(), ['pause', 'promote']);
  assert.deepEqual(box.take(), []);
});

test('waiting with a command already pending returns at once; without one, after the timeout', async () => {
  const controls = new CanaryControls();
  const box = controls.register('d1');
  controls.send('d1', 'abort');
  await box.wait(5000);
  assert.deepEqual(box.take(), ['abort']);
  const started = Date.now();
  await box.wait(50);
  assert.ok(Date.now() - started >= 45);
});

test('a command for a deployment with no canary running here is refused (SLW_CONFLICT)', () => {
  const controls = new CanaryControls();
  assert.throws(() => controls.send('nope', 'pause'), (e: Error & { code?: string }) => e.code === 'SLW_CONFLICT' && /has no canary in progress/.test(e.message));
  controls.register('d2');
  controls.unregister('d2');
  assert.equal(controls.has('d2'), false);
  assert.throws(() => controls.send('d2', 'abort'), /has no canary in progress/);
});
