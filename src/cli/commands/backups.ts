/**
 * `slipway backups [accessory]`, `slipway backups verify <id>`, `slipway backup <accessory>`
 * and `slipway restore <accessory>`: backups of postgres accessories (pgBackRest). Progress
 * goes to stderr, the outcome to stdout (the view with --json); a failed backup, a failed
 * verification or a failed restore exits 1.
 */
import type { Command } from 'commander';
import type { BackupEvent, BackupView, RestoreEvent, SlipwayClient } from '../../client/api-client';
import { CliError } from '../cli-error';
import { connect, type GlobalOptions } from '../connection';
import { printJson, printTable } from '../output';
import { projectName } from '../project-file';
import { projectOptions } from '../project-options';
import {
  BACKUP_COLUMNS,
  backupProblemLines,
  backupRows,
  backupSummaryLines,
  isFullBackupId,
  matchBackupId,
  restoreFlagsProblem,
  restoreLines,
  verificationLines,
  type RestoreDone,
} from '../backups-format';

interface ProjectOpts {
  project?: string;
  file?: string;
  env: string;
}

const progress = (line: string) => process.stderr.write(`${line}\n`);

/** A full id as given; a prefix (the 8 characters the table shows) looked up among the environment's backups. */
async function resolveBackupId(client: SlipwayClient, given: string, opts: ProjectOpts, accessory?: string): Promise<string> {
  if (isFullBackupId(given.toLowerCase())) return given.toLowerCase();
  const project = projectName(opts);
  const { backups } = await client.backups(project, opts.env, { accessory, expired: true, limit: 1000 });
  const m = matchBackupId(given, backups, `${accessory ? `${accessory} in ` : ''}${project}/${opts.env}`);
  if ('problem' in m) throw new CliError(m.problem);
  return m.id;
}

/** Reads a backup stream to its end: the backup on `done`; an `error` line (or no outcome) throws. */
async function finalBackup(events: AsyncIterable<BackupEvent>, json: boolean): Promise<BackupView> {
  for await (const ev of events) {
    if (ev.type === 'progress') progress(ev.line);
    else if (ev.type === 'done') return ev.backup;
    else {
      if (json) printJson({ error: { code: ev.code, message: ev.message }, backup: ev.backup });
      const why = ev.backup?.error && !ev.message.includes(ev.backup.error) ? ` (${ev.backup.error})` : '';
      throw new CliError(`✗ FAILED: ${ev.message}${why} [${ev.code}]${ev.backup ? `\n  backup ${ev.backup.id} is recorded as failed` : ''}`);
    }
  }
  throw new CliError('the server closed the stream without an outcome; see `slipway backups` for what was recorded');
}

async function finalRestore(events: AsyncIterable<RestoreEvent>, json: boolean): Promise<RestoreDone> {
  for await (const ev of events) {
    if (ev.type === 'progress') progress(ev.line);
    else if (ev.type === 'done') return { accessory: ev.accessory, inPlace: ev.inPlace, backup: ev.backup, toTime: ev.toTime, safetyBackup: ev.safetyBackup, next: ev.next };
    else {
      if (json) printJson({ error: { code: ev.code, message: ev.message } });
      throw new CliError(`✗ FAILED: ${ev.message} [${ev.code}]`);
    }
  }
  throw new CliError('restore: the server closed the stream without an outcome; check `slipway accessories` before trying again');
}

