import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Writes bench/results/<name>-<YYYY-MM-DD>.json and returns its path. */
export function writeResult(name: string, data: unknown): string {
  const dir = path.resolve(import.meta.dirname, '../results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}-${new Date().toISOString().slice(0, 10)}.json`);
  writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), ...(data as object) }, null, 2)}\n`);
  return file;
}
