/**
 * A build context packed into a file, with its content address. The CLI writes one per
 * service before uploading (so it can ask the server first whether it already has it);
 * the server writes one per git checkout. Same tree → same bytes → same sha256.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SlipwayError, errorMessage } from '../core/errors';
import { packContext } from './build-context';

export interface SourceArchive {
  file: string;
  /** sha256 of the archive bytes, hex. */
  sha256: string;
  bytes: number;
  /** Files and symlinks in the archive (directories not counted). */
  files: number;
}

export { SHA256_RE } from '../core/content-address';

export async function writeSourceArchive(contextDir: string, dockerfile: string, file: string): Promise<SourceArchive> {
  let files = 0;
  const tar = await packContext(contextDir, dockerfile, (e) => {
    if (e.type !== 'directory') files++;
  });
  const hash = createHash('sha256');
  let bytes = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await pipeline(tar, measure, createWriteStream(file, { mode: 0o600 }));
  } catch (err) {
    await rm(file, { force: true });
    if (err instanceof SlipwayError) throw err;
    throw new SlipwayError('SLW_BUILD_FAILED', `could not pack the build context ${contextDir}: ${errorMessage(err)}`);
  }
  return { file, sha256: hash.digest('hex'), bytes, files };
}
