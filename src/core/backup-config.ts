/**
 * An accessory's `backup:` as written → BackupPolicy. Accessories of the built-in images are
 * backed up by default (`backup: off` turns that off): Postgres with pgBackRest (WAL archived
 * continuously, a full or differential backup on the schedule), Redis as RDB snapshots, NATS as
 * JetStream stream snapshots; `container` accessories when `backup:` is written (their volumes
 * copied while the container is stopped). Every scheduled backup is verified by restoring it.
 */
import type { AccessoryKind } from './config';
import { parseDuration } from './duration';

export interface BackupPolicy {
  /** Cron (UTC) of scheduled backups; null: only by hand and before releases. */
  schedule: string | null;
  /** A scheduled backup is full when the last full one is older than this; differential otherwise. */
  fullEveryMs: number;
  retention: {
    /** Full backups kept (with the differentials and WAL that depend on them). */
    full: number;
    /** Every point of this window stays restorable (older full backups are kept as long as needed). */
    pitrMs: number;
  };
  verify: {
    /** Null: every scheduled backup is verified right after it; else the newest backup, this often. */
    everyMs: number | null;
    /** Queries run on the restored copy; each must succeed (and a count must not be 0). */
    sql: string[];
  };
}

export interface BackupWritten {
  schedule?: string | false;
  full_every?: string | number;
  retention?: { full?: number; pitr?: string | number };
  verify?: { every?: string | number; sql?: string[] };
}

export const DEFAULT_BACKUP_SCHEDULE = '0 3 * * *';
const DAY_MS = 86_400_000;

/** Where the repository volume is mounted in the Postgres container (the image's own pgBackRest directory: a new volume starts owned by postgres). */
export const PGBACKREST_REPO_PATH = '/var/lib/pgbackrest';
/** The volume holding the repository: beside the data volume, never inside it. */
export const BACKUP_VOLUME = 'backup';
export const PGBACKREST_STANZA = 'main';

/** pgBackRest sets (postgres) or whole snapshots (redis RDB, nats stream snapshots, container volume copies). */
export function backupMethod(kind: AccessoryKind): 'pgbackrest' | 'snapshot' {
  return kind === 'postgres' ? 'pgbackrest' : 'snapshot';
}

/** Problems of a written `backup` for an accessory (paths relative to `backup`): the Postgres-only settings on a snapshot kind. */
export function backupProblems(kind: AccessoryKind, written: BackupWritten | false | 'off' | undefined): Array<{ path: Array<string | number>; message: string }> {
  if (written === undefined || written === false || written === 'off' || backupMethod(kind) === 'pgbackrest') return [];
  const out: Array<{ path: Array<string | number>; message: string }> = [];
  const why = `${kind} backups are whole snapshots`;
  if (written.full_every !== undefined) out.push({ path: ['full_every'], message: `applies to postgres only (${why}, each one full); remove it` });
  if (written.retention?.pitr !== undefined) out.push({ path: ['retention', 'pitr'], message: `applies to postgres only (${why}: no point-in-time recovery); keep a number of them with retention.full` });
  if (written.verify?.sql !== undefined) out.push({ path: ['verify', 'sql'], message: `applies to postgres only (a ${kind} backup is verified by restoring it and comparing what it holds)` });
  return out;
}

/** The policy: null when off; built-in images get the defaults when `backup` is absent, other images only when it is written. */
export function normalizeBackup(kind: AccessoryKind, builtIn: boolean, written: BackupWritten | false | 'off' | undefined): BackupPolicy | null {
  if (written === false || written === 'off') return null;
  // Another image may lack pgBackRest (or redis-cli): backups are on when asked for (and checked when they run).
  if (written === undefined && !builtIn) return null;
  const w = written ?? {};
  return {
    schedule: w.schedule === false ? null : (w.schedule ?? DEFAULT_BACKUP_SCHEDULE),
    fullEveryMs: w.full_every === undefined ? 7 * DAY_MS : parseDuration(w.full_every)!,
    retention: { full: w.retention?.full ?? 4, pitrMs: w.retention?.pitr === undefined ? 7 * DAY_MS : parseDuration(w.retention.pitr)! },
    verify: { everyMs: w.verify?.every === undefined ? null : parseDuration(w.verify.every)!, sql: w.verify?.sql ?? [] },
  };
}

/**
 * The Postgres container's settings for a policy: pgBackRest's options as its PGBACKREST_*
 * variables (so `archive_command`, Slipway's execs and a restore all see one configuration), and
 * the server options that archive every WAL segment (at least once a minute when writes are few).
 */
export function postgresBackupEnv(dataDir: string): Record<string, string> {
  return {
    PGBACKREST_STANZA: PGBACKREST_STANZA,
    PGBACKREST_PG1_PATH: dataDir,
    PGBACKREST_REPO1_PATH: PGBACKREST_REPO_PATH,
    // Slipway expires backups itself (retention: count and window together, core/plan-backup-expiry.ts).
    PGBACKREST_REPO1_RETENTION_FULL: '9999999',
    PGBACKREST_LOG_LEVEL_FILE: 'off',
    PGBACKREST_LOG_LEVEL_CONSOLE: 'info',
    PGBACKREST_START_FAST: 'y',
  };
}

export const POSTGRES_ARCHIVE_ARGS: readonly string[] = ['-c', 'archive_mode=on', '-c', 'archive_command=pgbackrest archive-push %p', '-c', 'archive_timeout=60'];
