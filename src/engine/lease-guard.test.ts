import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EngineContext } from './engine-context';
import { underLease } from './lease-guard';
import { SlipwayError } from '../core/errors';

test('under a lease: port calls pass while it is held and throw its reason once it is lost; other ports are untouched', async () => {
  const made: string[] = [];
  const ctx = {
    runtime: { stopReplica: async (id: string) => void made.push(`stop ${id}`), base: 'slipway' },
    edge: { removeServer: async (_b: string, name: string) => void made.push(`remove ${name}`) },
    store: { getLease: async () => null },
  } as unknown as EngineContext;
  const controller = new AbortController();
  const guarded = underLease(ctx, controller.signal);
  await guarded.runtime.stopReplica('a', 1000);
  await guarded.edge.removeServer('b', 'web-1');
  assert.equal((guarded.runtime as unknown as { base: string }).base, 'slipway', 'fields read through');
  assert.equal(guarded.signal, controller.signal, 'readiness waits see the signal');
  controller.abort(new SlipwayError('SLW_INTERRUPTED', 'lost the lease'));
  assert.throws(() => guarded.edge.removeServer('b', 'web-2'), (e: Error & { code?: string }) => e.code === 'SLW_INTERRUPTED');
  assert.throws(() => guarded.runtime.stopReplica('c', 1000), /lost the lease/);
  assert.equal(await guarded.store.getLease('k'), null, 'the store stays usable: the failure is recorded');
  assert.deepEqual(made, ['stop a', 'remove web-1']);
  assert.equal(ctx.signal, undefined, 'the context it wraps is unchanged');
});
