/**
 * Build contexts kept by the control plane as tar archives named by their sha256, so a
 * client uploads one once and the server never reads the client's filesystem. Archives
 * are kept per project: a hash uploaded for one project is neither visible to nor
 * deployable by another (the hash is not a capability).
 */
import type { Readable } from 'node:stream';

export interface StoredArchive {
  sha256: string;
  bytes: number;
  /** Files and symlinks in it. */
  files: number;
}

export interface ArchiveLookup {
  /**
   * Also look in the pool shared by all projects that servers before per-project archives
   * kept (only for an unrestricted caller; it is pruned like any archive).
   */
  legacy?: boolean;
}

export interface SourceArchives {
  /** Path of the project's stored archive (its last use is refreshed), or null when absent. */
  find(project: string, sha256: string, opts?: ArchiveLookup): Promise<string | null>;
  describe(project: string, sha256: string, opts?: ArchiveLookup): Promise<StoredArchive | null>;
  /**
   * Stores an upload for the project after checking that its bytes hash to `sha256` and
   * that it is a tar of plain relative entries; refuses it past `maxBytes`.
   */
  receive(project: string, sha256: string, body: Readable, maxBytes: number): Promise<StoredArchive & { existed: boolean }>;
  /** Packs a directory's build context (`.dockerignore` honoured) and stores it for the project. */
  packDirectory(project: string, contextDir: string, dockerfile: string): Promise<StoredArchive>;
  /** Removes every archive of the project (project deletion); returns how many. */
  removeProject(project: string): Promise<number>;
  /** Runs `fn` with a fresh scratch directory (for a git checkout), removed afterwards. */
  withScratchDir<T>(fn: (dir: string) => Promise<T>): Promise<T>;
}
