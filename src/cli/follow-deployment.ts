/** Prints deployments' logs live until they end, the way deploy, promote and approve show progress. */
import type { SlipwayClient } from '../client/api-client';
import type { DeploymentView } from '../core/contract/views';
import { CliError } from './cli-error';
import { printJson } from './output';

export async function followDeployment(client: SlipwayClient, id: string, opts: { quiet?: boolean; prefix?: string }): Promise<{ state: string; error: string | null }> {
  const prefix = opts.prefix ?? '';
  for await (const ev of client.followDeployment(id)) {
    if (ev.type === 'log' && !opts.quiet) {
      const stream = ev.line.level === 'info' ? process.stdout : process.stderr;
      stream.write(`${prefix}${new Date(ev.line.at).toLocaleTimeString()}  ${ev.line.message}\n`);
    } else if (ev.type === 'end') {
      return { state: ev.state, error: ev.error };
    }
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
