/**
 * AES-256-GCM seal format: `slw1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts).
 * A 96-bit random IV per seal; the context string is the GCM additional data, so a
 * seal copied to another environment or version fails to open.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { SlipwayError } from '../../core/errors';

const FORMAT = 'slw1';

/** A key's public fingerprint: the first 16 hex characters of its SHA-256. */
export function keyFingerprint(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

export function sealWith(key: Buffer, keyId: string, plaintext: string, context: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [FORMAT, keyId, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
}

/** The key id a seal names, or throws if it is not a Slipway seal. */
export function sealKeyId(sealed: string): string {
  const parts = sealed.split('.');
  if (parts.length !== 5 || parts[0] !== FORMAT) throw new SlipwayError('SLW_SECRETS_KEY', 'stored secrets are not in a format this version can read');
  return parts[1]!;
}

export function openWith(key: Buffer, sealed: string, context: string): string {
  const [, keyId, iv, tag, ct] = sealed.split('.');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv!, 'base64url'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag!, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct!, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    // Never echo the seal or the context: just say what failed.
    throw new SlipwayError('SLW_SECRETS_KEY', `stored secrets sealed with key ${keyId} failed authentication (altered, or a different key with the same id)`);
  }
}
