/** slipway project delete: a project and everything the server holds for it. */
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import { connect, type GlobalOptions } from '../connection';
import { printJson } from '../output';

export function registerProject(program: Command): void {
  const project = program.command('project').description('projects on the control plane');
  project
    .command('delete')
    .description('delete a project: every environment (replicas, routes, releases, history, secrets), its webhook, the certificates of its domains, uploaded sources and images')
    .argument('<name>', 'the project')
    .option('-y, --yes', 'do not ask for confirmation (required without a terminal)')
    .addHelpText('after', '\nExamples:\n  slipway project delete shop          # asks you to type "shop"\n  slipway project delete shop --yes    # scripts')
    .action(async (name: string, opts: { yes?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      if (!opts.yes) {
        if (!process.stdin.isTTY) throw new CliError(`refusing to delete project ${name} without confirmation: pass --yes`);
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        const answer = await rl.question(`This removes every environment, replica, route, release, secret, webhook, certificate, source and image of ${name}. Type "${name}" to confirm: `);
        rl.close();
        if (answer.trim() !== name) throw new CliError('not confirmed; nothing was changed');
      }
      const { deleted } = await connect(g).deleteProject(name);
      if (g.json) return printJson(deleted);
      console.log(
        `deleted project ${deleted.project}: environments ${deleted.environments.join(', ') || '-'}; ${deleted.replicasRemoved} replica(s), ${deleted.routesRemoved} route(s), ` +
          `${deleted.certificatesRemoved.length} certificate(s), ${deleted.sourcesRemoved} source archive(s), ${deleted.imagesRemoved.length} image tag(s) removed${deleted.webhookRemoved ? '; webhook removed' : ''}`,
      );
      for (const k of deleted.imagesKept) console.log(`kept image ${k.tag}: ${k.reason}`);
      if (deleted.accessoriesStopped.length) console.log(`accessories stopped: ${deleted.accessoriesStopped.join(', ')}`);
      for (const v of deleted.volumesKept) console.log(`kept volume ${v}: its data stays on the host (remove it with "docker volume rm ${v}" once you no longer need it)`);
    });
}
