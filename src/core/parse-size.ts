/**
 * Memory sizes in slipway.yml, as Docker writes them: `512m`, `1g`, `1.5g`, `256k`, a bare
 * number of bytes (`536870912`). Units are binary (1k = 1024), as in `docker run --memory`; `mb`, `MiB`
 * and friends are accepted too, in any case.
 */
const UNIT_BYTES: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
const SIZE_RE = /^(\d+(?:\.\d+)?)\s*(?:([kmgt])(?:i?b)?|b)?$/i;

/** Docker refuses a memory limit below 6 MiB. */
export const MIN_MEMORY_BYTES = 6 * 1024 ** 2;
/** Far above any host; keeps the value an exact integer. */
export const MAX_MEMORY_BYTES = 1024 ** 5;

/** Bytes (a whole number), or null when the value is not a size. */
export function parseSize(value: string | number): number | null {
  let bytes: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return null;
    bytes = value;
  } else {
    if (typeof value !== 'string' || value.length > 32) return null;
    const m = SIZE_RE.exec(value.trim());
    if (!m) return null;
    bytes = Number(m[1]) * UNIT_BYTES[(m[2] ?? 'b').toLowerCase()]!;
  }
  bytes = Math.floor(bytes);
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/** Why a value is not a memory limit Docker accepts, or null when it is one. */
export function memoryProblem(value: unknown): string | null {
  const expected = 'must be a memory size such as "512m" or "1g" (or a number of bytes)';
  if (typeof value !== 'string' && typeof value !== 'number') return expected;
  const bytes = parseSize(value);
  if (bytes === null) return expected;
  if (bytes < MIN_MEMORY_BYTES) return 'must be at least 6m (Docker refuses smaller memory limits)';
  if (bytes > MAX_MEMORY_BYTES) return 'must be at most 1024t';
  return null;
}
