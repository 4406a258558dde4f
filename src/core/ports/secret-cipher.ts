/**
 * SecretCipher port: seals and opens secret values under the control plane's
 * master key(s). Implemented by src/drivers/keyring (AES-256-GCM, key file or
 * SLIPWAY_MASTER_KEY). A seal names the key that made it, so seals made before a
 * rotation stay readable until they are re-sealed.
 */
export interface SecretCipher {
  /** Id (fingerprint) of the key new seals use. */
  primaryKeyId(): string;
  /** Seals `plaintext`; `context` is authenticated (not stored): opening needs the same one. */
  seal(plaintext: string, context: string): { keyId: string; sealed: string };
  /** Whether the key with this id is held (a cheap check: nothing is decrypted). */
  holdsKey(keyId: string): boolean;
  /** Throws SLW_SECRETS_KEY if the key is not held, or the seal or its context was altered. */
  open(sealed: string, context: string): string;
  /** Makes a fresh key primary, keeping the others for opening; returns the new key id. */
  addPrimaryKey(): Promise<{ keyId: string; generated: boolean }>;
  /** Forgets every key but the primary (call once nothing is sealed under them). */
  retireOtherKeys(): Promise<void>;
}
