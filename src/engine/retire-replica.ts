/**
 * Takes a replica out of service in the order the invariants demand: drained at the
 * edge first (no new requests, in-flight ones finish), removed from the backend, and
 * only then SIGTERM (SIGKILL after stop_timeout) and removal of the container.
 */
import type { Replica } from '../core/ports/runtime';
import type { EngineContext } from './engine-context';

export interface RetireOptions {
  backend: string;
  drainTimeoutMs: number;
  stopTimeoutMs: number;
  log: (message: string, level?: 'info' | 'warn') => Promise<void>;
}

/** Retire options of a service's backend under its release's deploy timeouts, logging to the deployment. */
export function retireOptions(
  backend: string,
  deploy: { drainTimeoutMs: number; stopTimeoutMs: number },
  rec: { log(message: string, level?: 'info' | 'warn'): Promise<void> },
): RetireOptions {
  return { backend, drainTimeoutMs: deploy.drainTimeoutMs, stopTimeoutMs: deploy.stopTimeoutMs, log: (m, level = 'info') => rec.log(m, level) };
}

export async function retireReplica(ctx: EngineContext, replica: Replica, opts: RetireOptions): Promise<void> {
  const servers = await ctx.edge.listServers(opts.backend);
  const server = servers.find((s) => s.name === replica.name);
  if (server && server.state !== 'maint') {
    const drain = await ctx.edge.drainServer(opts.backend, replica.name, opts.drainTimeoutMs);
    if (!drain.drained) {
      await opts.log(`replica ${replica.name}: ${drain.remaining} request(s) still in flight after drain_timeout (${opts.drainTimeoutMs} ms); stopping anyway`, 'warn');
    }
  }
  if (server) await ctx.edge.removeServer(opts.backend, replica.name);
  await ctx.runtime.stopReplica(replica.id, opts.stopTimeoutMs);
  await opts.log(`retired replica ${replica.name} (release v${replica.labels.release})`);
}
