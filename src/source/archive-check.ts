/**
 * Checks an uploaded build context before anything uses it: a tar archive whose entries
 * are plain files, directories and symlinks at relative paths inside the archive. The
 * Docker daemon unpacks it, but an archive that tries to leave its root (`..`, absolute
 * paths) or carries devices is refused here with the entry it stumbled on.
 */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import tarStream from 'tar-stream';
import { SlipwayError } from '../core/errors';
import { normalizeDockerfilePath } from './build-context';

export interface ArchiveSummary {
  entries: number;
  files: number;
}

const ALLOWED_TYPES = new Set(['file', 'directory', 'symlink']);

/** Why an entry name is unsafe, or null when it is a clean relative path. */
export function unsafeEntryName(name: string): string | null {
  if (name === '' || name === '.' || name === './') return 'an empty name';
  if (name.startsWith('/')) return 'an absolute path';
  if (name.includes('\0')) return 'a NUL byte';
  if (name.split('/').includes('..')) return 'a ".." segment';
  if (path.posix.normalize(name).startsWith('../')) return 'a path outside the archive';
  return null;
}

export async function checkSourceArchive(file: string): Promise<ArchiveSummary> {
  const extract = tarStream.extract();
  const input = createReadStream(file);
  input.pipe(extract as unknown as NodeJS.WritableStream);
  const summary: ArchiveSummary = { entries: 0, files: 0 };
  try {
    for await (const entry of extract) {
      const { name, type } = entry.header;
      const reason = unsafeEntryName(name);
      if (reason) throw bad(`entry ${JSON.stringify(name)} has ${reason}`);
      const kind = type ?? 'file';
      if (!ALLOWED_TYPES.has(kind)) throw bad(`entry ${JSON.stringify(name)} is a ${kind}; only files, directories and symlinks belong in a build context`);
      summary.entries++;
      if (kind !== 'directory') summary.files++;
      entry.resume();
    }
  } catch (err) {
    input.destroy();
    if (err instanceof SlipwayError) throw err;
    throw bad(`it is not a readable tar archive (${(err as Error).message})`);
  }
  if (summary.entries === 0) throw bad('it is empty');
  return summary;
}

/**
 * Refuses a Dockerfile path that is, or goes through, a symlink entry of an uploaded
 * context, or that names no file in it. The daemon would follow such a link while
 * reading the Dockerfile; the server applies the same rule as for git checkouts.
 * `field` is the config path named in the error (`services.web.build.dockerfile`).
 */
export async function checkArchiveDockerfile(file: string, dockerfile: string, field: string): Promise<void> {
  let df: string;
  try {
    df = normalizeDockerfilePath(dockerfile);
  } catch {
    throw dockerfileError(field, `${JSON.stringify(dockerfile)} must be a path inside the build context`);
  }
  const parts = df.split('/');
  const wanted = new Set(parts.map((_p, i) => parts.slice(0, i + 1).join('/')));
  const types = new Map<string, string>();
  const extract = tarStream.extract();
  const input = createReadStream(file);
  input.pipe(extract as unknown as NodeJS.WritableStream);
  try {
    for await (const entry of extract) {
      const name = entryPath(entry.header.name);
      if (wanted.has(name)) types.set(name, entry.header.type ?? 'file');
      entry.resume();
    }
  } catch (err) {
    input.destroy();
    throw new SlipwayError('SLW_BAD_REQUEST', `the stored build context is not a readable tar archive (${(err as Error).message})`);
  }
  for (let i = 0; i < parts.length; i++) {
    const rel = parts.slice(0, i + 1).join('/');
    const type = types.get(rel);
    if (type === 'symlink') {
      throw dockerfileError(field, `${JSON.stringify(dockerfile)} goes through the symlink ${JSON.stringify(rel)} of the uploaded context; the Dockerfile must be a file of the build context reached without symlinks`);
    }
  }
  if (types.get(df) !== 'file') throw dockerfileError(field, `no file ${JSON.stringify(df)} in the uploaded build context`);
}

/**
 * The text of an uploaded context's Dockerfile, once checkArchiveDockerfile passed: the last
 * entry of that path (Docker unpacks in order, so a later duplicate is the one it reads).
 * Refuses one larger than `maxBytes`, naming `field`.
 */
export async function readArchiveDockerfile(file: string, dockerfile: string, field: string, maxBytes: number): Promise<string> {
  await checkArchiveDockerfile(file, dockerfile, field);
  const df = normalizeDockerfilePath(dockerfile);
  const extract = tarStream.extract();
  const input = createReadStream(file);
  input.pipe(extract as unknown as NodeJS.WritableStream);
  let text: string | null = null;
  try {
    for await (const entry of extract) {
      if (entryPath(entry.header.name) !== df) {
        entry.resume();
        continue;
      }
      if ((entry.header.size ?? 0) > maxBytes) {
        entry.resume();
        throw dockerfileError(field, `${JSON.stringify(dockerfile)} is larger than ${maxBytes} bytes`);
      }
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      text = Buffer.concat(chunks).toString('utf8');
    }
  } catch (err) {
    input.destroy();
    if (err instanceof SlipwayError) throw err;
    throw new SlipwayError('SLW_BAD_REQUEST', `the stored build context is not a readable tar archive (${(err as Error).message})`);
  }
  if (text === null) throw dockerfileError(field, `no file ${JSON.stringify(df)} in the uploaded build context`);
  return text;
}

/** An entry name as a context-relative path: `./a/b/` → `a/b`. */
function entryPath(name: string): string {
  return path.posix.normalize(name).replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}

function dockerfileError(field: string, message: string): SlipwayError {
  return new SlipwayError('SLW_CONFIG_INVALID', `${field}: ${message}`, [{ path: field, message }]);
}

function bad(reason: string): SlipwayError {
  return new SlipwayError('SLW_BAD_REQUEST', `the uploaded build context was refused: ${reason}`, [{ path: 'body', message: reason }]);
}
