/**
 * The migration lint in a deployment (issue 21): before the release command runs, the SQL it
 * will run is read from the release image (`migrations.dir`: the .sql files not yet recorded
 * for this service and environment; or `migrations.lint_command`'s output) and linted
 * (core/migration-lint.ts). In production a finding fails the deployment before the backup and
 * the release command, unless the deploy asked for `--allow-destructive`; elsewhere findings
 * are warnings. The files are recorded once the release command has succeeded.
 */
import type { Release, ServiceRef } from '../core/domain';
import { SlipwayError, errorMessage, isSlipwayError } from '../core/errors';
import { formatFinding, lintMigrationSql, type LintFinding, type MigrationFile } from '../core/migration-lint';
import type { DeploymentRecorder } from './deployment-recorder';
import type { EngineContext } from './engine-context';
import { releasePhaseOneOff } from './release-command';
import { releaseCommandImage } from './release-image';

/** The SQL the lint reads at most (files of the directory in all, or the command's output). */
export const MAX_MIGRATION_SQL_BYTES = 4 * 1024 * 1024;
/** Findings named in the deployment's error (all of them are in its log). */
const FINDINGS_IN_ERROR = 5;
/** The name findings give the output of `lint_command`. */
const LINT_COMMAND_OUTPUT = 'lint_command output';

export interface MigrationCheckOptions {
  /** The deploy asked for `--allow-destructive`: production findings are logged, not blocking. */
  allowDestructive: boolean;
  /** A promotion (the refusal names `slipway promote --allow-destructive`). */
  promoted?: boolean;
  /** Who asked for the deployment (named when --allow-destructive lets findings through). */
  requestedBy?: string | null;
}

/** What the lint saw, for the record kept once the release command succeeds. */
export interface MigrationCheck {
  /** The migration files in the image (`dir`); null for `lint_command` (nothing to record). */
  files: string[] | null;
}

/** Reads and lints the release's migrations; null when the service has no `migrations`. Throws SLW_MIGRATION_BLOCKED in production. */
export async function checkMigrations(
  ctx: EngineContext,
  ref: ServiceRef,
  release: Release,
  deploymentId: string,
  rec: DeploymentRecorder,
  opts: MigrationCheckOptions,
): Promise<MigrationCheck | null> {
  const m = release.config.migrations;
  if (!m || !release.config.releaseCommand) return null;
  let outcome = '';
  return rec.step(
    'migration lint',
    async () => {
      const read = m.dir !== null ? await pendingFiles(ctx, ref, release, m.dir, rec) : await commandSql(ctx, ref, release, deploymentId, m.lintCommand!, rec);
      const findings = await lintMigrationSql(read.files, { existingTables: 'unknown' });
      outcome = await judge(ref, findings, read.mask, rec, opts, read.files.length);
      return { files: read.all };
    },
    () => outcome,
  );
}

/** Records the migration files of a release whose release command succeeded; never fails the deployment. */
export async function recordMigrations(ctx: EngineContext, release: Release, check: MigrationCheck | null, rec: DeploymentRecorder): Promise<void> {
  if (!check?.files?.length) return;
  try {
    await ctx.store.recordAppliedMigrations(release.serviceId, release.environmentId, check.files);
  } catch (err) {
    await rec.log(`could not record the applied migration files (${errorMessage(err)}): the next deployment lints them again`, 'warn');
  }
}

interface SqlRead {
  files: MigrationFile[];
  all: string[] | null;
  mask: (text: string) => string;
}

/** The .sql files of `dir` in the release image that are not recorded as applied yet. */
async function pendingFiles(ctx: EngineContext, ref: ServiceRef, release: Release, dir: string, rec: DeploymentRecorder): Promise<SqlRead> {
  const { image } = releaseCommandImage(release, ref.service);
  let files;
  try {
    files = await ctx.runtime.readImageFiles(image, dir, { maxBytes: MAX_MIGRATION_SQL_BYTES });
  } catch (err) {
    if (!isSlipwayError(err) || (err.code !== 'SLW_NOT_FOUND' && err.code !== 'SLW_TOO_LARGE')) throw err;
    const field = `services.${ref.service}.migrations.dir`;
    const expected = err.code === 'SLW_NOT_FOUND' ? 'must be the directory of the release image that holds the .sql files the release command runs' : `must hold at most ${MAX_MIGRATION_SQL_BYTES} bytes of .sql files`;
    throw new SlipwayError(err.code === 'SLW_NOT_FOUND' ? 'SLW_CONFIG_INVALID' : err.code, `${field}: ${err.message} (${image.slice(0, 19)}); it ${expected}`, [{ path: field, message: expected }]);
  }
  const applied = new Set(await ctx.store.listAppliedMigrations(release.serviceId, release.environmentId));
  const pending = files.filter((f) => !applied.has(f.name));
  const names = pending.map((f) => f.name);
  const shown = names.length > 10 ? `${names.slice(0, 10).join(', ')} and ${names.length - 10} more` : names.join(', ');
  await rec.log(`${files.length} .sql file(s) in ${dir}, ${pending.length} not applied yet${pending.length ? `: ${shown}` : ''}`);
  return { files: pending.map((f) => ({ name: `${dir}/${f.name}`, sql: f.content })), all: files.map((f) => f.name), mask: (t) => t };
}

