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
/**
 * Lines of a multi-line value shorter than this are not masked on their own: a closing
 * "}" or a short base64 tail says next to nothing about the value, and masking it would
 * garble unrelated output. The whole value is still masked from MIN_MASKED_LENGTH.
 */
const MIN_MASKED_LINE_LENGTH = 6;
/** PEM armor ("-----BEGIN PRIVATE KEY-----") names a format; it is not secret. */
const PEM_ARMOR_RE = /^-----(BEGIN|END) [A-Z0-9 ]+-----$/;
export const MASK = '[secret]';

/** JSON.stringify's body: how a value looks inside a JSON log line ("\n" as backslash-n). */
const jsonEscaped = (v: string) => JSON.stringify(v).slice(1, -1);

/**
 * Every text that gives a secret away, longest first. Output is relayed (and masked) line
 * by line, so a multi-line value (a PEM key) is never seen whole: each of its lines is a
 * needle too. The JSON-escaped and base64 forms cover an app that logs JSON or encodes it.
 */
export function secretNeedles(values: Iterable<string>): string[] {
  const needles = new Set<string>();
  for (const value of values) {
    if (value.length < MIN_MASKED_LENGTH) continue;
    needles.add(value).add(jsonEscaped(value)).add(Buffer.from(value, 'utf8').toString('base64'));
    if (!/[\r\n]/.test(value)) continue;
    for (const raw of value.split(/\r\n|\r|\n/)) {
      // Trimmed: indentation or a trailing \r must not keep a line from matching.
      const line = raw.trim();
      if (line.length < MIN_MASKED_LINE_LENGTH || PEM_ARMOR_RE.test(line)) continue;
      needles.add(line).add(jsonEscaped(line));
    }
  }
  return [...needles].sort((a, b) => b.length - a.length);
}

/**
 * A function replacing every occurrence of any of the values (see secretNeedles) with MASK.
 * The needles are compiled once into one alternation, longest first: a single pass per
 * line (this is on the log path), and a MASK already written is never masked again.
 */
export function secretMasker(values: Iterable<string>): (text: string) => string {
  const needles = secretNeedles(values);
  if (needles.length === 0) return (t) => t;
  const re = new RegExp(needles.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return (text) => text.replace(re, MASK);
}
