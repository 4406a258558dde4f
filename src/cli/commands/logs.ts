/**
 * `slipway logs <service>`: every replica's output merged in time order, prefixed with
 * release and replica; `-f` follows across deploys (replicas that start later join,
 * retired ones leave). `--since` and `--grep` are applied by the server (which names the
 * field when one is not valid); secret values stay masked unless `--unmask` (admin).
 */
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import { connect, type GlobalOptions } from '../connection';
import { formatLogEntry } from '../log-format';
import { projectName } from '../project-file';
import { projectOptions } from '../project-options';

export function registerLogs(program: Command): void {
  projectOptions(
    program
      .command('logs')
      .description("a service's container logs, every replica merged (JSON app logs pretty-printed; raw NDJSON entries with --json)")
      .argument('<service>')
      .option('-f, --follow', 'keep streaming, across deploys, rollbacks and restarts (the project file is --file here)')
      .option('-n, --tail <lines>', 'last lines per replica (default 100, or all with --since)')
      .option('--since <when>', 'only lines since a duration ago (10m, 2h) or an ISO time')
      .option('--grep <regex>', 'only lines matching this regular expression (RE2 syntax; (?i) ignores case)')
      .option('--release <vN>', 'only replicas of this release (v3 or 3)')
      .option('--unmask', 'show secret values as the app printed them (admin token; audited)'),
    { fileShort: false },
  ).action(async (service: string, opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const lines = connect(g).logs(projectName(opts), service, {
        env: opts.env,
        tail: opts.tail === undefined ? undefined : wholeNumber(opts.tail, '--tail'),
        follow: Boolean(opts.follow),
        since: opts.since,
        grep: opts.grep,
        release: opts.release === undefined ? undefined : releaseNumber(opts.release),
        unmask: Boolean(opts.unmask),
      });
      for await (const e of lines) console.log(g.json ? JSON.stringify(e) : formatLogEntry(e));
    });
}

function wholeNumber(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new CliError(`${flag}: expected a whole number, got "${value}"`);
  return n;
}

function releaseNumber(value: string): number {
  const m = /^v?(\d+)$/.exec(value);
  if (!m || Number(m[1]) < 1) throw new CliError(`--release: expected a release such as v3, got "${value}"`);
  return Number(m[1]);
}
