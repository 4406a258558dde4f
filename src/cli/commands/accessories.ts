/**
 * `slipway accessories [status|logs|restart|rotate]` and `slipway volumes`: the stateful
 * singletons of an environment (databases, caches, any container) and their named volumes.
 * Generated credentials are never printed: logs come masked from the server.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import { connect, type GlobalOptions } from '../connection';
import { followDeployment } from '../follow-deployment';
import { printJson, printTable } from '../output';
import { projectName } from '../project-file';
import { projectOptions } from '../project-options';
import { ACCESSORY_COLUMNS, accessoryBackupLines, accessoryRows, VOLUME_COLUMNS, volumeRows } from '../accessories-format';

async function printStatus(opts: { project?: string; file?: string; env: string }, g: GlobalOptions): Promise<void> {
  const project = projectName(opts);
  const { accessories } = await connect(g).accessories(project, opts.env);
  if (g.json) return printJson(accessories);
  if (accessories.length === 0) return console.log(`no accessories in ${project}/${opts.env} (declare them under accessories: in slipway.yml)`);
  printTable(accessoryRows(accessories), ACCESSORY_COLUMNS);
  const backups = accessoryBackupLines(accessories);
  if (backups.length) console.log(`\n${backups.join('\n')}`);
}

export function registerAccessories(program: Command): void {
  // No options on the group itself: they would swallow the subcommands' own (-f of logs).
  const acc = program.command('accessories').description("the environment's accessories (databases, caches, any container): state, readiness, address, volumes, users, limits");

  projectOptions(
    acc.command('status', { isDefault: true }).description('each accessory: kind, state, readiness, address on the project network, image, volumes, services using it, limits (the default: `slipway accessories`)'),
  ).action(async (opts, cmd: Command) => printStatus(opts, cmd.optsWithGlobals<GlobalOptions>()));

  projectOptions(
    acc
      .command('logs')
      .description("an accessory's container log (generated credentials masked; raw NDJSON entries with --json)")
      .argument('<name>', 'the accessory')
      .option('-f, --follow', 'keep streaming, across restarts (the project file is --file here)')
      .option('-n, --tail <lines>', 'last lines (default 100, or all with --since)')
      .option('--since <when>', 'only lines since a duration ago (10m, 2h) or an ISO time'),
    { fileShort: false },
  ).action(async (name: string, opts, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const tail = opts.tail === undefined ? undefined : Number(opts.tail);
    if (tail !== undefined && (!/^\d+$/.test(opts.tail) || !Number.isSafeInteger(tail))) throw new CliError(`--tail: expected a whole number, got "${opts.tail}"`);
    const abort = new AbortController();
    process.once('SIGINT', () => abort.abort());
    const lines = connect(g).accessoryLogs(projectName(opts), opts.env, name, { tail, follow: Boolean(opts.follow), since: opts.since }, abort.signal);
    for await (const e of lines) console.log(g.json ? JSON.stringify(e) : `${new Date(e.at).toLocaleTimeString()} ${name} | ${e.line}`);
  });

  projectOptions(
    acc
      .command('remove')
      .description('remove an accessory no live release uses (a restored copy, one dropped from slipway.yml); volumes only with --delete-volumes')
      .argument('<name>', 'the accessory')
      .option('--delete-volumes', 'also delete its volumes (its data and backup repository): irreversible')
      .option('-y, --yes', 'confirm'),
  ).action(async (name: string, opts, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const project = projectName(opts);
    if (!opts.yes) {
      throw new CliError(`refusing to remove accessory ${name} of ${project}/${opts.env} without confirmation: pass --yes (its container stops${opts.deleteVolumes ? ' and its volumes, with its data, are deleted' : '; its volumes are kept'})`);
    }
    const { removed } = await connect(g).removeAccessory(project, opts.env, name, { deleteVolumes: Boolean(opts.deleteVolumes) });
    if (g.json) return printJson(removed);
    console.log(`✔ removed ${name} from ${project}/${opts.env}`);
    if (removed.volumesDeleted.length) console.log(`  volumes deleted: ${removed.volumesDeleted.join(', ')}`);
    if (removed.volumesKept.length) console.log(`  volumes kept (their data stays on the host): ${removed.volumesKept.join(', ')}`);
  });

  projectOptions(acc.command('restart').description('restart an accessory: stop and remove its container, start a new one from its recorded spec (same image, config, volumes, credentials), wait until ready').argument('<name>', 'the accessory')).action(
    async (name: string, opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const project = projectName(opts);
      if (!g.json) console.log(`restarting ${name} in ${project}/${opts.env}…`);
      const res = await connect(g).restartAccessory(project, opts.env, name);
      if (g.json) return printJson(res);
      console.log(`✔ ${name}: ${res.detail} (${res.accessory.state}${res.accessory.ready ? ', ready' : ', not ready'})`);
    },
  );

  projectOptions(
    acc
      .command('rotate')
      .description('new generated credentials for an accessory; the services using it are redeployed with them')
      .argument('<name>', 'the accessory')
      .option('--follow', 'follow the redeployments to their end (exit 2 if one fails)'),
  ).action(async (name: string, opts, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const client = connect(g);
    const project = projectName(opts);
    const result = await client.rotateAccessory(project, opts.env, name);
    if (!g.json) console.log(`${project}/${opts.env}: ${name} has new credentials (version ${result.version})`);
    const ends: Array<{ service: string; state: string; error: string | null }> = [];
    for (const r of result.rollouts) {
      if (!r.deploymentId) {
        if (!g.json) console.log(`${r.service}: ${r.note}`);
        continue;
      }
      if (!opts.follow) {
        if (!g.json) console.log(`deployment ${r.deploymentId}: redeploying ${r.service} with the new credentials (follow: slipway deployment ${r.deploymentId})`);
        continue;
      }
      if (!g.json) console.log(`deployment ${r.deploymentId}: redeploying ${r.service} with the new credentials`);
      const end = await followDeployment(client, r.deploymentId, { quiet: g.json, prefix: result.rollouts.length > 1 ? `[${r.service}] ` : '' });
      ends.push({ service: r.service, ...end });
      if (!g.json) console.log(end.state === 'succeeded' ? `✔ ${r.service}: running with the new credentials` : `✘ ${r.service}: ${end.state}${end.error ? ` — ${end.error}` : ''}`);
    }
    if (g.json) printJson(opts.follow ? { ...result, outcomes: ends } : result);
    const failed = ends.filter((e) => e.state !== 'succeeded');
    if (failed.length) throw new CliError(`${failed.length} redeployment(s) did not succeed; the new credentials are stored and apply at the next deploy`, 2);
  });
}

export function registerVolumes(program: Command): void {
  program
    .command('volumes')
    .description('named volumes of accessories and services (kept across deploys; deleted only by env destroy --delete-volumes, or an accessory\'s by accessories remove --delete-volumes), with sizes')
    .option('-p, --project <name>', "only this project (default: slipway.yml's project if there is one, else every project the token may see)")
    .option('-f, --file <path>', 'project file', 'slipway.yml')
    .option('-e, --env <name>', 'only this environment')
    .action(async (opts: { project?: string; file: string; env?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const project = opts.project ?? (existsSync(opts.file) ? projectName(opts) : undefined);
      const { volumes } = await connect(g).volumes({ project, env: opts.env });
      if (g.json) return printJson(volumes);
      if (volumes.length === 0) return console.log('no volumes');
      const byProject = new Set(volumes.map((v) => v.project)).size > 1;
      printTable(
        volumeRows(volumes).map((r, i) => (byProject ? { project: volumes[i]!.project, ...r } : r)),
        byProject ? ['project', ...VOLUME_COLUMNS] : VOLUME_COLUMNS,
      );
    });
}