/** The SQL `lint_command` prints (stdout), run like the release command; its stderr goes to the log. */
async function commandSql(ctx: EngineContext, ref: ServiceRef, release: Release, deploymentId: string, argv: string[], rec: DeploymentRecorder): Promise<SqlRead> {
  const shown = JSON.stringify(argv);
  const { spec, mask } = await releasePhaseOneOff(ctx, ref, release, deploymentId, 'lint');
  await rec.log(`running lint_command ${shown} in a one-off container of v${release.number} for the SQL of the release command`);
  const lines: string[] = [];
  let bytes = 0;
  const result = await ctx.runtime.runOnce({
    ...spec,
    argv,
    timeoutMs: release.config.releaseTimeoutMs,
    onOutput: (line, stream) => {
      if (stream === 'stderr') return void rec.log(`  lint | ${mask(line)}`, 'warn');
      bytes += Buffer.byteLength(line) + 1;
      if (bytes <= MAX_MIGRATION_SQL_BYTES) lines.push(line);
    },
  });
  const field = `services.${ref.service}.migrations.lint_command`;
  const fail = (why: string) => new SlipwayError('SLW_DEPLOY_FAILED', `${field} ${shown} ${why}; the release command did not run and no traffic moved`, [{ path: field, message: 'must print the SQL the release command will run and exit 0' }]);
  if (result.timedOut) throw fail(`did not finish within release_timeout (${Math.round(release.config.releaseTimeoutMs / 1000)}s)`);
  if (result.exitCode !== 0) throw fail(`exited with code ${result.exitCode}`);
  if (bytes > MAX_MIGRATION_SQL_BYTES) throw fail(`printed more than ${MAX_MIGRATION_SQL_BYTES} bytes of SQL (the migration lint reads at most that)`);
  await rec.log(`lint_command printed ${lines.length} line(s) of SQL`);
  return { files: [{ name: LINT_COMMAND_OUTPUT, sql: lines.join('\n') }], all: null, mask };
}

/** Logs the findings; in production without --allow-destructive, throws. Returns the step's summary. */
async function judge(ref: ServiceRef, findings: LintFinding[], mask: (t: string) => string, rec: DeploymentRecorder, opts: MigrationCheckOptions, files: number): Promise<string> {
  if (findings.length === 0) return files === 0 ? 'nothing new to lint' : `no findings in ${files} file(s)`;
  const blocking = ref.env === 'production' && !opts.allowDestructive;
  for (const f of findings) await rec.log(`  ${mask(formatFinding(f))}`, blocking ? 'error' : 'warn');
  const count = `${findings.length} finding(s)`;
  if (ref.env !== 'production') {
    await rec.log(`migration lint: ${count}; warnings only outside production (in production they block the deployment unless --allow-destructive)`, 'warn');
    return `${count}, warnings only in ${ref.env}`;
  }
  if (opts.allowDestructive) {
    await rec.log(`migration lint: ${count} allowed by --allow-destructive (requested by ${opts.requestedBy ?? 'unknown'})`, 'warn');
    return `${count}, allowed by --allow-destructive (requested by ${opts.requestedBy ?? 'unknown'})`;
  }
  const named = findings.slice(0, FINDINGS_IN_ERROR).map((f) => mask(`${f.file}:${f.line}: "${f.statement}" breaks rule ${f.rule} (${f.message}); safe pattern: ${f.safePattern}`));
  const more = findings.length > FINDINGS_IN_ERROR ? ` (and ${findings.length - FINDINGS_IN_ERROR} more in the deployment log)` : '';
  throw new SlipwayError(
    'SLW_MIGRATION_BLOCKED',
    `the migration lint blocked this production deployment before its release command (nothing ran, no traffic moved): ${named.join(' | ')}${more}. ` +
      `To run it anyway (after the pre-release backup), ${opts.promoted ? 'promote again with "slipway promote --allow-destructive"' : 'deploy again with "slipway deploy --allow-destructive"'} (recorded in the audit log)`,
    findings.slice(0, FINDINGS_IN_ERROR).map((f) => ({ path: `${f.file}:${f.line}`, message: `${f.rule}: ${f.safePattern}` })),
  );
}
