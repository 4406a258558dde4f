import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import { connect, type GlobalOptions } from '../connection';
import { ago, printJson, printTable } from '../output';
import { projectName } from '../project-file';
import { projectOptions } from '../project-options';

const projectOpts = (c: Command) => projectOptions(c, { env: false });

export function registerEnv(program: Command): void {
  const env = program.command('env').description('environments of a project (production, staging, preview-<name>…)');

  projectOpts(env.command('list').description('environments with their services and live releases')).action(async (opts, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const { environments } = await connect(g).environments(projectName(opts));
    if (g.json) return printJson(environments);
    printTable(
      environments.flatMap((e) =>
        e.services.length === 0
          ? [{ env: e.name, service: '-', release: '-', replicas: '-', domains: '-', created: ago(e.createdAt) }]
          : e.services.map((s) => ({ env: e.name, service: s.service, release: s.release ? `v${s.release}` : '-', replicas: String(s.replicas), domains: s.domains.join(', ') || '-', created: ago(e.createdAt) })),
      ),
      ['env', 'service', 'release', 'replicas', 'domains', 'created'],
    );
  });

  projectOpts(env.command('create').description('create an empty environment (deploying with --env creates it too)').argument('<name>')).action(async (name: string, opts, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const { environment } = await connect(g).createEnvironment(projectName(opts), name);
    if (g.json) return printJson(environment);
    console.log(`created environment ${environment.name}; deploy to it with: slipway deploy --env ${environment.name}`);
  });

  projectOpts(
    env
      .command('destroy')
      .description('remove an environment: drains and removes its replicas, its edge routes, its releases and history')
      .argument('<name>')
      .option('-y, --yes', 'do not ask for confirmation'),
  ).action(async (name: string, opts, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const project = projectName(opts);
    if (!opts.yes) {
      if (!process.stdin.isTTY) throw new CliError(`refusing to destroy ${project}/${name} without confirmation: pass --yes`);
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      const answer = await rl.question(`This removes every replica, route, release and deployment of ${project}/${name}. Type "${name}" to confirm: `);
      rl.close();
      if (answer.trim() !== name) throw new CliError('not confirmed; nothing was changed');
    }
    const { destroyed } = await connect(g).destroyEnvironment(project, name);
    if (g.json) return printJson(destroyed);
    console.log(`destroyed ${project}/${name}: ${destroyed.replicasRemoved} replica(s) removed, ${destroyed.routesRemoved} route(s) removed`);
  });
}
