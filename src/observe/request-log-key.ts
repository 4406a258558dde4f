/**
 * The key that authenticates the edge's request-log stream. The edge writes it, then one
 * space, at the start of every line (it is part of the `log-format` in haproxy.cfg, a 0600
 * file in a 0700 directory); the listener keeps a line only if it starts with the key and
 * strips it. A process that can reach the listener but cannot read the data directory
 * cannot forge request metrics or canary verdicts: its lines are dropped and counted.
 *
 * Kept in `<data-dir>/request-log.key` (0600) rather than drawn at each start: the edge
 * outlives the control plane, and the lines it keeps in its ring while the control plane is
 * away carry the key of the config it runs; a new key at every start would drop them.
 * Deleting the file rotates the key at the next start (the edge is reloaded with the new one).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

/** base64url of 32 random bytes: safe to write unquoted into a `log-format`. */
const KEY_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function isRequestLogKey(value: string): boolean {
  return KEY_PATTERN.test(value);
}

/** Reads the key, or creates it (0600) on first start or when the file does not hold a valid one. */
export function loadOrCreateRequestLogKey(file: string): string {
  if (existsSync(file)) {
    chmodSync(file, 0o600);
    const key = readFileSync(file, 'utf8').trim();
    if (isRequestLogKey(key)) return key;
  }
  const key = randomBytes(32).toString('base64url');
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${key}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  return key;
}

/**
 * Returns a checker: a line that starts with `key` and a space → the rest of the line;
 * anything else → null. The comparison takes the same time wherever the first difference
 * is, so the listener's timing tells a prober nothing about the key.
 */
export function requestLineAuthenticator(key: string): (line: string) => string | null {
  if (!isRequestLogKey(key)) throw new Error('request-log key: expected 43 base64url characters');
  const n = key.length;
  return (line) => {
    if (line.length <= n + 1 || line.charCodeAt(n) !== 32) return null;
    let diff = 0;
    for (let i = 0; i < n; i++) diff |= line.charCodeAt(i) ^ key.charCodeAt(i);
    return diff === 0 ? line.slice(n + 1) : null;
  };
}
