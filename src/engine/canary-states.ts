/**
 * Where canary records are persisted: one store setting per deployment (the full record,
 * kept after it ends so `slipway deployment <id>` shows its windows) and one per service and
 * environment naming the canary deployment running there (what `status` and recovery look up).
 * Settings, like warm sets: small records, one writer (the deployment holding the lease).
 */
import { parseCanaryState, type CanaryState } from '../core/canary-state';
import type { Store } from '../core/ports/store';

const recordKey = (deploymentId: string) => `canary:${deploymentId}`;
const indexKey = (serviceId: number, environmentId: number) => `canary-live:${serviceId}:${environmentId}`;

export async function readCanary(store: Store, deploymentId: string): Promise<CanaryState | null> {
  return parseCanaryState(await store.getSetting(recordKey(deploymentId)));
}

export async function writeCanary(store: Store, state: CanaryState): Promise<void> {
  await store.setSetting(recordKey(state.deploymentId), JSON.stringify({ ...state, updatedAt: new Date().toISOString() }));
}

/** The canary running for a service in an environment, if any. */
export async function readLiveCanary(store: Store, serviceId: number, environmentId: number): Promise<CanaryState | null> {
  const id = await store.getSetting(indexKey(serviceId, environmentId));
  return id ? readCanary(store, id) : null;
}

export async function setLiveCanary(store: Store, serviceId: number, environmentId: number, deploymentId: string | null): Promise<void> {
  await store.setSetting(indexKey(serviceId, environmentId), deploymentId ?? '');
}
