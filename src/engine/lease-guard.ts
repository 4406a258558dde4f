/**
 * The engine's context for work done under a service lease: every Runtime and Edge call first
 * checks the lease's signal and throws its reason (SLW_INTERRUPTED) once it is lost, and
 * readiness waits end at once (ReadinessDeps.signal). A deployment, repair or warm-set
 * retirement that lost its lease therefore never starts, stops, adds, drains or removes
 * anything again: the new holder owns the service.
 */
import type { Edge } from '../core/ports/edge';
import { holdLease } from './service-lease';
import type { Runtime } from '../core/ports/runtime';
import type { EngineContext } from './engine-context';

function guarded<T extends object>(port: T, signal: AbortSignal): T {
  return new Proxy(port, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        signal.throwIfAborted();
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

export function underLease(ctx: EngineContext, signal: AbortSignal): EngineContext {
  return { ...ctx, runtime: guarded<Runtime>(ctx.runtime, signal), edge: guarded<Edge>(ctx.edge, signal), signal };
}

/**
 * Work under a service lease the caller has acquired: renewed while `work` runs, which gets the
 * context guarded by it; released afterwards, whatever happened. `onLost` hears of a lost lease
 * (the work itself sees its next port call throw).
 */
export async function withLease<T>(ctx: EngineContext, key: string, holder: string, work: (guarded: EngineContext) => Promise<T>, onLost?: (why: string) => void): Promise<T> {
  const lease = holdLease(ctx.store, key, holder, { heartbeatMs: ctx.leaseHeartbeatMs, onLost });
  try {
    return await work(underLease(ctx, lease.signal));
  } finally {
    lease.stop();
    await ctx.store.releaseLease(key, holder).catch(() => undefined);
  }
}
