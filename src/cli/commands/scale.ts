/**
 * `slipway scale <service> <n>` and `slipway restart <service>`: the live release with another
 * replica count, or unchanged, as a new release rolled out replica by replica (never a build).
 * `slipway stop <service>` and `slipway start <service>`: the same with 0 replicas, and back to
 * the count before the stop.
 */
import type { Command } from 'commander';
import { connect, type GlobalOptions } from '../connection';
import { CliError } from '../cli-error';
import { followQueued } from '../follow-deployment';
import { projectName } from '../project-file';
import { projectOptions } from '../project-options';

interface Opts {
  env: string;
  follow: boolean;
  project?: string;
  file?: string;
}

export function registerScale(program: Command): void {
  projectOptions(
    program
      .command('scale')
      .description('run the live release with another replica count (a new release; nothing else changes, no build, no release command)')
      .argument('<service>', 'service name')
      .argument('<replicas>', 'the replica count, 1 to 100')
      .option('--no-follow', 'return once the deployment is queued')
      .addHelpText('after', '\nThe next slipway deploy runs slipway.yml\'s count again (and says so), unless slipway.yml says replicas: { min: N }.'),
  ).action(async (service: string, count: string, opts: Opts, cmd: Command) => {
    if (!/^\d+$/.test(count) || Number(count) < 1 || Number(count) > 100) throw new CliError(`<replicas> must be a whole number from 1 to 100, got "${count}"`, 1);
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const client = connect(g);
    const project = projectName(opts);
    const { deployment } = await client.scale(project, service, { env: opts.env, replicas: Number(count) });
    await followQueued(client, g, opts, deployment, `scale of ${project}/${service} in ${opts.env} to ${count} replica(s)`, (done) => `✔ ${service} runs ${count} replica(s) of v${done.releaseNumber}`);
  });
}

export function registerRestart(program: Command): void {
  projectOptions(
    program
      .command('restart')
      .description('replace every replica of the live release, one by one (a new release with the same image, config and secrets)')
      .argument('<service>', 'service name')
      .option('--no-follow', 'return once the deployment is queued'),
  ).action(async (service: string, opts: Opts, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const client = connect(g);
    const project = projectName(opts);
    const { deployment } = await client.restart(project, service, { env: opts.env });
    await followQueued(client, g, opts, deployment, `restart of ${project}/${service} in ${opts.env}`, (done) => `✔ ${service} restarted: v${done.releaseNumber}`);
  });
}

export function registerStop(program: Command): void {
  projectOptions(
    program
      .command('stop')
      .description('run no replica of the service, keeping its config, releases and domains (a new release with 0 replicas; its domains answer 503 "<service> is stopped")')
      .argument('<service>', 'service name (a web service or a worker; a job: set its schedule to off)')
      .option('--no-follow', 'return once the deployment is queued')
      .addHelpText('after', '\nRequests in flight finish (each replica is drained first). slipway start runs the count it ran before; slipway deploy runs slipway.yml\'s.'),
  ).action(async (service: string, opts: Opts, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const client = connect(g);
    const project = projectName(opts);
    const { deployment } = await client.stop(project, service, { env: opts.env });
    await followQueued(client, g, opts, deployment, `stop of ${project}/${service} in ${opts.env}`, (done) => `✔ ${service} is stopped (v${done.releaseNumber}, 0 replicas); slipway start ${service} runs it again`);
  });
}

export function registerStart(program: Command): void {
  projectOptions(
    program
      .command('start')
      .description('run a stopped service again with the replica count it ran before slipway stop (a new release; no build, no release command)')
      .argument('<service>', 'service name')
      .option('--no-follow', 'return once the deployment is queued'),
  ).action(async (service: string, opts: Opts, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const client = connect(g);
    const project = projectName(opts);
    const { deployment } = await client.start(project, service, { env: opts.env });
    await followQueued(client, g, opts, deployment, `start of ${project}/${service} in ${opts.env}`, (done) => `✔ ${service} runs again: v${done.releaseNumber}`);
  });
}
