/** `slipway jobs`: the history of scheduled jobs; `slipway jobs show <run>` prints one run's output. */
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import { connect, type GlobalOptions } from '../connection';
import { ago, duration, printJson, printTable } from '../output';
import { projectName } from '../project-file';
import { projectOptions } from '../project-options';
import type { JobScheduleView } from '../../core/contract/views';

export function registerJobs(program: Command): void {
  const jobs = projectOptions(
    program
      .command('jobs')
      .description("each job's schedule in the environment (or that it is off there), then its runs (and skipped ticks), newest first")
      .argument('[service]', 'only this job')
      .option('-n, --limit <n>', 'how many runs', '20'),
  ).action(async (service: string | undefined, opts, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const limit = Number(opts.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new CliError(`--limit: expected a whole number from 1 to 500, got "${opts.limit}"`);
    const { runs, schedules } = await connect(g).jobRuns(projectName(opts), { env: opts.env, service, limit });
    if (g.json) return printJson(runs);
    for (const line of scheduleLines(schedules, opts.env)) console.log(line);
    if (runs.length === 0) return console.log(`no job runs yet in ${opts.env}${service ? ` for ${service}` : ''}`);
    printTable(
      runs.map((r) => ({
        run: `#${r.id}`,
        job: r.service,
        release: r.release ? `v${r.release}` : '-',
        scheduled: ago(r.scheduledAt),
        took: duration(r.startedAt, r.finishedAt),
        status: r.status,
        exit: r.exitCode,
        note: r.note,
      })),
      ['run', 'job', 'release', 'scheduled', 'took', 'status', 'exit', 'note'],
    );
  });

  jobs
    .command('show')
    .description("one run's record and the tail of its output")
    .argument('<run>', 'run number, e.g. 12 or #12')
    .action(async (runText: string, _opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const m = /^#?(\d+)$/.exec(runText);
      if (!m) throw new CliError(`run: expected a run number such as 12, got "${runText}"`);
      const { run } = await connect(g).jobRun(Number(m[1]));
      if (g.json) return printJson(run);
      console.log(`run #${run.id} of ${run.service} (${run.env}, v${run.release ?? '?'}): ${run.status}${run.exitCode !== null ? `, exit ${run.exitCode}` : ''}${run.note ? ` — ${run.note}` : ''}`);
      console.log(`scheduled ${run.scheduledAt}, started ${run.startedAt ?? '-'}, finished ${run.finishedAt ?? '-'}`);
      if (run.output) console.log(`\n${run.output}`);
    });
}

/** One line per job live in the environment: its schedule there and next run, or that it is off there. */
export function scheduleLines(schedules: JobScheduleView[], env: string): string[] {
  return schedules.map((s) =>
    s.schedule === null
      ? `${s.service} (v${s.release}): schedule off in ${env}, never run on schedule here (by hand: slipway run ${s.service} --env ${env} -- <command>)`
      : `${s.service} (v${s.release}): "${s.schedule}" (UTC), next run at ${s.nextRunAt}`,
  );
}
