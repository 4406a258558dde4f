/** Prints deployments' logs live until they end, the way deploy, promote and approve show progress. */
import { FollowLost, type FollowConnectionEvent, type SlipwayClient } from '../client/api-client';
import type { DeploymentView } from '../core/contract/views';
import { CliError } from './cli-error';
import { printJson } from './output';

/** Exit code when the control plane went away mid-stream and did not come back in time (2: a deployment did not succeed). */
export const EXIT_CONTROL_PLANE_LOST = 3;

/** SLIPWAY_CLI_RECONNECT_SECONDS: how long to wait for a control plane that went away mid-deployment (default 30). */
export function reconnectWindowMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.SLIPWAY_CLI_RECONNECT_SECONDS;
  if (raw === undefined || raw === '') return 30_000;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 3600) {
    throw new CliError(`SLIPWAY_CLI_RECONNECT_SECONDS: expected a number of seconds from 0 to 3600, got "${raw}"`);
  }
  return seconds * 1000;
}

export async function followDeployment(client: SlipwayClient, id: string, opts: { quiet?: boolean; prefix?: string }): Promise<{ state: string; error: string | null }> {
  const prefix = opts.prefix ?? '';
  // Connection news goes to stderr, even with --json: it is not the answer, and a user waiting needs it.
  const onConnection = (e: FollowConnectionEvent) => {
    if (e.type === 'lost') {
      process.stderr.write(`${prefix}lost the connection to the control plane (${e.problem}) while following deployment ${id}; the deployment continues (or is resolved when the control plane restarts): see its outcome with "slipway deployment ${id}". Reconnecting for up to ${Math.round(e.windowMs / 1000)} s…\n`);
    } else if (e.type === 'retry') {
      process.stderr.write(`${prefix}control plane unreachable, retrying… (${Math.round(e.waitedMs / 1000)}s)\n`);
    } else process.stderr.write(`${prefix}reconnected to the control plane; resuming the log of deployment ${id}\n`);
  };
  try {
    for await (const ev of client.followDeployment(id, undefined, { reconnectMs: reconnectWindowMs(), onConnection })) {
      if (ev.type === 'log' && !opts.quiet) {
        const stream = ev.line.level === 'info' ? process.stdout : process.stderr;
        stream.write(`${prefix}${new Date(ev.line.at).toLocaleTimeString()}  ${ev.line.message}\n`);
      } else if (ev.type === 'end') {
        return { state: ev.state, error: ev.error };
      }
    }
  } catch (err) {
    if (!(err instanceof FollowLost)) throw err;
    throw new CliError(
      `error: ${err.message}. The deployment's outcome is unknown here: once the control plane is back, see it with "slipway deployment ${id}"`,
      EXIT_CONTROL_PLANE_LOST,
    );
  }
  const { deployment } = await client.deployment(id);
  return { state: deployment.state, error: deployment.error };
}

/**
 * Follows each deployment to its end (one at a time, prefixed by service when there are
 * several), prints where the services are served, and fails with exit code 2 if any did
 * not succeed. Deployments awaiting approval are reported, not waited for.
 */
export async function followDeployments(client: SlipwayClient, deployments: DeploymentView[], opts: { json?: boolean; env: string }): Promise<void> {
  const results: DeploymentView[] = [];
  for (const d of deployments) {
    if (d.state === 'awaiting_approval') {
      if (!opts.json) console.log(`⏸ ${d.service}: deployment ${d.id} awaits approval in ${d.env}: slipway approve ${d.id} (or slipway cancel ${d.id})`);
      results.push(d);
      continue;
    }
    if (!opts.json) console.log(`deployment ${d.id}: ${d.project}/${d.service} → ${d.env}${d.source ? ` (${d.source.env} v${d.source.release})` : ''}`);
    const end = await followDeployment(client, d.id, { quiet: opts.json, prefix: deployments.length > 1 ? `[${d.service}] ` : '' });
    results.push((await client.deployment(d.id)).deployment);
    if (!opts.json) console.log(end.state === 'succeeded' ? `✔ ${d.service}: deployed` : `✘ ${d.service}: ${end.state}${end.error ? ` — ${end.error}` : ''}`);
  }
  const project = deployments[0]?.project;
  if (opts.json) printJson(results);
  else if (project && results.some((r) => r.state === 'succeeded')) {
    const status = await client.status(project, opts.env);
    for (const s of status.services) for (const url of s.urls) console.log(`${s.service} is served at ${url}`);
  }
  const failed = results.filter((r) => r.state !== 'succeeded' && r.state !== 'awaiting_approval');
  if (failed.length) throw new CliError(`${failed.length} deployment(s) did not succeed`, 2);
}

/**
 * After a command queued one deployment: prints it (`--no-follow`), or follows it to its end and
 * prints `success` or why not; exit 2 when it did not succeed.
 */
export async function followQueued(client: SlipwayClient, g: { json?: boolean }, opts: { follow: boolean }, deployment: DeploymentView, what: string, success: (d: DeploymentView) => string): Promise<void> {
  if (!opts.follow) {
    if (g.json) return printJson(deployment);
    console.log(`queued deployment ${deployment.id}: ${what}`);
    return;
  }
  if (!g.json) console.log(`deployment ${deployment.id}: ${what}`);
  const end = await followDeployment(client, deployment.id, { quiet: g.json });
  const { deployment: done } = await client.deployment(deployment.id);
  if (g.json) printJson(done);
  else if (end.state !== 'succeeded') console.log(`✘ ${what} ${end.state}: ${end.error ?? ''}`);
  else console.log(success(done));
  if (end.state !== 'succeeded') throw new CliError(`${what} did not succeed`, 2);
}
