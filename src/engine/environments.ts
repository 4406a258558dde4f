/**
 * Environments of a project: list, create, destroy. Destroy takes every service's
 * deployment lease (refusing while one deploys), drains and removes its replicas,
 * removes its edge routes, stops its accessories, removes its private network, then
 * deletes its records. Its volumes are kept (and listed) unless `deleteVolumes` is given.
 * Other environments are untouched.
 */
import { randomUUID } from 'node:crypto';
import { SlipwayError } from '../core/errors';
import { backendName } from '../core/ports/edge';
import type { EnvironmentView } from '../core/contract/views';
import type { Environment, Project, Service } from '../core/domain';
import type { EngineContext } from './engine-context';
import { environmentVolumes } from './accessories';
import { retireReplica } from './retire-replica';
import { LEASE_TTL_MS, serviceLeaseKey } from './service-lease';

export interface DestroyReport {
  environment: string;
  replicasRemoved: number;
  routesRemoved: number;
  /** Accessories stopped and forgotten. */
  accessories: string[];
  /** Docker names of the volumes deleted (only with deleteVolumes). */
  volumesDeleted: string[];
  /** Docker names of the volumes kept: their data stays on the host. */
  volumesKept: string[];
}

export class Environments {
  constructor(private readonly ctx: EngineContext) {}

  async list(projectName: string): Promise<EnvironmentView[]> {
    const { store } = this.ctx;
    const project = await this.project(projectName);
    const services = await store.listServices(project.id);
    const out: EnvironmentView[] = [];
    for (const env of await store.listEnvironments(project.id)) {
      const view: EnvironmentView = { name: env.name, createdAt: env.createdAt, services: [] };
      for (const s of services) {
        const current = await store.getCurrentRelease(s.id, env.id);
        view.services.push({ service: s.name, release: current?.number ?? null, replicas: current?.config.replicas ?? 0, domains: current?.config.domains ?? [] });
      }
      out.push(view);
    }
    return out;
  }

  /**
   * Creates the project too if it was never deployed: environments may be prepared first (a new
   * project comes with production, so `create production` on one creates exactly that). One that
   * exists is SLW_CONFLICT, checked before anything is written: nothing changes.
   */
  async create(projectName: string, name: string): Promise<EnvironmentView> {
    const { store } = this.ctx;
    const existing = await store.getProject(projectName);
    if (existing && (await store.getEnvironment(existing.id, name))) {
      throw new SlipwayError('SLW_CONFLICT', `environment "${name}" already exists in project "${projectName}"; nothing was changed (see "slipway env list")`);
    }
    const project = existing ?? (await store.upsertProject(projectName));
    const env = await store.ensureEnvironment(project.id, name);
    return { name: env.name, createdAt: env.createdAt, services: [] };
  }

  async destroy(projectName: string, name: string, opts: { deleteVolumes?: boolean } = {}): Promise<DestroyReport> {
    const { store } = this.ctx;
    const project = await this.project(projectName);
    const env = await store.getEnvironment(project.id, name);
    if (!env) throw new SlipwayError('SLW_NOT_FOUND', `environment "${name}" does not exist in project "${projectName}"`);
    const services = await store.listServices(project.id);
    return withServiceLeases(this.ctx, services, [env], 'destroy', async () => {
      const report = await tearDownEnvironment(this.ctx, project, env, services, { deleteVolumes: opts.deleteVolumes ?? false });
      await store.deleteEnvironment(env.id);
      this.ctx.logger.info(report, 'environment destroyed');
      return report;
    });
  }

  private async project(name: string) {
    const project = await this.ctx.store.getProject(name);
    if (!project) throw new SlipwayError('SLW_NOT_FOUND', `project "${name}" does not exist; deploy it first with "slipway deploy"`);
    return project;
  }
}

/**
 * Runs `work` holding the deployment lease of every service in every given environment:
 * refused (before anything changes) while one of them is being deployed.
 */
export async function withServiceLeases<T>(ctx: EngineContext, services: Service[], envs: Environment[], what: string, work: () => Promise<T>): Promise<T> {
  const holder = `${what}-${randomUUID()}`;
  const taken: string[] = [];
  try {
    for (const env of envs) {
      for (const s of services) {
        const key = serviceLeaseKey(s.id, env.id);
        if (!(await ctx.store.acquireLease(key, holder, LEASE_TTL_MS))) {
          const lease = await ctx.store.getLease(key);
          throw new SlipwayError('SLW_DEPLOY_LOCKED', `${s.name} in ${env.name} is being deployed by ${lease?.holder ?? 'another deployment'}; wait for it, then ${what}`);
        }
        taken.push(key);
      }
    }
    return await work();
  } finally {
    for (const key of taken) await ctx.store.releaseLease(key, holder);
  }
}

/**
 * Drains and removes the environment's replicas, removes its edge backends, stops its
 * accessories and removes its network; volumes go only with deleteVolumes. Its records stay.
 */
export async function tearDownEnvironment(ctx: EngineContext, project: Project, env: Environment, services: Service[], opts: { deleteVolumes: boolean }): Promise<DestroyReport> {
  const { store, runtime, edge } = ctx;
  const report: DestroyReport = { environment: env.name, replicasRemoved: 0, routesRemoved: 0, accessories: [], volumesDeleted: [], volumesKept: [] };
  for (const s of services) {
    const backend = backendName(project.name, s.name, env.name);
    const deploy = (await store.getCurrentRelease(s.id, env.id))?.config.deploy;
    for (const r of await runtime.listReplicas({ project: project.name, service: s.name, env: env.name })) {
      await retireReplica(ctx, r, {
        backend,
        drainTimeoutMs: deploy?.drainTimeoutMs ?? 10_000,
        stopTimeoutMs: deploy?.stopTimeoutMs ?? 10_000,
        log: async (m, level) => void ctx.logger[level ?? 'info']({ project: project.name, env: env.name }, m),
      });
      report.replicasRemoved++;
    }
    if ((await edge.listBackends()).some((b) => b.name === backend)) {
      await edge.removeBackend(backend);
      report.routesRemoved++;
    }
  }
  // Accessories after the replicas that use them; the network once nothing is on it.
  const torn = ctx.accessories?.destroy
    ? await ctx.accessories.destroy(project.name, env, opts)
    : { accessories: [], ...(await environmentVolumes(ctx, project.name, env.name, opts)) };
  Object.assign(report, torn);
  try {
    await runtime.removeEnvNetwork(project.name, env.name);
  } catch (err) {
    // A one-off (`slipway run`, a job) still on it: the environment goes anyway; the network is left for Docker to remove by hand.
    ctx.logger.warn({ project: project.name, env: env.name }, `the environment's network was kept: ${err instanceof Error ? err.message : String(err)}`);
  }
  return report;
}
