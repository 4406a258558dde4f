/**
 * Where the warm set of a service in an environment is persisted: one store setting per
 * (service, environment), written after the flip and cleared once the set is retired or
 * superseded. A setting rather than a table: a warm set is one small record per service
 * that lives minutes, and a stale one is harmless (whoever reads it checks the replicas and
 * never retires the live release).
 */
import type { Store } from '../core/ports/store';
import { parseWarmSet, type WarmSet } from '../core/warm-set';

const key = (serviceId: number, environmentId: number) => `warm-set:${serviceId}:${environmentId}`;

export async function readWarmSet(store: Store, serviceId: number, environmentId: number): Promise<WarmSet | null> {
  return parseWarmSet(await store.getSetting(key(serviceId, environmentId)));
}

/** The warm sets of several services of one environment, in one store read. */
export async function readWarmSets(store: Store, serviceIds: readonly number[], environmentId: number): Promise<Map<number, WarmSet>> {
  const values = await store.getSettings(serviceIds.map((id) => key(id, environmentId)));
  const sets = new Map<number, WarmSet>();
  for (const id of serviceIds) {
    const warm = parseWarmSet(values.get(key(id, environmentId)) ?? null);
    if (warm) sets.set(id, warm);
  }
  return sets;
}

export async function writeWarmSet(store: Store, serviceId: number, environmentId: number, warm: WarmSet): Promise<void> {
  await store.setSetting(key(serviceId, environmentId), JSON.stringify(warm));
}

/** The store has no delete for settings: an empty value is "none". */
export async function clearWarmSet(store: Store, serviceId: number, environmentId: number): Promise<void> {
  if (await store.getSetting(key(serviceId, environmentId))) await store.setSetting(key(serviceId, environmentId), '');
}
