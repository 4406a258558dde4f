/**
 * Read models of the stats the sampler (src/observe/resource-sampler.ts) records: the
 * newest sample per replica and per server for `status`, and their history for the stats
 * routes. Only the host the control plane runs on (`local`) is sampled today.
 */
import { SlipwayError } from '../core/errors';
import type { HostStatsHistoryView, HostStatsView, ReplicaStatsView, ServiceStatsView } from '../core/contract/stats';
import { diskUsePercent, type HostSample, type ReplicaSample } from '../core/resource-stats';
import type { EngineContext } from './engine-context';
import { RestartCounts } from './restart-counts';

export const LOCAL_SERVER = 'local';

export class ResourceStats {
  constructor(private readonly ctx: EngineContext) {}

  /** The newest sample of each named replica, by name (absent: never sampled). */
  async latestByReplica(replicas: string[]): Promise<Map<string, ReplicaStatsView>> {
    const samples = await this.ctx.store.latestReplicaSamples(replicas);
    return new Map(samples.map((s) => [s.replica, replicaStatsView(s)]));
  }

  async latestHost(server = LOCAL_SERVER): Promise<HostStatsView | null> {
    const s = await this.ctx.store.latestHostSample(server);
    return s ? hostStatsView(s) : null;
  }

  /** A series per replica of the service in the environment (replicas that ran since `since` included). */
  async service(projectName: string, serviceName: string, envName: string, since: number): Promise<ServiceStatsView> {
    const { store } = this.ctx;
    const project = await store.getProject(projectName);
    if (!project) throw new SlipwayError('SLW_NOT_FOUND', `project "${projectName}" does not exist`);
    const service = await store.getService(project.id, serviceName);
    if (!service) throw new SlipwayError('SLW_NOT_FOUND', `service "${serviceName}" does not exist in project "${projectName}"`);
    const env = await store.getEnvironment(project.id, envName);
    if (!env) throw new SlipwayError('SLW_NOT_FOUND', `environment "${envName}" does not exist in project "${projectName}"`);
    const ref = { project: projectName, service: serviceName, env: envName };
    const [rows, restarts, running, live] = await Promise.all([
      store.listReplicaSamples({ ...ref, since }),
      RestartCounts.read(store, ref),
      // Slots of the replicas there now (the events-backed listing: no Docker round trip).
      this.ctx.runtime.listReplicasRecent(ref),
      store.getCurrentRelease(service.id, env.id),
    ]);
    const slots = new Map(running.map((r) => [r.name, r.labels.slot]));
    const replicas: ServiceStatsView['replicas'] = [];
    for (const r of rows) {
      let series = replicas.at(-1);
      if (series?.replica !== r.replica) {
        const slot = slots.get(r.replica);
        // A replica gone since keeps what its last point said.
        const gone = rows.findLast((p) => p.replica === r.replica)?.restarts ?? 0;
        replicas.push((series = { replica: r.replica, release: r.release, slot: slot ?? null, restarts: slot === undefined ? gone : restarts.replica(serviceName, { release: r.release, slot }), points: [] }));
      }
      series.points.push({
        at: iso(r.at),
        spanSeconds: Math.round(r.spanMs / 1000),
        cpuPercent: r.cpuPercent,
        memoryUsedBytes: r.memoryUsedBytes,
        memoryLimitBytes: r.memoryLimitBytes,
        restarts: r.restarts,
      });
    }
    return { project: projectName, service: serviceName, env: envName, since: iso(since), restarts: restarts.service(serviceName, live?.number ?? null), replicas };
  }

  async host(server: string, since: number): Promise<HostStatsHistoryView> {
    if (server !== LOCAL_SERVER) throw new SlipwayError('SLW_NOT_FOUND', `server "${server}" does not exist (Slipway samples the host it runs on: "${LOCAL_SERVER}")`);
    const points = (await this.ctx.store.listHostSamples(server, since)).map((s) => {
      const { server: _server, ...view } = hostStatsView(s);
      return { ...view, spanSeconds: Math.round(s.spanMs / 1000) };
    });
    return { server, since: iso(since), points };
  }
}

export function replicaStatsView(s: ReplicaSample): ReplicaStatsView {
  return { at: iso(s.at), cpuPercent: s.cpuPercent, memoryUsedBytes: s.memoryUsedBytes, memoryLimitBytes: s.memoryLimitBytes };
}

export function hostStatsView(s: HostSample): HostStatsView {
  return {
    server: s.server,
    at: iso(s.at),
    cpuPercent: s.cpuPercent,
    cpus: s.cpus,
    memoryUsedBytes: s.memoryUsedBytes,
    memoryTotalBytes: s.memoryTotalBytes,
    diskUsedBytes: s.diskUsedBytes,
    diskTotalBytes: s.diskTotalBytes,
    diskAvailableBytes: s.diskAvailableBytes,
    diskUsePercent: diskUsePercent(s),
  };
}

const iso = (ms: number) => new Date(ms).toISOString();
