/**
 * `slipway secrets`: values go in (arguments, a .env file, or stdin), only names,
 * versions and times come out. A change rolls the live services out again unless
 * --no-deploy stages it for the next deploy.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { SlipwayClient, SecretsChangeResult } from '../../client/api-client';
import { parseDotenv } from '../../core/dotenv';
import { SlipwayError } from '../../core/errors';
import { CliError } from '../cli-error';
import { connect, type GlobalOptions } from '../connection';
import { followDeployment } from '../follow-deployment';
import { ago, printJson, printTable } from '../output';
import { projectName } from '../project-file';
import { projectOptions } from '../project-options';

export function registerSecrets(program: Command): void {
  const secrets = program.command('secrets').description('encrypted secrets of an environment (values reach containers only)');

  projectOptions(secrets.command('list').description('names, versions and update times (never values)')).action(async (opts, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const view = await connect(g).secrets(projectName(opts), opts.env);
    if (g.json) return printJson(view);
    if (view.secrets.length === 0) return console.log(`no secrets in ${view.project}/${view.env}; set one with: slipway secrets set NAME=value --env ${view.env}`);
    console.log(`${view.project}/${view.env}: secrets version ${view.version}`);
    printTable(view.secrets.map((s) => ({ name: s.name, version: `v${s.version}`, updated: ago(s.updatedAt) })), ['name', 'version', 'updated']);
  });

  projectOptions(
    secrets
      .command('set')
      .description('set secrets as one new version and roll live services out with it; NAME alone reads the value from stdin')
      .argument('[pairs...]', 'NAME=value pairs (NAME alone: value from stdin, kept out of shell history)')
      .option('--from-file <path>', 'read NAME=value lines from a .env file')
      .option('--no-deploy', 'stage the change: it applies at the next deploy'),
  ).action(async (pairs: string[], opts, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const set: Record<string, string> = opts.fromFile ? readDotenvFile(opts.fromFile) : {};
    const fromStdin = pairs.filter((p) => !p.includes('='));
    if (fromStdin.length > 1) throw new CliError(`only one NAME can take its value from stdin (got ${fromStdin.join(', ')}); give the others as NAME=value`);
    for (const pair of pairs) {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      if (name in set) throw new CliError(`${name} is given twice; nothing was changed`);
      set[name] = eq < 0 ? await readStdinValue(name) : pair.slice(eq + 1);
    }
    if (Object.keys(set).length === 0) throw new CliError('nothing to set: give NAME=value pairs or --from-file .env');
    await applyChange(connect(g), g, projectName(opts), opts.env, { set, deploy: opts.deploy });
  });

  projectOptions(
    secrets
      .command('unset')
      .description('remove secrets as one new version and roll live services out without them')
      .argument('<names...>', 'secret names')
      .option('--no-deploy', 'stage the change: it applies at the next deploy'),
  ).action(async (names: string[], opts, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    await applyChange(connect(g), g, projectName(opts), opts.env, { unset: names, deploy: opts.deploy });
  });

  secrets
    .command('rotate-key')
    .description('seal every secret of every project again under a new master key, then forget the old key')
    .action(async (_opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const r = await connect(g).rotateSecretsKey();
      if (g.json) return printJson(r);
      console.log(
        r.newKeyGenerated
          ? `master key rotated: new key ${r.keyId}; ${r.resealed} secrets version(s) re-sealed; the old key is gone from master.key`
          : `the master key comes from SLIPWAY_MASTER_KEY (key ${r.keyId}); ${r.resealed} secrets version(s) re-sealed under it. ` +
              'To replace it: restart the server with the new key in SLIPWAY_MASTER_KEY and the old one in SLIPWAY_MASTER_KEY_PREVIOUS, then run rotate-key again.',
      );
    });
}

async function applyChange(
  client: SlipwayClient,
  g: GlobalOptions,
  project: string,
  env: string,
  change: { set?: Record<string, string>; unset?: string[]; deploy: boolean },
): Promise<void> {
  const result: SecretsChangeResult = await client.changeSecrets(project, env, change);
  const ends: Array<{ service: string; state: string; error: string | null }> = [];
  if (!g.json) {
    if (result.changed.length === 0) console.log(`nothing changed: ${result.unchanged.join(', ')} already had those values (version ${result.version})`);
    else console.log(`${project}/${env}: secrets version ${result.version} (changed: ${result.changed.join(', ')}${result.unchanged.length ? `; unchanged: ${result.unchanged.join(', ')}` : ''})`);
  }
  for (const r of result.rollouts) {
    if (!r.deploymentId) {
      if (!g.json) console.log(`${r.service}: ${r.note}`);
      continue;
    }
    if (!g.json) console.log(`deployment ${r.deploymentId}: rolling ${r.service} out with the new secrets`);
    const end = await followDeployment(client, r.deploymentId, { quiet: g.json, prefix: result.rollouts.length > 1 ? `[${r.service}] ` : '' });
    ends.push({ service: r.service, ...end });
    if (!g.json) console.log(end.state === 'succeeded' ? `✔ ${r.service}: running with secrets version ${result.version}` : `✘ ${r.service}: ${end.state}${end.error ? ` — ${end.error}` : ''}`);
  }
  if (g.json) printJson({ ...result, outcomes: ends });
  const failed = ends.filter((e) => e.state !== 'succeeded');
  if (failed.length) throw new CliError(`${failed.length} rollout(s) did not succeed; the secrets version is stored and applies at the next deploy`, 2);
}

function readDotenvFile(file: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`--from-file: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return parseDotenv(text, file);
  } catch (err) {
    if (err instanceof SlipwayError) throw new CliError(err.message);
    throw err;
  }
}

async function readStdinValue(name: string): Promise<string> {
  if (process.stdin.isTTY) throw new CliError(`${name}: no value given; use ${name}=value, or pipe the value in (e.g. printf %s "$VALUE" | slipway secrets set ${name})`);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
