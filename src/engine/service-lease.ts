/**
 * One active deployment per service+environment: a lease in the store held by the
 * deployment id and renewed by a heartbeat while the deployment runs. A control
 * plane that dies stops renewing; the lease expires, or recovery (same holder) takes it over.
 */
import type { Store } from '../core/ports/store';

export const LEASE_TTL_MS = 30_000;

export function serviceLeaseKey(serviceId: number, environmentId: number): string {
  return `deploy:${serviceId}:${environmentId}`;
}

export function startHeartbeat(store: Store, key: string, holder: string, onLost: () => void): () => void {
  const timer = setInterval(() => {
    store.acquireLease(key, holder, LEASE_TTL_MS).then(
      (held) => {
        if (!held) onLost();
      },
      () => onLost(),
    );
  }, LEASE_TTL_MS / 3);
  timer.unref();
  return () => clearInterval(timer);
}
