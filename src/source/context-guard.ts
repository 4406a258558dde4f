/** The ContextGuard port over the local filesystem (git checkouts) and stored tar archives. */
import type { ContextGuard } from '../core/ports/context-guard';
import { checkArchiveDockerfile } from './archive-check';
import { resolveContextPath } from './context-path';

export const fsContextGuard: ContextGuard = {
  resolveCheckoutContext: (c) => resolveContextPath(c),
  checkArchiveDockerfile: (archiveFile, dockerfile, field) => checkArchiveDockerfile(archiveFile, dockerfile, field),
};
