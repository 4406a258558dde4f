/**
 * One active deployment per service+environment: a lease in the store held by the
 * deployment id and renewed by a heartbeat while the deployment runs. A control
 * plane that dies stops renewing; the lease expires, or recovery (same holder) takes it over.
 *
 * A holder that cannot renew has lost the service: whoever holds the lease next (a new
 * deployment once it expired, recovery) owns its containers and edge servers. The hold's
 * AbortSignal fires at once, and the engine runs under a context guarded by it
 * (lease-guard.ts), so the work stops before its next port call.
 */
import { SlipwayError } from '../core/errors';
import type { Store } from '../core/ports/store';

export const LEASE_TTL_MS = 30_000;

export function serviceLeaseKey(serviceId: number, environmentId: number): string {
  return `deploy:${serviceId}:${environmentId}`;
}

export interface LeaseHold {
  /** Aborted (reason: SLW_INTERRUPTED) the first time a renewal fails or finds another holder. */
  signal: AbortSignal;
  stop(): void;
}

/** Renews a lease already acquired every `heartbeatMs` (a third of its TTL) until stopped. */
export function holdLease(store: Store, key: string, holder: string, opts: { heartbeatMs?: number; onLost?: (why: string) => void } = {}): LeaseHold {
  const controller = new AbortController();
  const lost = (why: string) => {
    if (controller.signal.aborted) return;
    controller.abort(new SlipwayError('SLW_INTERRUPTED', `lost the lease of the service (${why}): stopped before touching its containers or the edge again`));
    opts.onLost?.(why);
  };
  const timer = setInterval(() => {
    store.acquireLease(key, holder, LEASE_TTL_MS).then(
      (held) => {
        if (!held) lost('another holder took it after it expired');
      },
      () => lost('the store did not answer the renewal'),
    );
  }, opts.heartbeatMs ?? LEASE_TTL_MS / 3);
  timer.unref();
  return { signal: controller.signal, stop: () => clearInterval(timer) };
}