export function registerBackups(program: Command): void {
  // No options on the group itself: they would swallow the subcommands' own.
  const group = program.command('backups').description('backups of postgres accessories (pgBackRest): list them, verify one');

  projectOptions(
    group
      .command('list', { isDefault: true })
      .description('the environment\'s backups, newest first: type, trigger, state, size, duration, verified (the default: `slipway backups`)')
      .argument('[accessory]', 'only this accessory')
      .option('--all', 'also backups retention removed (expired), up to 1000'),
  ).action(async (accessory: string | undefined, opts: ProjectOpts & { all?: boolean }, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const project = projectName(opts);
    const { backups } = await connect(g).backups(project, opts.env, { accessory, ...(opts.all ? { expired: true, limit: 1000 } : {}) });
    if (g.json) return printJson(backups);
    if (backups.length === 0) {
      return console.log(`no backups${accessory ? ` of ${accessory}` : ''} in ${project}/${opts.env} yet${opts.all ? '' : ' (expired ones: --all)'}; back up now: slipway backup ${accessory ?? '<accessory>'}`);
    }
    printTable(backupRows(backups), BACKUP_COLUMNS);
    const problems = backupProblemLines(backups);
    if (problems.length) console.log(`\n${problems.join('\n')}`);
  });

  projectOptions(
    group
      .command('verify')
      .description('verify a backup now: restore it into a scratch container, start it, count rows, run the backup.verify queries (exit 1 if it fails)')
      .argument('<id>', 'the backup (its id, or the first characters `slipway backups` shows; those are looked up in -p/--env)'),
  ).action(async (id: string, opts: ProjectOpts, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const client = connect(g);
    const full = await resolveBackupId(client, id, opts);
    progress(`verifying backup ${full}…`);
    const backup = await finalBackup(client.verifyBackup(full), Boolean(g.json));
    if (g.json) printJson(backup);
    else for (const line of verificationLines(backup)) console.log(line);
    if (backup.verification?.state !== 'passed') throw new CliError('', 1);
  });
}

export function registerBackup(program: Command): void {
  projectOptions(
    program
      .command('backup')
      .description('back up a postgres accessory now (progress on stderr; exit 1 if it fails)')
      .argument('<accessory>', 'the postgres accessory')
      .option('--full', 'a full backup')
      .option('--diff', 'a differential backup (changes since the last full one)'),
  ).action(async (accessory: string, opts: ProjectOpts & { full?: boolean; diff?: boolean }, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    if (opts.full && opts.diff) throw new CliError('backup: give --full or --diff, not both (neither: full when there is no recent full backup, else differential)');
    const project = projectName(opts);
    const type = opts.full ? 'full' : opts.diff ? 'diff' : undefined;
    progress(`backing up ${accessory} in ${project}/${opts.env}${type ? ` (${type})` : ''}…`);
    const backup = await finalBackup(connect(g).createBackup(project, opts.env, accessory, type ? { type } : {}), Boolean(g.json));
    if (g.json) return printJson(backup);
    for (const line of backupSummaryLines(backup)) console.log(line);
  });
}

export function registerRestore(program: Command): void {
  projectOptions(
    program
      .command('restore')
      .description('restore a postgres accessory from a backup or to a point in time: into a new accessory beside it (default), or in place (admin token)')
      .argument('<accessory>', 'the postgres accessory whose backups to restore')
      .option('--backup <id>', 'this backup (its id or first characters, from `slipway backups`)')
      .option('--to-time <time>', 'the state at this moment (ISO 8601 with a zone, e.g. 2026-12-07T10:30:00Z)')
      .option('--in-place', 'replace the live data: services using it are stopped, a backup of the current state is taken first')
      .option('-y, --yes', 'confirm --in-place'),
  ).action(async (accessory: string, opts: ProjectOpts & { backup?: string; toTime?: string; inPlace?: boolean; yes?: boolean }, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const client = connect(g);
    const project = projectName(opts);
    const where = `${project}/${opts.env}`;
    // Say who would be stopped, when it is known; the refusal does not depend on it.
    const usedBy = opts.inPlace && !opts.yes ? await client.accessories(project, opts.env).then((r) => r.accessories.find((a) => a.name === accessory)?.usedBy ?? null, () => null) : null;
    const problem = restoreFlagsProblem(opts, { accessory, where, usedBy });
    if (problem) throw new CliError(problem);
    const backup = opts.backup === undefined ? undefined : await resolveBackupId(client, opts.backup, opts, accessory);
    progress(`restoring ${backup ? `backup ${backup}` : `the state at ${opts.toTime}`} of ${accessory} in ${where}${opts.inPlace ? ' IN PLACE' : ''}…`);
    const done = await finalRestore(client.restore(project, opts.env, accessory, { ...(backup ? { backup } : { toTime: opts.toTime }), inPlace: Boolean(opts.inPlace) }), Boolean(g.json));
    if (g.json) return printJson(done);
    for (const line of restoreLines(done)) console.log(line);
  });
}
