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

/** The keys each kind's credentials must have (a missing one would become an empty password). */
export const REQUIRED_CREDENTIAL_KEYS: Record<AccessoryKind, readonly string[]> = { postgres: ['superuser', 'owner', 'app'], redis: ['password'], nats: ['password'], container: [] };

/**
 * The values of one version (version 0: none). With `expect`, a version lacking a key its
 * kind needs (made for another kind, or damaged) is SLW_INTERNAL naming the accessory: never
 * an empty password.
 */
export async function openAccessoryCredentials(deps: Deps, accessoryId: number, version: number, expect?: { name: string; kind: AccessoryKind }): Promise<AccessoryCredentials> {
  const what = expect ? `accessory ${expect.name}` : `accessory ${accessoryId}`;
  if (version === 0) {
    if (expect && REQUIRED_CREDENTIAL_KEYS[expect.kind].length > 0) throw new SlipwayError('SLW_INTERNAL', `${what} (${expect.kind}) has no credentials version; a ${expect.kind} accessory needs ${REQUIRED_CREDENTIAL_KEYS[expect.kind].join(', ')}`);
    return {};
  }
  const row = await deps.store.getAccessoryCredentials(accessoryId, version);
  if (!row) throw new SlipwayError('SLW_INTERNAL', `credentials version ${version} of ${what} are missing from the store`);
  const creds = JSON.parse(deps.cipher.open(row.sealed, accessorySealContext(accessoryId, version))) as AccessoryCredentials;
  if (expect) {
    const missing = REQUIRED_CREDENTIAL_KEYS[expect.kind].filter((k) => typeof creds[k] !== 'string' || creds[k] === '');
    if (missing.length > 0) {
      throw new SlipwayError('SLW_INTERNAL', `credentials version ${version} of ${what} lack ${missing.join(', ')}, which a ${expect.kind} accessory needs (were they made for another kind?)`);
    }
  }
  return creds;
}

/**
 * A rotation's new set: postgres keeps its superuser (baked into the data directory at
 * initdb, and Slipway's own) and changes the owner and app passwords; the others change all.
 */
export function rotatedCredentials(kind: AccessoryKind, previous: AccessoryCredentials): AccessoryCredentials {
  const fresh = generateCredentials(kind);
  return kind === 'postgres' && previous.superuser ? { ...fresh, superuser: previous.superuser } : fresh;
}
