import type { Command } from 'commander';
import { CliError } from '../cli-error';
import { connect, type GlobalOptions } from '../connection';
import { projectName } from '../project-file';
import { projectOptions } from '../project-options';

export function registerRun(program: Command): void {
  projectOptions(
    program
      .command('run')
    .description("run a one-off command in a container of the service's live release (its image and env); exits with its code")
    .argument('<service>', 'service whose live release to use')
    .argument('<command...>', 'the command and its arguments, after --  (e.g. slipway run web -- node scripts/seed.js)')
    .option('--timeout <duration>', 'kill the command after this long', '1h')
  ).action(async (service: string, argv: string[], opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      for await (const ev of connect(g).run(projectName(opts), service, { env: opts.env, argv, timeout: opts.timeout })) {
        if (ev.type === 'output') (ev.stream === 'stderr' ? process.stderr : process.stdout).write(`${ev.line}\n`);
        else if (ev.type === 'error') throw new CliError(`error: ${ev.message}`);
        else {
          if (ev.timedOut) throw new CliError(`the command was killed after --timeout ${opts.timeout}`, 124);
          if (ev.exitCode !== 0) throw new CliError('', ev.exitCode ?? 1);
          return;
        }
      }
      throw new CliError('the server ended the run without an exit code');
    });
}
