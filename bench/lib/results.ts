import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** bench/results, whatever the working directory. */
export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

/**
 * Writes bench/results/<name>-<YYYY-MM-DD>.json (local date; creates the directory,
 * overwrites a result of the same name from the same day) and returns its path.
 * An object `data` gets an `at` timestamp merged in; anything else is stored as `{ at, data }`.
 */
export function writeResult(name: string, data: unknown): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new Error(`writeResult: invalid result name ${JSON.stringify(name)}`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const now = new Date();
  const day = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`;
  const file = path.join(RESULTS_DIR, `${name}-${day}.json`);
  const isRecord = typeof data === 'object' && data !== null && !Array.isArray(data);
  const body = isRecord ? { at: now.toISOString(), ...(data as Record<string, unknown>) } : { at: now.toISOString(), data };
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  return file;
}
