/**
 * A durable mark of a restore in place while it runs: a lease in the store, held for days,
 * named after the environment and accessory. A control plane that dies mid-restore leaves it;
 * the next one finds it at boot, reports the restore as interrupted (its data may be partly
 * replaced), and keeps the accessory stopped — heal and deploys do not start it on that data —
 * until a new restore in place (which takes the mark over) or `slipway accessories restart`.
 */
import { randomBytes } from 'node:crypto';
import { SlipwayError } from '../core/errors';
import type { Store } from '../core/ports/store';

export const restoreMarkerKey = (environmentId: number, accessory: string): string => `restore-in-place:${environmentId}:${accessory}`;

/** Holders of this process: a mark with another prefix was left by a previous one. */
const PROCESS = `restore:${process.pid}:${randomBytes(4).toString('hex')}`;
/** The store's leases expire; this one must not (an interrupted restore waits for the user however long). */
const MARK_TTL_MS = 100 * 365 * 86_400_000;

export type MarkOutcome = { taken: true; holder: string; tookOver: boolean } | { taken: false; reason: string };

/** Marks the accessory; a mark of a previous process is taken over, one of this process means a restore runs now. */
export async function markRestore(store: Store, environmentId: number, accessory: string): Promise<MarkOutcome> {
  const key = restoreMarkerKey(environmentId, accessory);
  const holder = `${PROCESS}:${Date.now()}`;
  const existing = await store.getLease(key);
  if (existing?.holder.startsWith(`${PROCESS}:`)) return { taken: false, reason: `a restore in place of ${accessory} is running` };
  if (existing) await store.releaseLease(key, existing.holder);
  if (!(await store.acquireLease(key, holder, MARK_TTL_MS))) return { taken: false, reason: `a restore in place of ${accessory} is starting` };
  return { taken: true, holder, tookOver: existing !== null };
}

export async function clearRestoreMark(store: Store, environmentId: number, accessory: string, holder: string): Promise<void> {
  await store.releaseLease(restoreMarkerKey(environmentId, accessory), holder);
}

/** A mark a previous process left (its restore was interrupted), or null. */
export async function interruptedRestore(store: Store, environmentId: number, accessory: string): Promise<{ since: string } | null> {
  const lease = await store.getLease(restoreMarkerKey(environmentId, accessory));
  if (!lease || lease.holder.startsWith(`${PROCESS}:`)) return null;
  const started = Number(lease.holder.split(':').at(-1));
  return { since: Number.isFinite(started) ? new Date(started).toISOString() : lease.expiresAt };
}

/** Any mark, this process's included: a backup must not copy data a restore is replacing (or left half replaced). */
export async function restoreMarked(store: Store, environmentId: number, accessory: string): Promise<boolean> {
  return (await store.getLease(restoreMarkerKey(environmentId, accessory))) !== null;
}

/** `slipway accessories restart` on purpose: the user starts it on the data as it is. */
export async function dropRestoreMark(store: Store, environmentId: number, accessory: string): Promise<void> {
  const key = restoreMarkerKey(environmentId, accessory);
  const lease = await store.getLease(key);
  if (lease) await store.releaseLease(key, lease.holder);
}

/** SLW_CONFLICT: a restore in place of it was interrupted (the control plane stopped): its data may be partly replaced. */
export function restoreInterrupted(env: string, name: string, since: string): SlipwayError {
  return new SlipwayError(
    'SLW_CONFLICT',
    `accessory ${name}: a restore in place (started ${since}) was interrupted, so its data may be partly replaced and it is kept stopped. Restore it again (slipway restore ${name} --backup ID --in-place --yes --env ${env}; slipway backups ${name} lists the backups, the newest "restore" one holds the state before) or start it on its data as it is (slipway accessories restart ${name} --env ${env})`,
    [{ path: `accessories.${name}`, message: 'a restore in place was interrupted' }],
  );
}
