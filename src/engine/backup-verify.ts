/**
 * Verifying a backup by restoring it: a scratch container of the accessory's image restores
 * the set to its restore point from the repository and runs it. Checks, in order (the first
 * failure ends the run): pgBackRest's own verify of the set, the restore, the server recovering
 * and promoting, every table's rows equal to the counts recorded at the restore point, and the
 * accessory's `verify.sql` queries (each must succeed; a single count must not be 0). The scratch
 * container and its volume are removed afterwards, whatever happened.
 */
import type { BackupPolicy } from '../core/backup-config';
import type { AccessoryRecord, BackupRecord, BackupVerification } from '../core/domain';
import { errorMessage } from '../core/errors';
import { verifyProblems } from '../core/pgbackrest-output';
import { openScratch, type Scratch } from './backup-scratch';
import type { EngineContext } from './engine-context';
import { COUNT_TABLES_SQL, parseCounts } from './pg-in-container';

export interface VerifyTarget {
  project: string;
  env: string;
  record: AccessoryRecord;
  policy: BackupPolicy;
  backup: BackupRecord;
}

export async function verifyBackup(ctx: EngineContext, v: VerifyTarget, progress: (line: string) => void): Promise<BackupRecord> {
  return recordVerification(ctx, v.backup.id, progress, async (pass, fail) => {
    let scratch: Scratch | null = null;
    try {
      progress(`verifying backup ${v.backup.id} (${v.backup.label}) of ${v.record.name} in a scratch container`);
      scratch = await openScratch(ctx.runtime, { project: v.project, env: v.env, name: `${v.record.name}-verify-${v.backup.id.slice(0, 8)}`, source: v.record });
      return await runChecks(scratch, v, progress, pass, fail);
    } catch (err) {
      return fail('scratch container', errorMessage(err));
    } finally {
      await scratch?.close(true);
    }
  });
}

/**
 * Runs a verification's checks and stores its progress with the backup: `running` at once (a
 * restart finds it and fails it), then passed or failed with every check's outcome. `run`
 * reports each check through pass/fail and resolves with the first failure (null: all passed).
 */
export async function recordVerification(
  ctx: EngineContext,
  backupId: string,
  progress: (line: string) => void,
  run: (pass: (name: string, detail: string) => void, fail: (name: string, detail: string) => string) => Promise<string | null>,
): Promise<BackupRecord> {
  const { store } = ctx;
  const startedAt = new Date().toISOString();
  const checks: BackupVerification['checks'] = [];
  const state = (s: BackupVerification['state'], error: string | null): BackupVerification => {
    const finishedAt = s === 'running' ? null : new Date().toISOString();
    return { state: s, startedAt, finishedAt, durationMs: finishedAt ? Date.parse(finishedAt) - Date.parse(startedAt) : null, checks: [...checks], error };
  };
  await store.updateBackup(backupId, { verification: state('running', null) });
  const pass = (name: string, detail: string) => {
    checks.push({ name, ok: true, detail });
    progress(`✓ ${name}: ${detail}`);
  };
  const fail = (name: string, detail: string) => {
    checks.push({ name, ok: false, detail });
    progress(`✗ ${name}: ${detail}`);
    return detail;
  };
  let error: string | null;
  try {
    error = await run(pass, fail);
  } catch (err) {
    error = fail('verification', errorMessage(err));
  }
  const done = await store.updateBackup(backupId, { verification: state(error ? 'failed' : 'passed', error) });
  progress(error ? `verification FAILED: ${error}` : `verification passed (${checks.length} checks)`);
  return done;
}

async function runChecks(
  scratch: Scratch,
  v: VerifyTarget,
  progress: (line: string) => void,
  pass: (name: string, detail: string) => void,
  fail: (name: string, detail: string) => string,
): Promise<string | null> {
  const label = v.backup.label!;
  const t0 = Date.now();
  const verified = await scratch.verifySet(label).catch((err: unknown) => err as Error);
  if (verified instanceof Error) return fail('pgbackrest verify', verified.message);
  const problems = verifyProblems(verified);
  if (problems.length) return fail('pgbackrest verify', problems.join('; '));
  pass('pgbackrest verify', `set ${label}: every file's checksum and the WAL it needs are intact (${Date.now() - t0} ms)`);

  const t1 = Date.now();
  const restored = await scratch.restore({ kind: 'point', label, restorePoint: v.backup.restorePoint }, progress).catch((err: unknown) => err as Error);
  if (restored instanceof Error) return fail('restore and recovery', restored.message);
  pass('restore and recovery', `restored to ${v.backup.restorePoint ? `restore point ${v.backup.restorePoint}` : 'the end of the backup'}, recovered and promoted in ${((Date.now() - t1) / 1000).toFixed(1)} s`);

  const database = v.record.config.database ?? 'postgres';
  if (v.backup.tableCounts) {
    const found = await scratch.rows(database, COUNT_TABLES_SQL).then(parseCounts, (err: unknown) => err as Error);
    if (found instanceof Error) return fail('row counts', found.message);
    const wrong = Object.entries(v.backup.tableCounts)
      .filter(([table, n]) => found[table] !== n)
      .map(([table, n]) => `${table}: ${found[table] ?? 'missing'} restored, ${n} recorded`);
    if (wrong.length) return fail('row counts', wrong.slice(0, 10).join('; '));
    const rows = Object.values(v.backup.tableCounts).reduce((a, n) => a + n, 0);
    pass('row counts', `${Object.keys(v.backup.tableCounts).length} tables, ${rows} rows: as recorded at the restore point`);
  }
  for (const [i, sql] of v.policy.verify.sql.entries()) {
    const name = `verify.sql[${i}]`;
    const rows = await scratch.rows(database, sql).catch((err: unknown) => err as Error);
    if (rows instanceof Error) return fail(name, rows.message);
    const single = rows.length === 1 && rows[0]!.length === 1 ? rows[0]![0]! : null;
    if (single !== null && /^\d+$/.test(single) && Number(single) === 0) return fail(name, `${sql} returned 0`);
    pass(name, single !== null ? `${sql} → ${single}` : `${sql} → ${rows.length} row(s)`);
  }
  return null;
}
