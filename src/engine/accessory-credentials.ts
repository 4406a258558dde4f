/**
 * An accessory's generated credentials: sealed under the master key like secrets (each
 * version under its own authenticated context, so a seal moved to another row fails to
 * open), versioned in the store. Values are opened only to start containers, provision
 * Postgres and build the connection variables of services; never logged or returned.
 */
import { generateCredentials, type AccessoryCredentials } from '../core/accessory-kinds';
import type { AccessoryKind } from '../core/config';
import { SlipwayError } from '../core/errors';
import type { SecretCipher } from '../core/ports/secret-cipher';
import type { Store } from '../core/ports/store';

type Deps = { store: Store; cipher: SecretCipher };

export const accessorySealContext = (accessoryId: number, version: number) => `slipway/accessories/${accessoryId}/v${version}`;

/** Seals `creds` as the accessory's next version and makes it current; returns that version. */
export async function addAccessoryCredentials(deps: Deps, accessoryId: number, creds: AccessoryCredentials): Promise<number> {
  const current = await deps.store.getAccessoryCredentials(accessoryId);
  const version = (current?.version ?? 0) + 1;
  const sealed = deps.cipher.seal(JSON.stringify(creds), accessorySealContext(accessoryId, version));
  const row = await deps.store.addAccessoryCredentials(accessoryId, sealed);
  // Callers are serialized per environment; a different number means someone else wrote one.
  if (row.version !== version) throw new SlipwayError('SLW_CONFLICT', `credentials of accessory ${accessoryId} changed concurrently (version ${row.version}, expected ${version}); try again`);
  return version;
}

/** First generation: a fresh set for the kind (none for `container`: version 0). */
export async function generateAccessoryCredentials(deps: Deps, accessoryId: number, kind: AccessoryKind): Promise<number> {
  if (kind === 'container') return 0;
  return addAccessoryCredentials(deps, accessoryId, generateCredentials(kind));
}

/** The values of one version (version 0: none). */
export async function openAccessoryCredentials(deps: Deps, accessoryId: number, version: number): Promise<AccessoryCredentials> {
  if (version === 0) return {};
  const row = await deps.store.getAccessoryCredentials(accessoryId, version);
  if (!row) throw new SlipwayError('SLW_INTERNAL', `credentials version ${version} of accessory ${accessoryId} are missing from the store`);
  return JSON.parse(deps.cipher.open(row.sealed, accessorySealContext(accessoryId, version))) as AccessoryCredentials;
}

/**
 * A rotation's new set: postgres keeps its superuser (baked into the data directory at
 * initdb, and Slipway's own) and changes the owner and app passwords; the others change all.
 */
export function rotatedCredentials(kind: AccessoryKind, previous: AccessoryCredentials): AccessoryCredentials {
  const fresh = generateCredentials(kind);
  return kind === 'postgres' && previous.superuser ? { ...fresh, superuser: previous.superuser } : fresh;
}
