/**
 * Build contexts kept by the control plane as tar archives named by their sha256, so a
 * client uploads one once and the server never reads the client's filesystem.
 */
import type { Readable } from 'node:stream';

export interface StoredArchive {
  sha256: string;
  bytes: number;
  /** Files and symlinks in it. */
  files: number;
}

export interface SourceArchives {
  /** Path of the stored archive (its last use is refreshed), or null when absent. */
  find(sha256: string): Promise<string | null>;
  describe(sha256: string): Promise<StoredArchive | null>;
  /**
   * Stores an upload after checking that its bytes hash to `sha256` and that it is a
   * tar of plain relative entries; refuses it past `maxBytes`.
   */
  receive(sha256: string, body: Readable, maxBytes: number): Promise<StoredArchive & { existed: boolean }>;
  /** Packs a directory's build context (`.dockerignore` honoured) and stores it. */
  packDirectory(contextDir: string, dockerfile: string): Promise<StoredArchive>;
  /** Runs `fn` with a fresh scratch directory (for a git checkout), removed afterwards. */
  withScratchDir<T>(fn: (dir: string) => Promise<T>): Promise<T>;
}
