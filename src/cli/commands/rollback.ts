import type { Command } from 'commander';
import { connect, type GlobalOptions } from '../connection';
import { CliError } from '../cli-error';
import { followDeployment } from '../follow-deployment';
import { printJson } from '../output';
import { projectName } from '../project-file';
import { projectOptions } from '../project-options';

export function registerRollback(program: Command): void {
  projectOptions(
    program
      .command('rollback')
    .description('return a service to an earlier release (same image, same config; never rebuilds)')
    .argument('<service>', 'service name')
    .argument('[release]', 'release to return to, e.g. v3 (default: the newest one before the live release that went live)')
    .option('--force', 'roll back to the named release even if it never went live (its deployment failed or was cancelled)')
  ).action(async (service: string, release: string | undefined, opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      let number: number | undefined;
      if (release !== undefined) {
        const m = /^v?(\d+)$/.exec(release);
        if (!m) throw new CliError(`release: expected a release such as "v3" or "3", got "${release}"`);
        number = Number(m[1]);
      }
      const client = connect(g);
      const project = projectName(opts);
      const { deployment } = await client.rollback(project, service, { env: opts.env, release: number, ...(opts.force ? { force: true } : {}) });
      if (!g.json) console.log(`deployment ${deployment.id}: rollback of ${project}/${service} in ${opts.env} to v${deployment.releaseNumber}`);
      const end = await followDeployment(client, deployment.id, { quiet: g.json });
      if (g.json) printJson((await client.deployment(deployment.id)).deployment);
      else if (end.state !== 'succeeded') console.log(`✘ rollback ${end.state}: ${end.error ?? ''}`);
      else {
        // Inside a blue-green warm window the rollback is a switch back: say so, with the time it took.
        const { deployment: done } = await client.deployment(deployment.id);
        const flip = done.steps.find((s) => s.name.startsWith('switch traffic back') && s.status === 'done');
        console.log(`✔ ${service} is back on v${deployment.releaseNumber}${flip?.detail ? ` (switched back to the warm set: ${flip.detail})` : ''}`);
      }
      if (end.state !== 'succeeded') throw new CliError('rollback did not succeed', 2);
    });
}
