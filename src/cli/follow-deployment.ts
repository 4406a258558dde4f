/** Prints a deployment's log live until it ends; returns its final state. */
import type { SlipwayClient } from '../client/api-client';

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
