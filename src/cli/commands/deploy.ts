import type { Command } from 'commander';
import { execFileSync } from 'node:child_process';
import { gitRefProblem, gitUrlProblem } from '../../core/git-source';
import { parseProjectConfig } from '../../core/parse-config';
import { uploadBuildContexts } from '../../client/upload-contexts';
import type { DeployBody } from '../../client/api-client';
import { CliError } from '../cli-error';
import { connect, type GlobalOptions } from '../connection';
import { followDeployments } from '../follow-deployment';
import { printJson } from '../output';
import { readProjectFile, type ProjectFile } from '../project-file';
import { uploadReporter } from '../upload-progress';

interface DeployOptions {
  file: string;
  env: string;
  detach?: boolean;
  ref?: string;
  git?: string;
  image?: string;
  allowDestructive?: boolean;
}

type CanaryVerb = 'pause' | 'resume' | 'promote' | 'abort';
const CANARY_HELP: Record<CanaryVerb, string> = {
  pause: 'pause a canary: its step stops counting down (analysis, and the automatic abort, go on)',
  resume: 'resume a paused canary where its step stood',
  promote: 'promote a canary now: remaining steps and analysis are skipped',
  abort: 'abort a canary: all traffic back to the stable release, canary replicas retired, deployment rolled_back',
};

export function registerDeploy(program: Command): void {
  const deploy = program
    .command('deploy')
    .description('build (if needed) and roll out services of slipway.yml, streaming progress')
    .argument('[services...]', 'services to deploy (default: all in slipway.yml)')
    .option('-f, --file <path>', 'project file', 'slipway.yml')
    .option('-e, --env <name>', 'environment', 'production')
    .option('-d, --detach', 'return once the deployment is queued')
    .option('--ref <ref>', 'build on the server from git at this branch, tag or commit (repository: from slipway.yml or --git) instead of uploading this directory')
    .option('--git <url>', 'repository the server clones for --ref (default: repository: in slipway.yml)')
    .option('--image <ref>', 'deploy this prebuilt image (on the server host) to the services instead of building')
    .option('--allow-destructive', 'production: run the release command even if the migration lint finds destructive or locking SQL (audited)')
    .addHelpText(
      'after',
      '\nSources:\n  (default)        the build contexts here are packed (.dockerignore honoured) and uploaded;\n                   unchanged contexts are not uploaded again and never rebuilt\n  --ref main       the server fetches the repository at that ref and records the commit\n  --image app:1.2  a prebuilt image already on the server host',
    )
    .action(async (services: string[], opts: DeployOptions, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions & DeployOptions>();
      const client = connect(g);
      const file = readProjectFile(opts.file);
      const body: DeployBody = { config: file.text, services: services.length ? services : undefined, env: opts.env };
      if (opts.allowDestructive) body.allowDestructive = true;
      if (opts.image) {
        if (opts.ref || opts.git) throw new CliError('--image deploys a prebuilt image: it cannot be combined with --ref or --git');
        body.image = opts.image;
      } else if (opts.ref || opts.git) {
        body.git = gitSourceOf(file, opts);
      } else {
        body.sources = await uploadBuildContexts(client, {
          config: file.text,
          dir: file.dir,
          services: body.services,
          env: opts.env,
          onProgress: uploadReporter(),
        });
      }
      const { deployments } = await client.deploy(body);
      if (opts.detach) {
        if (g.json) printJson(deployments);
        else for (const d of deployments) console.log(`queued deployment ${d.id} (${d.project}/${d.service} → ${d.env})`);
        return;
      }
      await followDeployments(client, deployments, { json: g.json, env: opts.env });
    });

  // `slipway deploy pause|resume|promote|abort <deployment>`: subcommands win over service names.
  for (const [name, help] of Object.entries(CANARY_HELP) as Array<[CanaryVerb, string]>) {
    deploy
      .command(name)
      .description(help)
      .argument('<deployment>', 'deployment id (slipway status shows the running canary)')
      .action(async (id: string, _opts: unknown, cmd: Command) => {
        const g = cmd.optsWithGlobals<GlobalOptions>();
        const { deployment } = await connect(g).canary(id, name);
        if (g.json) return printJson(deployment);
        console.log(`${name}: sent to the canary of deployment ${id} (${deployment.project}/${deployment.service} → ${deployment.env}); "slipway status" shows the split`);
      });
  }
}

/** --git/--ref → the deploy's git source; `path` is where slipway.yml sits in the repository. */
function gitSourceOf(file: ProjectFile, opts: DeployOptions): NonNullable<DeployBody['git']> {
  const parsed = parseProjectConfig(file.text);
  const url = opts.git ?? (parsed.ok ? parsed.config.repository : null);
  if (!url) throw new CliError(`--ref needs a repository: pass --git <url> or set "repository:" in ${file.path}`);
  const urlProblem = gitUrlProblem(url);
  if (urlProblem) throw new CliError(`--git: ${urlProblem}`);
  const ref = opts.ref ?? 'HEAD';
  const refProblem = gitRefProblem(ref);
  if (refProblem) throw new CliError(`--ref: ${refProblem}`);
  return { url, ref, path: repositoryPrefix(file.dir) };
}

/** slipway.yml's directory relative to the root of the git work tree it is in ("" at the root or outside git). */
function repositoryPrefix(dir: string): string {
  try {
    return execFileSync('git', ['-C', dir, 'rev-parse', '--show-prefix'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().replace(/\/$/, '');
  } catch {
    return '';
  }
}
