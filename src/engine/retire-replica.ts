/**
 * Takes a replica out of service in the order the invariants demand: drained at the
 * edge first (no new requests, in-flight ones finish), removed from the backend, and
 * only then SIGTERM (SIGKILL after stop_timeout) and removal of the container.
 *
 * When the drain times out (a stream that never ends by itself: SSE, WebSocket, a long
 * poll) the container is stopped before the server is removed: HAProxy refuses to delete a
 * server with connections attached, and SIGTERM is what lets the app end those streams.
 * The replica was drained either way, so it takes no new request in between.
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
  let drained = true;
  if (server && server.state !== 'maint') {
    const drain = await ctx.edge.drainServer(opts.backend, replica.name, opts.drainTimeoutMs);
    drained = drain.drained;
    if (!drained) {
      await opts.log(`replica ${replica.name}: ${drain.remaining} connection(s) still open after drain_timeout (${opts.drainTimeoutMs} ms); stopping it, then removing it from the edge`, 'warn');
    }
  }
  if (server && drained) await ctx.edge.removeServer(opts.backend, replica.name);
  await ctx.runtime.stopReplica(replica.id, opts.stopTimeoutMs);
  await ctx.store.forgetPlacements([replica.name]);
  if (server && !drained) await ctx.edge.removeServer(opts.backend, replica.name);
  await opts.log(`retired replica ${replica.name} (release v${replica.labels.release})`);
}
