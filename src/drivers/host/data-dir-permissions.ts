/**
 * The data directory is private to the server's user: the database holds password hashes,
 * the audit log, configs and deployment logs; beside it lie the master key, the admin token,
 * the request-log key and the edge's config. Directories are 0700 and files 0600.
 *
 * At start everything under the directory is checked and whatever grants anything to group
 * or others is narrowed, with a warning naming the path and its old mode (a copy with `cp -r`,
 * a restore from a backup, or a version that wrote 0644). Files are also created with those
 * modes in the first place (explicit `mode`s). A process umask of 077 is not used for that:
 * build contexts are packed with the modes of the checked-out files, so it would produce
 * images whose files only root can read.
 */
import { chmodSync, closeSync, lstatSync, mkdirSync, openSync, readdirSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';

export interface PermissionFix {
  path: string;
  /** Old and new mode, octal (`0644` → `0600`). */
  was: string;
  now: string;
}

/** Individual warnings before the rest is summed up in one line. */
const MAX_WARNINGS = 20;

/** Creates `dir` (0700) if needed and narrows the modes of everything in it; returns what it changed. */
export function secureDataDir(dir: string, logger: Logger): PermissionFix[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const fixes: PermissionFix[] = [];
  walk(dir, fixes);
  for (const f of fixes.slice(0, MAX_WARNINGS)) {
    logger.warn({ path: f.path, mode: f.was, fixedTo: f.now }, 'data directory: this path was readable by other users; permissions fixed');
  }
  if (fixes.length > MAX_WARNINGS) logger.warn({ more: fixes.length - MAX_WARNINGS, dir }, 'data directory: more paths readable by other users were fixed');
  return fixes;
}

/**
 * Creates `file` empty with mode 0600 if it does not exist. For files another library creates
 * with its own default mode: SQLite makes a new database 0644 and gives its -wal and -shm
 * files the database file's mode, so creating it first makes all three private.
 */
export function ensurePrivateFile(file: string): void {
  closeSync(openSync(file, 'a', 0o600));
}

function walk(p: string, fixes: PermissionFix[]): void {
  let st: Stats;
  try {
    st = lstatSync(p);
  } catch {
    return; // gone meanwhile (a temporary file)
  }
  // A symlink's own mode means nothing and its target may be outside: never followed.
  if (st.isSymbolicLink()) return;
  if (st.isDirectory()) {
    narrow(p, st, fixes);
    for (const name of readdirSync(p)) walk(path.join(p, name), fixes);
    return;
  }
  narrow(p, st, fixes);
}

/** Removes every group and other permission bit (0644 → 0600, 0755 → 0700); the owner's bits stay. */
function narrow(p: string, st: Stats, fixes: PermissionFix[]): void {
  const mode = st.mode & 0o7777;
  if ((mode & 0o077) === 0) return;
  const next = mode & 0o7700;
  chmodSync(p, next);
  fixes.push({ path: p, was: octal(mode), now: octal(next) });
}

const octal = (mode: number) => `0${mode.toString(8).padStart(3, '0')}`;
