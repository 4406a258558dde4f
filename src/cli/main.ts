/** The CLI entry point: the only place in the CLI that calls process.exit. */
import { Command, CommanderError } from 'commander';
import { ApiError } from '../client/api-client';
import { CliError } from './cli-error';
import type { GlobalOptions } from './connection';
import { SlipwayError } from '../core/errors';
import { registerBaseImage } from './commands/base-image';
import { registerImages } from './commands/images';
import { registerConfig } from './commands/config';
import { registerDeploy } from './commands/deploy';
import { registerEnv } from './commands/env';
import { registerProject } from './commands/project';
import { registerInspect } from './commands/inspect';
import { registerLogs } from './commands/logs';
import { registerRollback } from './commands/rollback';
import { registerRedeploy } from './commands/redeploy';
import { registerRestart, registerScale, registerStart, registerStop } from './commands/scale';
import { registerJobs } from './commands/jobs';
import { registerPromote } from './commands/promote';
import { registerRun } from './commands/run';
import { registerSecrets } from './commands/secrets';
import { registerLogin } from './commands/login';
import { registerAccess } from './commands/access';
import { registerWebhook } from './commands/webhook';
import { registerCompletion } from './commands/completion';
import { registerNotifications } from './commands/notifications';
import { registerServers } from './commands/servers';
import { registerCerts } from './commands/certs';
import { registerAlerts } from './commands/alerts';
import { registerMetrics } from './commands/metrics';
import { registerInstall } from './commands/install';
import { registerAccessories, registerVolumes } from './commands/accessories';
import { registerDb } from './commands/db';
import { registerBackup, registerBackups, registerRestore } from './commands/backups';
import { addExamples } from './help-examples';
import { VERSION } from '../core/version';

export function buildProgram(): Command {
  const program = new Command('slipway')
    .description('Deploy to Docker hosts behind an always-on HAProxy edge, with zero dropped requests')
    .option('--url <url>', 'control-plane API URL (env SLIPWAY_URL; default from the data dir)')
    .option('--token <token>', 'API token (env SLIPWAY_TOKEN; default: <data-dir>/admin-token)')
    .option('--context <name>', 'a control plane saved by `slipway login` (env SLIPWAY_CONTEXT; default: the current one)')
    .option('--data-dir <dir>', 'data directory (env SLIPWAY_DATA_DIR)')
    .option('--json', 'machine-readable output')
    .version(VERSION, '-V, --version', 'print the version')
    .showHelpAfterError()
    .exitOverride();
  program
    .command('version')
    .description('print the version of this CLI (the server reports its own in /livez and /api/v1/health)')
    .addHelpText('after', '\nExamples:\n  slipway --version\n  slipway version --json')
    .action((_opts, cmd: Command) => {
      if (cmd.optsWithGlobals<GlobalOptions>().json) console.log(JSON.stringify({ version: VERSION }));
      else console.log(`slipway ${VERSION}`);
    });
  program.command('server').description('run the control plane (HTTP API, engine; starts the edge if needed) in the foreground');
  registerDeploy(program);
  registerRollback(program);
  registerRedeploy(program);
  registerScale(program);
  registerRestart(program);
  registerStop(program);
  registerStart(program);
  registerPromote(program);
  registerInspect(program);
  registerLogs(program);
  registerEnv(program);
  registerAccessories(program);
  registerVolumes(program);
  registerDb(program);
  registerBackups(program);
  registerBackup(program);
  registerRestore(program);
  registerProject(program);
  registerRun(program);
  registerJobs(program);
  registerSecrets(program);
  registerLogin(program);
  registerAccess(program);
  registerWebhook(program);
  registerNotifications(program);
  registerServers(program);
  registerCerts(program);
  registerAlerts(program);
  registerMetrics(program);
  registerCompletion(program);
  registerConfig(program);
  registerBaseImage(program);
  registerImages(program);
  registerInstall(program);
  addExamples(program);
  return program;
}

export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof CliError) {
      if (err.message) console.error(err.message);
      return err.exitCode;
    }
    if (err instanceof ApiError) {
      console.error(`error: ${err.message}${err.code.startsWith('SLW_') ? ` [${err.code}]` : ''}`);
      for (const d of err.details) if (d.path && !err.message.includes(d.path)) console.error(`  ${d.path}: ${d.message}`);
      return 1;
    }
    // Client-side failures with a code (packing a build context…) keep it visible.
    if (err instanceof SlipwayError) {
      console.error(`error: ${err.message} [${err.code}]`);
      return 1;
    }
    console.error(`error: ${(err as Error).message}`);
    return 1;
  }
}
