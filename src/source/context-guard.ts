/** The ContextGuard port over the local filesystem (git checkouts) and stored tar archives. */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { SlipwayError } from '../core/errors';
import { DOCKERFILE_MAX_BYTES, type CheckoutContext, type ContextGuard } from '../core/ports/context-guard';
import { checkArchiveDockerfile, readArchiveDockerfile } from './archive-check';
import { resolveContextPath } from './context-path';

export const fsContextGuard: ContextGuard = {
  resolveCheckoutContext: (c) => resolveContextPath(c),
  checkArchiveDockerfile: (archiveFile, dockerfile, field) => checkArchiveDockerfile(archiveFile, dockerfile, field),
  readArchiveDockerfile: (archiveFile, dockerfile, field) => readArchiveDockerfile(archiveFile, dockerfile, field, DOCKERFILE_MAX_BYTES),
  readCheckoutDockerfile,
};

async function readCheckoutDockerfile(c: CheckoutContext): Promise<string> {
  const { contextDir, dockerfile } = await resolveContextPath(c);
  // Resolved without symlinks above; O_NOFOLLOW keeps it so if the file changed since.
  const fh = await open(path.join(contextDir, dockerfile), constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const { size } = await fh.stat();
    if (size > DOCKERFILE_MAX_BYTES) {
      const message = `${JSON.stringify(c.dockerfile)} is larger than ${DOCKERFILE_MAX_BYTES} bytes`;
      throw new SlipwayError('SLW_CONFIG_INVALID', `${c.field}.dockerfile: ${message}`, [{ path: `${c.field}.dockerfile`, message }]);
    }
    return await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
}
