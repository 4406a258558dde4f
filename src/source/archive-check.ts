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

function bad(reason: string): SlipwayError {
  return new SlipwayError('SLW_BAD_REQUEST', `the uploaded build context was refused: ${reason}`, [{ path: 'body', message: reason }]);
}
