import type { Command } from 'commander';
import { connect, type GlobalOptions } from '../connection';
import { followQueued } from '../follow-deployment';
import { printJson } from '../output';
import { projectName } from '../project-file';
import { projectOptions } from '../project-options';

export function registerRedeploy(program: Command): void {
  projectOptions(
    program
      .command('redeploy')
      .description('deploy the live release again as a new release: same config, newest secrets, its image or --image (never builds)')
      .argument('<service>', 'service name')
      .option('--image <ref>', 'a prebuilt image on the server host to run instead of the live one (honours approval: required)')
      .option('--no-follow', 'return once the deployment is queued'),
  ).action(async (service: string, opts: { env: string; image?: string; follow: boolean; project?: string; file?: string }, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const client = connect(g);
    const project = projectName(opts);
    const { deployment } = await client.redeploy(project, service, { env: opts.env, image: opts.image });
    const what = `redeploy of ${project}/${service} in ${opts.env}${opts.image ? ` with ${opts.image}` : ''}`;
    if (deployment.state === 'awaiting_approval') {
      if (g.json) return printJson(deployment);
      console.log(`⏸ deployment ${deployment.id}: ${what} awaits approval: slipway approve ${deployment.id} (or slipway cancel ${deployment.id})`);
      return;
    }
    await followQueued(client, g, opts, deployment, what, (done) => `✔ ${service} runs v${done.releaseNumber}`);
  });
}
