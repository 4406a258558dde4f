import type { Command } from 'commander';
import { connect, type GlobalOptions } from '../connection';
import { CliError } from '../cli-error';
import { followDeployment } from '../follow-deployment';
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
      const results = [];
      for (const d of deployments) {
        if (!g.json) console.log(`deployment ${d.id}: ${d.project}/${d.service} → ${d.env}`);
        const end = await followDeployment(client, d.id, { quiet: g.json, prefix: deployments.length > 1 ? `[${d.service}] ` : '' });
        results.push((await client.deployment(d.id)).deployment);
        if (!g.json) console.log(end.state === 'succeeded' ? `✔ ${d.service}: deployed` : `✘ ${d.service}: ${end.state}${end.error ? ` — ${end.error}` : ''}`);
      }
      const project = deployments[0]?.project;
      if (g.json) printJson(results);
      else if (project) {
        const status = await client.status(project, opts.env);
        for (const s of status.services) for (const url of s.urls) console.log(`${s.service} is served at ${url}`);
      }
      const failed = results.filter((r) => r.state !== 'succeeded');
      if (failed.length) throw new CliError(`${failed.length} deployment(s) did not succeed`, 2);
    });
}
