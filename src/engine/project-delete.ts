/**
 * Deleting a project: every environment torn down like `env destroy` (replicas drained and
 * removed, edge backends removed, accessories stopped, networks removed; volumes kept and
 * reported: data goes only by `env destroy --delete-volumes`) while holding every service's deployment lease, then the
 * certificates of its domains, its uploaded build contexts and the images built for it, and
 * last its records (one store transaction). The records go last so that a failure half-way
 * leaves a project that can be deleted again; every step is idempotent.
 */
import { SlipwayError } from '../core/errors';
import { backendName } from '../core/ports/edge';
import type { EngineContext } from './engine-context';
import { tearDownEnvironment, withServiceLeases } from './environments';
import { imageRepository } from './prepare-image';
import { releaseImageRepository } from './release-image';

export interface ProjectDeleteReport {
  project: string;
  environments: string[];
  replicasRemoved: number;
  routesRemoved: number;
  webhookRemoved: boolean;
  certificatesRemoved: string[];
  sourcesRemoved: number;
  imagesRemoved: string[];
  /** Tags Docker refused to remove (an image another container still uses), with its reason. */
  imagesKept: Array<{ tag: string; reason: string }>;
  /** Accessories stopped and forgotten (`<env>/<name>`). */
  accessoriesStopped: string[];
  /** Docker names of the volumes kept: deleting a project never deletes data (docs/accessories.md). */
  volumesKept: string[];
}

/** What the deletion needs of the certificate manager (it serializes certificate changes). */
export interface CertificateRemover {
  remove(domain: string): Promise<void>;
}

export class ProjectDeletion {
  constructor(
    private readonly ctx: EngineContext,
    private readonly certificates: CertificateRemover,
  ) {}

  async delete(name: string): Promise<ProjectDeleteReport> {
    const { store, edge, runtime, sources, logger } = this.ctx;
    const project = await store.getProject(name);
    if (!project) throw new SlipwayError('SLW_NOT_FOUND', `project "${name}" does not exist`);
    const envs = await store.listEnvironments(project.id);
    const services = await store.listServices(project.id);
    return withServiceLeases(this.ctx, services, envs, 'delete the project', async () => {
      const report: ProjectDeleteReport = {
        project: name,
        environments: envs.map((e) => e.name),
        replicasRemoved: 0,
        routesRemoved: 0,
        webhookRemoved: (await store.getWebhook(name)) !== null,
        certificatesRemoved: [],
        sourcesRemoved: 0,
        imagesRemoved: [],
        imagesKept: [],
        accessoriesStopped: [],
        volumesKept: [],
      };
      const ownBackends = new Set(envs.flatMap((e) => services.map((s) => backendName(name, s.name, e.name))));
      const domains = new Set<string>();
      for (const b of await edge.listBackends()) if (ownBackends.has(b.name)) b.hosts.forEach((h) => domains.add(h.toLowerCase()));
      for (const e of envs) for (const r of await store.listCurrentReleases(e.id)) r.config.domains.forEach((d) => domains.add(d.toLowerCase()));

      for (const env of envs) {
        const torn = await tearDownEnvironment(this.ctx, project, env, services, { deleteVolumes: false });
        report.replicasRemoved += torn.replicasRemoved;
        report.routesRemoved += torn.routesRemoved;
        report.accessoriesStopped.push(...torn.accessories.map((a) => `${env.name}/${a}`));
        report.volumesKept.push(...torn.volumesKept);
      }
      // A host another project still routes keeps its certificate.
      const stillRouted = new Set((await edge.listBackends()).flatMap((b) => b.hosts.map((h) => h.toLowerCase())));
      for (const domain of [...domains].sort()) {
        if (stillRouted.has(domain) || !(await store.getCertificate(domain))) continue;
        await this.certificates.remove(domain);
        report.certificatesRemoved.push(domain);
      }
      report.sourcesRemoved = await sources.removeProject(name);
      const images = await runtime.removeRepositories(await this.ownRepositories(name, services.map((s) => s.name)));
      report.imagesRemoved = images.removed;
      report.imagesKept = images.kept;
      await store.deleteProject(project.id);
      logger.info({ ...report, imagesRemoved: report.imagesRemoved.length }, 'project deleted');
      return report;
    });
  }

  /**
   * `slipway/<project>-<service>` of each service and its release images (`…-release`, from
   * `release: { build }`), except a name another project's service also yields (project "a-b"
   * service "c" and project "a" service "b-c"): never theirs.
   */
  private async ownRepositories(project: string, services: string[]): Promise<string[]> {
    const repositories = (p: string, service: string) => [imageRepository({ project: p, service, env: '' }), releaseImageRepository({ project: p, service })];
    const others = new Set<string>();
    for (const p of await this.ctx.store.listProjects()) {
      if (p.name === project) continue;
      for (const s of await this.ctx.store.listServices(p.id)) for (const repo of repositories(p.name, s.name)) others.add(repo);
    }
    return services.flatMap((service) => repositories(project, service)).filter((repo) => !others.has(repo));
  }
}
