/**
 * Commands run inside a Postgres container as its `postgres` user (pgBackRest, pg_ctl, psql over
 * the local socket, which trusts it): setpriv drops root, as the image's entrypoint does. SQL
 * reaches psql through an environment variable on its stdin, never inside a shell string.
 */
import { SlipwayError } from '../core/errors';
import type { ExecResult, Runtime } from '../core/ports/runtime';

const AS_POSTGRES = ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups'];
const PSQL_SCRIPT = 'printf \'%s\\n\' "$SLIPWAY_SQL" | psql -X -q -A -t -F "|" -v ON_ERROR_STOP=1 -d "$SLIPWAY_DB" -f -';

export interface PgExecOptions {
  timeoutMs: number;
  onOutput?: (line: string) => void;
  env?: Record<string, string>;
}

export function asPostgres(runtime: Runtime, containerId: string, argv: string[], opts: PgExecOptions): Promise<ExecResult> {
  return runtime.exec(containerId, [...AS_POSTGRES, ...argv], opts);
}

/** pgBackRest's "[050] unable to acquire lock": another pgBackRest process of this stanza is running. */
export const PGBACKREST_LOCKED = /ERROR: \[050\]/;
const LOCK_WAIT_MS = 60_000;

/**
 * A pgBackRest command as the postgres user that waits out another pgBackRest process holding
 * the stanza's lock ([050]): a stanza-create of the accessory's readiness check, or archiving
 * at start, overlaps a backup for a second or two, which is no reason to fail a deployment.
 * Backups of ours are one at a time already (BackupService), so a lock held longer than
 * LOCK_WAIT_MS is reported as it is.
 */
export async function pgBackRest(
  runtime: Runtime,
  containerId: string,
  args: string[],
  opts: PgExecOptions & { sleep?: (ms: number) => Promise<void>; onLocked?: () => void },
): Promise<ExecResult> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const run = () => asPostgres(runtime, containerId, ['pgbackrest', ...args], opts);
  let r = await run();
  for (let waited = 0; r.exitCode !== 0 && PGBACKREST_LOCKED.test(r.output) && waited < LOCK_WAIT_MS; waited += 1000) {
    opts.onLocked?.();
    await sleep(1000);
    r = await run();
  }
  return r;
}

/** Fails with the command's last output lines when it did not exit 0. */
export async function mustSucceed(what: string, r: Promise<ExecResult>, lines = 12): Promise<string> {
  const res = await r;
  if (res.exitCode === 0) return res.output;
  throw new SlipwayError('SLW_BACKUP_FAILED', `${what} ${res.timedOut ? 'timed out' : `failed (exit ${res.exitCode ?? 'unknown'})`}${failureText(res.output, lines)}`);
}

/**
 * What a failed command said, for an error people read (status, the dashboard): its ERROR and
 * FATAL lines when it printed any (pgBackRest's and psql's; the progress log keeps the rest),
 * else its last lines.
 */
export function failureText(output: string, lines = 12): string {
  const all = output.split('\n').filter((l) => l.trim());
  const errors = all.map((l) => /\b(?:ERROR|FATAL): .*/.exec(l)?.[0]).filter((l): l is string => l !== undefined);
  if (errors.length > 0) return `: ${errors.slice(0, 3).join('; ')}`;
  const tail = all.slice(-lines).join('\n');
  return tail ? `:\n${tail}` : '';
}

/** Runs SQL in a database with psql (unaligned, `|`-separated, tuples only); resolves with its rows. */
export async function psqlRows(runtime: Runtime, containerId: string, database: string, sql: string, timeoutMs = 120_000): Promise<string[][]> {
  const out = await mustSucceed('psql', asPostgres(runtime, containerId, ['sh', '-c', PSQL_SCRIPT], { timeoutMs, env: { SLIPWAY_SQL: sql, SLIPWAY_DB: database } }));
  return out
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split('|'));
}

/** Quotes a value as a SQL string literal (restore point names, never user input with secrets). */
export const sqlLiteral = (v: string): string => `'${v.replace(/'/g, "''")}'`;

/** Row counts of every logged table of the database (`schema.table` → rows), as `count|name|n` lines; unlogged tables come back empty from any recovery. */
export const COUNT_TABLES_SQL = `SELECT 'count', n.nspname || '.' || c.relname,
  (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM ONLY %I.%I', n.nspname, c.relname), false, true, '')))[1]::text
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND c.relpersistence = 'p' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
ORDER BY 2;`;

export function parseCounts(rows: string[][]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) if (r[0] === 'count' && r[1] !== undefined) out[r[1]] = Number(r[2] ?? 0);
  return out;
}

/**
 * Counts rows and makes a restore point in one transaction holding SHARE locks on every table
 * (writers wait for the count; readers do not), so the counts are exactly what a recovery to
 * that restore point finds. The WAL segment holding it is switched out for archiving.
 */
export function countAndMarkSql(restorePoint: string): string {
  return [
    'BEGIN;',
    "SET LOCAL lock_timeout = '5s';",
    `DO $$DECLARE r record; BEGIN
  FOR r IN SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'p' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%' LOOP
    EXECUTE format('LOCK TABLE %I.%I IN SHARE MODE', r.nspname, r.relname);
  END LOOP;
END $$;`,
    COUNT_TABLES_SQL,
    `SELECT 'mark', pg_create_restore_point(${sqlLiteral(restorePoint)})::text;`,
    "SELECT 'segment', pg_walfile_name(pg_current_wal_lsn());",
    'COMMIT;',
    'SELECT pg_switch_wal() IS NOT NULL;',
  ].join('\n');
}
