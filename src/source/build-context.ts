/**
 * The build context: every file of a directory except what `.dockerignore` excludes,
 * as a tar stream. Mirrors the Docker CLI: patterns are cleaned the same way, an
 * excluded directory is skipped unless an exception (`!pattern`) names a path under it,
 * and the Dockerfile and `.dockerignore` are always sent (the daemon drops them again
 * if they are excluded, after reading them). Used by the CLI (uploading a directory) and
 * by the server (packing a git checkout): both produce the same bytes for the same tree.
 */
import { lstat, readFile, readdir, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import ignore from '@balena/dockerignore';
import { SlipwayError, errorMessage } from '../core/errors';
import { packEntries, type TarEntry } from './tar-pack';

/** `.dockerignore` text → patterns as Docker reads them (comments dropped, paths cleaned, leading "/" removed). */
export function parseDockerignore(text: string): string[] {
  const patterns: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negated = line.startsWith('!');
    let p = negated ? line.slice(1).trim() : line;
    if (p === '') continue;
    p = path.posix.normalize(p);
    if (p.length > 1 && p.startsWith('/')) p = p.slice(1);
    if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
    patterns.push(negated ? `!${p}` : p);
  }
  return patterns;
}

/** The Dockerfile path inside the context, normalized (`./Dockerfile` → `Dockerfile`); refuses paths outside it. */
export function normalizeDockerfilePath(dockerfile: string): string {
  const p = path.posix.normalize(dockerfile.split(path.sep).join('/'));
  if (p === '.' || p.startsWith('../') || p === '..' || path.posix.isAbsolute(p)) {
    throw new SlipwayError('SLW_BUILD_FAILED', `the Dockerfile must be a path inside the build context, got ${JSON.stringify(dockerfile)}`);
  }
  return p;
}

export interface ContextFilter {
  /** Whether a file (or symlink) at this context-relative path is sent. */
  includesFile(rel: string): boolean;
  /** Whether the walk enters this directory. */
  entersDirectory(rel: string): boolean;
}

export function contextFilter(patterns: string[], dockerfile: string): ContextFilter {
  const base = ignore().add(patterns);
  const all = [...patterns];
  // The CLI re-includes these two so the daemon can read them.
  if (base.ignores('.dockerignore')) all.push('!.dockerignore');
  if (base.ignores(dockerfile)) all.push(`!${dockerfile}`);
  const ig = ignore().add(all);
  const exceptions = all.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
  return {
    includesFile: (rel) => !ig.ignores(rel),
    entersDirectory: (rel) => {
      if (!ig.ignores(rel)) return true;
      const dirSlash = `${rel}/`;
      return exceptions.some((p) => `${p}/`.startsWith(dirSlash));
    },
  };
}

/**
 * Walks the context (sorted, deterministic) yielding tar entries for what the filter lets
 * through. Only directories seen by lstat are entered, so a symlink (to a directory or
 * anywhere else) becomes a symlink entry and is never followed. `contextDir` must be a
 * real path (packContext resolves it).
 */
export async function* contextEntries(contextDir: string, filter: ContextFilter, rel = ''): AsyncGenerator<TarEntry> {
  const names = (await readdir(path.join(contextDir, rel))).sort();
  for (const name of names) {
    const child = rel ? `${rel}/${name}` : name;
    const abs = path.join(contextDir, child);
    const st = await lstat(abs);
    if (st.isDirectory()) {
      if (!filter.entersDirectory(child)) continue;
      if (filter.includesFile(child)) yield { type: 'directory', name: child, mode: st.mode & 0o7777 };
      yield* contextEntries(contextDir, filter, child);
    } else if (!filter.includesFile(child)) {
      continue;
    } else if (st.isFile()) {
      // No mtime: every file gets the same fixed one, so an unchanged tree packs to identical bytes.
      yield { type: 'file', name: child, source: abs, size: st.size, mode: st.mode & 0o7777 };
    } else if (st.isSymbolicLink()) {
      yield { type: 'symlink', name: child, target: await readlink(abs) };
    }
    // sockets, fifos and devices are never part of a build context
  }
}

/**
 * Checks the context and Dockerfile exist, then returns the context as a tar stream.
 * The archive is deterministic (sorted entries, root owner, fixed mtime): its sha256 is
 * the content address of the source. Nothing is read through a symlink: the context
 * directory itself, the Dockerfile (and each directory on its way) and `.dockerignore`
 * must not be links, and links inside the context are packed as links, never followed.
 * (The path up to the context is the caller's: the server checks it with
 * resolveContextPath first, the CLI packs its own directories.)
 */
export async function packContext(contextDir: string, dockerfile: string, onEntry?: (e: TarEntry) => void): Promise<Readable> {
  const df = normalizeDockerfilePath(dockerfile);
  const ctxStat = await lstat(contextDir).catch(() => null);
  if (ctxStat?.isSymbolicLink()) {
    throw new SlipwayError('SLW_CONFIG_INVALID', `build.context: ${contextDir} is a symlink; name the directory itself`, [{ path: 'build.context', message: 'must not be a symlink' }]);
  }
  if (!ctxStat?.isDirectory()) throw new SlipwayError('SLW_BUILD_FAILED', `the build context ${contextDir} is not a directory`);
  // Resolved once: every later path is this real directory plus entries seen with lstat.
  const root = await realpath(contextDir);
  await checkDockerfile(root, df, path.join(contextDir, df));
  let text = '';
  const ignoreFile = path.join(root, '.dockerignore');
  const ignoreStat = await lstat(ignoreFile).catch(() => null);
  if (ignoreStat?.isSymbolicLink()) {
    throw new SlipwayError('SLW_BUILD_FAILED', `${path.join(contextDir, '.dockerignore')} is a symlink; it must be a file of the build context`);
  }
  if (ignoreStat) {
    try {
      text = await readFile(ignoreFile, 'utf8');
    } catch (err) {
      throw new SlipwayError('SLW_BUILD_FAILED', `cannot read ${path.join(contextDir, '.dockerignore')}: ${errorMessage(err)}`);
    }
  }
  const entries = contextEntries(root, contextFilter(parseDockerignore(text), df));
  return packEntries(onEntry ? observed(entries, onEntry) : entries);
}

/** The Dockerfile must be a regular file reached through real directories of the context. */
async function checkDockerfile(root: string, df: string, shown: string): Promise<void> {
  const parts = df.split('/');
  for (let i = 0; i < parts.length; i++) {
    const st = await lstat(path.join(root, ...parts.slice(0, i + 1))).catch(() => null);
    if (!st) throw new SlipwayError('SLW_BUILD_FAILED', `no Dockerfile at ${shown}`);
    if (st.isSymbolicLink()) {
      const link = parts.slice(0, i + 1).join('/');
      throw new SlipwayError('SLW_CONFIG_INVALID', `build.dockerfile: "${df}" goes through the symlink "${link}"; the Dockerfile must be a file of the build context reached without symlinks`, [
        { path: 'build.dockerfile', message: 'must not be or go through a symlink' },
      ]);
    }
    if (i < parts.length - 1 ? !st.isDirectory() : !st.isFile()) throw new SlipwayError('SLW_BUILD_FAILED', `no Dockerfile at ${shown}`);
  }
}

async function* observed(entries: AsyncIterable<TarEntry>, onEntry: (e: TarEntry) => void): AsyncGenerator<TarEntry> {
  for await (const e of entries) {
    onEntry(e);
    yield e;
  }
}
