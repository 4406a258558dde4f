/**
 * The master keyring behind SecretCipher. Keys come from, in order:
 * - SLIPWAY_MASTER_KEY (primary) and SLIPWAY_MASTER_KEY_PREVIOUS (open-only), each
 *   32 bytes as base64 or hex, for operators who keep the key outside the host;
 * - else `<dataDir>/master.key` (mode 0600), generated on first start. One key per
 *   line, `<keyId> <base64>`, primary first; rotation prepends a key, re-seals, then
 *   drops the old lines, so a crash at any point leaves every seal openable.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SlipwayError } from '../../core/errors';
import type { SecretCipher } from '../../core/ports/secret-cipher';
import { keyFingerprint, openWith, sealKeyId, sealWith } from './aes-gcm';

interface Key {
  id: string;
  bytes: Buffer;
}

export interface KeyringOptions {
  dataDir: string;
  env?: NodeJS.ProcessEnv;
}

export class MasterKeyring implements SecretCipher {
  private keys: Key[];
  private readonly file: string;
  /** True when the primary key comes from SLIPWAY_MASTER_KEY (rotation cannot replace it). */
  readonly fromEnvironment: boolean;

  constructor(opts: KeyringOptions) {
    const env = opts.env ?? process.env;
    this.file = path.join(opts.dataDir, 'master.key');
    const fileKeys = existsSync(this.file) ? readKeyFile(this.file) : [];
    if (env.SLIPWAY_MASTER_KEY) {
      this.fromEnvironment = true;
      const primary = parseKey(env.SLIPWAY_MASTER_KEY, 'SLIPWAY_MASTER_KEY');
      const previous = env.SLIPWAY_MASTER_KEY_PREVIOUS ? [parseKey(env.SLIPWAY_MASTER_KEY_PREVIOUS, 'SLIPWAY_MASTER_KEY_PREVIOUS')] : [];
      // Keys from an earlier file-based setup stay usable for opening old seals.
      this.keys = dedupe([primary, ...previous, ...fileKeys]);
    } else {
      this.fromEnvironment = false;
      if (fileKeys.length === 0) {
        const bytes = randomBytes(32);
        fileKeys.push({ id: keyFingerprint(bytes), bytes });
        writeKeyFile(this.file, fileKeys);
      }
      chmodSync(this.file, 0o600);
      this.keys = fileKeys;
    }
  }

  primaryKeyId(): string {
    return this.keys[0]!.id;
  }

  holdsKey(keyId: string): boolean {
    return this.keys.some((k) => k.id === keyId);
  }

  keyIds(): string[] {
    return this.keys.map((k) => k.id);
  }

  seal(plaintext: string, context: string): { keyId: string; sealed: string } {
    const key = this.keys[0]!;
    return { keyId: key.id, sealed: sealWith(key.bytes, key.id, plaintext, context) };
  }

  open(sealed: string, context: string): string {
    const id = sealKeyId(sealed);
    const key = this.keys.find((k) => k.id === id);
    if (!key) {
      throw new SlipwayError(
        'SLW_SECRETS_KEY',
        `secrets are sealed with master key ${id}, which this server does not hold (it has ${this.keyIds().join(', ')}); ` +
          'restore the old master.key or set SLIPWAY_MASTER_KEY_PREVIOUS to it',
      );
    }
    return openWith(key.bytes, sealed, context);
  }

  async addPrimaryKey(): Promise<{ keyId: string; generated: boolean }> {
    if (this.fromEnvironment) return { keyId: this.primaryKeyId(), generated: false };
    const bytes = randomBytes(32);
    this.keys = [{ id: keyFingerprint(bytes), bytes }, ...this.keys];
    writeKeyFile(this.file, this.keys);
    return { keyId: this.keys[0]!.id, generated: true };
  }

  async retireOtherKeys(): Promise<void> {
    this.keys = this.keys.slice(0, 1);
    if (!this.fromEnvironment) writeKeyFile(this.file, this.keys);
  }
}

function parseKey(text: string, name: string): Key {
  const t = text.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (bytes.length !== 32 || (!/^[0-9a-fA-F]{64}$/.test(t) && !/^[A-Za-z0-9+/_-]{43}=?$/.test(t))) {
    // Never echo the value: it is the key.
    throw new SlipwayError('SLW_SECRETS_KEY', `${name}: expected 32 random bytes as 64 hex characters or 44 base64 characters (e.g. "openssl rand -base64 32")`);
  }
  return { id: keyFingerprint(bytes), bytes };
}

function readKeyFile(file: string): Key[] {
  const keys: Key[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      const [id, b64] = line.trim().split(/\s+/);
      const bytes = Buffer.from(b64 ?? '', 'base64');
      if (!id || bytes.length !== 32 || keyFingerprint(bytes) !== id) {
        throw new SlipwayError('SLW_SECRETS_KEY', `${file} line ${i + 1}: expected "<key id> <32 bytes base64>"; the key file is damaged`);
      }
      keys.push({ id, bytes });
    });
  return keys;
}

function writeKeyFile(file: string, keys: Key[]): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, keys.map((k) => `${k.id} ${k.bytes.toString('base64')}\n`).join(''), { mode: 0o600 });
  renameSync(tmp, file);
}

function dedupe(keys: Key[]): Key[] {
  return keys.filter((k, i) => keys.findIndex((o) => o.id === k.id) === i);
}
