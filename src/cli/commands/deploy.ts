import type { Command } from 'commander';
import { connect, type GlobalOptions } from '../connection';
import { followDeployments } from '../follow-deployment';
import { printJson } from '../output';
import { readProjectFile } from '../project-file';

interface DeployOptions {
  file: string;
  env: string;
  detach?: boolean;
}

export function registerDeploy(program: Command): void {
  program
    .command('deploy')
    .description('build (if needed) and roll out services of slipway.yml, streaming progress')
    .argument('[services...]', 'services to deploy (default: all in slipway.yml)')
    .option('-f, --file <path>', 'project file', 'slipway.yml')
    .option('-e, --env <name>', 'environment', 'production')
    .option('-d, --detach', 'return once the deployment is queued')
    .action(async (services: string[], opts: DeployOptions, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions & DeployOptions>();
      const client = connect(g);
      const file = readProjectFile(opts.file);
      const { deployments } = await client.deploy({
        config: file.text,
        baseDir: file.dir,
        services: services.length ? services : undefined,
        env: opts.env,
      });
      if (opts.detach) {
        if (g.json) printJson(deployments);
        else for (const d of deployments) console.log(`queued deployment ${d.id} (${d.project}/${d.service} → ${d.env})`);
        return;
      }
      await followDeployments(client, deployments, { json: g.json, env: opts.env });
    });
}
