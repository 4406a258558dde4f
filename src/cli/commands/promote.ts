/** promote, approve, cancel: moving an image that already runs somewhere to another environment. */
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import { connect, type GlobalOptions } from '../connection';
import { followDeployments } from '../follow-deployment';
import { printJson } from '../output';
import { readProjectFile } from '../project-file';

export function registerPromote(program: Command): void {
  program
    .command('promote')
    .description("deploy to --to the exact image --from runs (same digest, never rebuilt), with --to's config and secrets")
    .argument('[services...]', 'services to promote (default: all in slipway.yml)')
    .requiredOption('--from <env>', 'environment whose live image to promote (e.g. staging)')
    .option('--to <env>', 'environment to deploy it to', 'production')
    .option('-f, --file <path>', 'project file', 'slipway.yml')
    .option('-d, --detach', 'return once the deployments are queued')
    .option('--allow-destructive', 'production: run the release command even when the migration lint finds destructive or locking statements (audited)')
    .action(async (services: string[], opts: { from: string; to: string; file: string; detach?: boolean; allowDestructive?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const client = connect(g);
      const file = readProjectFile(opts.file);
      const { deployments } = await client.promote({ config: file.text, from: opts.from, to: opts.to, services: services.length ? services : undefined, ...(opts.allowDestructive ? { allowDestructive: true } : {}) });
      if (opts.detach) {
        if (g.json) return printJson(deployments);
        for (const d of deployments) console.log(`${d.state === 'awaiting_approval' ? 'awaiting approval' : 'queued'}: deployment ${d.id} (${d.project}/${d.service} ${opts.from} → ${d.env})`);
        return;
      }
      await followDeployments(client, deployments, { json: g.json, env: opts.to });
    });

  program
    .command('approve')
    .description('start a deployment that awaits approval, and follow it')
    .argument('<deployment>', 'deployment id')
    .option('-d, --detach', 'return once it has started')
    .action(async (id: string, opts: { detach?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const client = connect(g);
      const { deployment } = await client.approve(id);
      if (opts.detach) return g.json ? printJson(deployment) : console.log(`approved: deployment ${id} started`);
      await followDeployments(client, [deployment], { json: g.json, env: deployment.env });
    });

  program
    .command('cancel')
    .description('cancel a deployment that awaits approval (nothing changes)')
    .argument('<deployment>', 'deployment id')
    .action(async (id: string, _opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const { deployment } = await connect(g).cancel(id);
      if (g.json) return printJson(deployment);
      if (deployment.state !== 'cancelled') throw new CliError(`deployment ${id} is ${deployment.state}`);
      console.log(`cancelled deployment ${id} (${deployment.project}/${deployment.service} in ${deployment.env}); nothing changed`);
    });
}
