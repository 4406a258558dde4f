/**
 * Content address of a build context: sha256 over every file the build would see
 * (`.dockerignore` honoured, paths sorted), the Dockerfile path and the build args.
 * Unchanged source → same hash → the image is reused instead of rebuilt.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir, lstat, readlink } from 'node:fs/promises';
import path from 'node:path';
import ignore from '@balena/dockerignore';

export async function hashBuildContext(contextDir: string, dockerfile: string, args: Record<string, string>): Promise<string> {
  let rules: string[] = [];
  try {
    rules = (await readFile(path.join(contextDir, '.dockerignore'), 'utf8')).split('\n');
  } catch {
    // no .dockerignore: every file counts
  }
  const ig = ignore().add(rules);
  const files: string[] = [];
  async function walk(rel: string): Promise<void> {
    const entries = await readdir(path.join(contextDir, rel), { withFileTypes: true });
    for (const e of entries) {
      const relPath = rel ? `${rel}/${e.name}` : e.name;
      if (ig.ignores(relPath) && relPath !== dockerfile) continue;
      if (e.isDirectory()) await walk(relPath);
      else files.push(relPath);
    }
  }
  await walk('');
  files.sort();
  const hash = createHash('sha256');
  hash.update(`dockerfile:${dockerfile}\n`);
  for (const [k, v] of Object.entries(args).sort(([a], [b]) => a.localeCompare(b))) hash.update(`arg:${k}=${v}\n`);
  for (const f of files) {
    const abs = path.join(contextDir, f);
    const st = await lstat(abs);
    hash.update(`file:${f}:${st.mode & 0o777}\n`);
    hash.update(st.isSymbolicLink() ? `link:${await readlink(abs)}` : await readFile(abs));
    hash.update('\n');
  }
  return hash.digest('hex');
}
