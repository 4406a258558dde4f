import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import { connect, type GlobalOptions } from '../connection';
import { ago, printJson, printTable } from '../output';
import { projectName } from '../project-file';
import { projectOptions } from '../project-options';
import { volumeLines } from '../accessories-format';
import type { SlipwayClient } from '../../client/api-client';

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
      .description("remove an environment: drains and removes its replicas and accessories, its edge routes, its releases and history; its volumes are kept unless --delete-volumes")
      .argument('<name>')
      .option('-y, --yes', 'do not ask for confirmation (required with --delete-volumes)')
      .option('--delete-volumes', "also delete its volumes (the accessories' data): irreversible"),
  ).action(async (name: string, opts, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const project = projectName(opts);
    const client = connect(g);
    if (!opts.yes) {
      const what = await destroySummary(client, project, name, Boolean(opts.deleteVolumes));
      // Deleting data is never one keystroke away: --delete-volumes always needs --yes.
      if (opts.deleteVolumes || !process.stdin.isTTY) {
        throw new CliError(`refusing to destroy ${project}/${name} without confirmation: pass --yes\n${what.map((l) => `  ${l}`).join('\n')}`);
      }
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      const answer = await rl.question(`This removes ${project}/${name}:\n${what.map((l) => `  ${l}`).join('\n')}\nType "${name}" to confirm: `);
      rl.close();
      if (answer.trim() !== name) throw new CliError('not confirmed; nothing was changed');
    }
    const { destroyed } = await client.destroyEnvironment(project, name, { deleteVolumes: Boolean(opts.deleteVolumes) });
    if (g.json) return printJson(destroyed);
    console.log(`destroyed ${project}/${name}: ${destroyed.replicasRemoved} replica(s) removed, ${destroyed.routesRemoved} route(s) removed, ${destroyed.accessoriesStopped.length} accessory(ies) removed${destroyed.accessoriesStopped.length ? ` (${destroyed.accessoriesStopped.join(', ')})` : ''}`);
    for (const line of volumeLines(destroyed, project, name)) console.log(line);
  });
}

/** What a destroy would remove, for the confirmation (best effort: an environment never deployed has no status). */
async function destroySummary(client: SlipwayClient, project: string, env: string, deleteVolumes: boolean): Promise<string[]> {
  const [status, volumes] = await Promise.all([client.status(project, env).catch(() => null), client.volumes({ project, env }).catch(() => null)]);
  const lines: string[] = [];
  if (status) {
    const replicas = status.services.reduce((n, s) => n + s.replicas.length, 0);
    lines.push(`services: ${status.services.map((s) => s.service).join(', ') || '-'} (${replicas} replica(s)), their releases and deployment history`);
    lines.push(`accessories: ${(status.accessories ?? []).map((a) => a.name).join(', ') || '-'}`);
  }
  const names = volumes?.volumes.map((v) => v.name) ?? [];
  if (names.length) lines.push(deleteVolumes ? `volumes DELETED with their data: ${names.join(', ')}` : `volumes kept: ${names.join(', ')} (add --delete-volumes to delete them)`);
  return lines;
}
