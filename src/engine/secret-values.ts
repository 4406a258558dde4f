/**
 * Opening an environment's sealed secrets for the engine, and masking their values
 * in any text the control plane relays (release-command output, one-off output,
 * container logs): values reach containers and nowhere else.
 */
import { SlipwayError } from '../core/errors';
import type { SecretCipher } from '../core/ports/secret-cipher';
import type { Store } from '../core/ports/store';

/** Authenticated context of a sealed version: a seal moved to another row fails to open. */
export const secretsSealContext = (environmentId: number, version: number) => `slipway/secrets/env-${environmentId}/v${version}`;

export async function openSecrets(deps: { store: Store; cipher: SecretCipher }, environmentId: number, version: number | null): Promise<Record<string, string>> {
  if (version === null) return {};
  const row = await deps.store.getSecrets(environmentId, version);
  if (!row) throw new SlipwayError('SLW_INTERNAL', `secrets version ${version} of this environment is missing from the store`);
  return JSON.parse(deps.cipher.open(row.sealed, secretsSealContext(environmentId, version))) as Record<string, string>;
}

/** Values shorter than this are not masked: masking "1" or "on" would garble every line. */
const MIN_MASKED_LENGTH = 4;
export const MASK = '[secret]';

/** A function replacing every occurrence of any of the values with MASK (longest first). */
export function secretMasker(values: Iterable<string>): (text: string) => string {
  const list = [...new Set(values)].filter((v) => v.length >= MIN_MASKED_LENGTH).sort((a, b) => b.length - a.length);
  if (list.length === 0) return (t) => t;
  return (text) => {
    let out = text;
    for (const v of list) if (out.includes(v)) out = out.split(v).join(MASK);
    return out;
  };
}
