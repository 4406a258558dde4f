/** Read models for the API: status of a project, releases, deployments. Composes store, runtime and edge. */
import { isTerminal, type Deployment, type DeploymentLogLine, type JobRun, type Release } from '../core/domain';
import { releaseHistories, type ReleaseHistory } from '../core/plan-rollback-target';
import type { DeploymentView, JobRunView, JobScheduleView, ProjectStatusView, ProjectSummaryView, ReleaseView, ReplicaView, ServerView, ServiceStatusView } from '../core/contract/views';
import { parseCron } from '../core/cron';
import { SlipwayError } from '../core/errors';
import { backendName } from '../core/ports/edge';
import type { EngineContext } from './engine-context';
import { serviceNames } from './service-names';
import { ResourceStats } from './resource-stats';
import { RestartCounts } from './restart-counts';
import { readWarmSets } from './warm-sets';
import { readCanary, readLiveCanary } from './canary-states';
import { liveCanaryView } from './live-canary';
import { isCanaryActive } from '../core/canary-state';

export class Queries {
  private readonly stats: ResourceStats;

  constructor(private readonly ctx: EngineContext) {
    this.stats = new ResourceStats(ctx);
  }

  /** Projects with their environments and services (names). */
  async projects(): Promise<ProjectSummaryView[]> {
    const { store } = this.ctx;
    const out: ProjectSummaryView[] = [];
    for (const p of await store.listProjects()) {
      out.push({
        name: p.name,
        environments: (await store.listEnvironments(p.id)).map((e) => e.name),
        services: (await store.listServices(p.id)).map((s) => ({ name: s.name, type: s.type })),
      });
    }
    return out;
  }

  /** The hosts Slipway deploys to: the one it runs on, its Docker engine and its edge. */
  async servers(): Promise<ServerView[]> {
    const { runtime, edge } = this.ctx;
    const [info, edgeStatus] = await Promise.all([runtime.engineInfo().then((i) => ({ ok: true as const, i }), (err: Error) => ({ ok: false as const, err })), edge.status()]);
    const docker: ServerView['docker'] = info.ok
      ? { ok: true, detail: `Docker ${info.i.version}, ${info.i.containersRunning} containers running`, version: info.i.version, os: info.i.os, kernel: info.i.kernel, cpus: info.i.cpus, memoryBytes: info.i.memoryBytes, containersRunning: info.i.containersRunning, images: info.i.images, liveRestore: info.i.liveRestore }
      : { ok: false, detail: info.err.message, version: null, os: null, kernel: null, cpus: null, memoryBytes: null, containersRunning: null, images: null, liveRestore: null };
    const disk = this.ctx.disk ? await this.ctx.disk.check().catch(() => null) : null;
    return [{ name: edge.server, docker, disk, edge: { running: edgeStatus.running, pid: edgeStatus.pid, version: edgeStatus.version, httpPort: edgeStatus.httpPort, httpsPort: edgeStatus.httpsPort, reloads: edgeStatus.reloads } }];
  }

  async projectStatus(projectName: string, envName: string): Promise<ProjectStatusView> {
    const { store, runtime, edge } = this.ctx;
    const project = await store.getProject(projectName);
    if (!project) throw new SlipwayError('SLW_NOT_FOUND', `project "${projectName}" does not exist; deploy it first with "slipway deploy"`);
    const env = await store.getEnvironment(project.id, envName);
    if (!env) throw new SlipwayError('SLW_NOT_FOUND', `environment "${envName}" does not exist in project "${projectName}"`);
    // One Docker listing for the whole environment and every edge backend read at once: a
    // project of 50 services answers in tens of milliseconds, not one round trip per service.
    const [edgeStatus, allContainers, serviceList] = await Promise.all([
      edge.status(),
      runtime.listReplicasRecent({ project: project.name, env: env.name }),
      store.listServices(project.id),
    ]);
    const backends = serviceList.map((service) => backendName(project.name, service.name, env.name));
    const edgeServers = await edge.listServersOf(backends);
    // The store's part in a few reads for the whole environment, not a few per service.
    const [stats, liveReleases, recentDeployments, warmSets, accessories, restarts] = await Promise.all([
      this.stats.latestByReplica(allContainers.filter((r) => r.state === 'running').map((r) => r.name)),
      store.listCurrentReleases(env.id),
      store.listRecentDeployments(env.id, 5),
      readWarmSets(store, serviceList.map((s) => s.id), env.id),
      // One listing for the environment's accessories (never a credential).
      this.ctx.accessories?.list ? this.ctx.accessories.list(project.name, env.name) : Promise.resolve(undefined),
      // Repairs per replica slot (Docker's RestartCount is always 0 under restart policy `no`).
      RestartCounts.read(store, { project: project.name, env: env.name }),
    ]);
    const currentOf = new Map(liveReleases.map((r) => [r.serviceId, r]));
    const services: ServiceStatusView[] = [];
    for (const [i, service] of serviceList.entries()) {
      const current = currentOf.get(service.id) ?? null;
      const servers = new Map((edgeServers.get(backends[i]!) ?? []).map((s) => [s.name, s]));
      const containers = allContainers.filter((r) => r.labels.service === service.name);
      const replicas = containers.map(
        (r): ReplicaView => ({
          name: r.name,
          release: r.labels.release,
          state: r.state,
          address: r.address,
          edge: servers.get(r.name)?.state ?? 'absent',
          edgeHealth: servers.get(r.name)?.health ?? 'unchecked',
          edgeHealthSeconds: servers.get(r.name)?.health ? (servers.get(r.name)?.healthChangedSecondsAgo ?? 0) : null,
          activeRequests: servers.get(r.name)?.activeSessions ?? 0,
          startedAt: r.startedAt,
          slot: r.labels.slot ?? null,
          restarts: restarts.replica(service.name, r.labels),
          stats: stats.get(r.name) ?? null,
          ...(r.resources && (r.resources.memoryBytes !== null || r.resources.cpus !== null) ? { resources: r.resources } : {}),
          ...(r.oomKilled ? { oomKilled: true } : {}),
        }),
      );
      const warm = warmSets.get(service.id) ?? null;
      // Shown while it really runs on standby (a record outlives its set by up to a second).
      const warmReplicas = warm && warm.release !== current?.number ? replicas.filter((r) => r.release === warm.release && r.state === 'running' && r.edge === 'standby').length : 0;
      const deployments = recentDeployments.filter((d) => d.serviceId === service.id);
      const active = deployments.find((d) => !isTerminal(d.state));
      // Only the canary of the deployment running now (an index left by a crash names an ended one).
      const canaryState = active ? await readLiveCanary(store, service.id, env.id) : null;
      const canaryRelease = canaryState && canaryState.deploymentId === active?.id && isCanaryActive(canaryState) && active.releaseId ? await store.getRelease(active.releaseId) : null;
      const canary = canaryState && canaryRelease
        ? liveCanaryView(this.ctx, { project: project.name, service: service.name, env: env.name }, canaryState, canaryRelease.config.deploy.analysis.intervalMs, containers, servers)
        : null;
      const last = deployments.find((d) => d !== active);
      const port = edgeStatus.httpPort === 80 ? '' : `:${edgeStatus.httpPort}`;
      services.push({
        service: service.name,
        env: env.name,
        currentRelease: current ? releaseView(current, current.id) : null,
        desiredReplicas: current?.config.replicas ?? 0,
        stopped: current !== null && current.config.type !== 'job' && current.config.replicas === 0,
        type: service.type,
        // A worker has no edge server: running is serving.
        readyReplicas: replicas.filter((r) => r.state === 'running' && (service.type === 'worker' || (r.edge === 'ready' && r.edgeHealth !== 'down'))).length,
        urls: (current?.config.domains ?? []).map((d) => `http://${d}${port}/`),
        replicas,
        activeDeployment: active ? { id: active.id, state: active.state, kind: active.kind } : null,
        lastDeployment: last ? { id: last.id, kind: last.kind, state: last.state, error: last.error, finishedAt: last.finishedAt } : null,
        warmSet: warm && warmReplicas > 0 ? { release: warm.release, replicas: warmReplicas, since: warm.since, retireAt: warm.retireAt, deploymentId: warm.deploymentId } : null,
        canary,
        restarts: restarts.service(service.name, current?.number ?? null),
      });
    }
    return {
      project: project.name,
      env: env.name,
      edge: { running: edgeStatus.running, httpPort: edgeStatus.httpPort, version: edgeStatus.version },
      services,
      ...(accessories ? { accessories } : {}),
      host: await this.stats.latestHost(),
    };
  }

  async releases(projectName: string, serviceName: string, envName: string): Promise<ReleaseView[]> {
    const { serviceId, environmentId } = await this.ids(projectName, serviceName, envName);
    const [currentId, releases, deployments] = await Promise.all([
      this.ctx.store.getCurrentReleaseId(serviceId, environmentId),
      this.ctx.store.listReleases(serviceId, environmentId),
      this.ctx.store.listDeployments({ serviceId, environmentId }),
    ]);
    // Outcomes come from the deployments (the same derivation a rollback uses to pick its target).
    const history = releaseHistories(releases, deployments, currentId);
    // One inspect per distinct digest: retention removes images by digest (engine/image-retention.ts).
    const digests = [...new Set(releases.map((r) => r.imageDigest))];
    const present = new Map(await Promise.all(digests.map(async (d) => [d, (await this.ctx.runtime.inspectImage(d).catch(() => ({}))) !== null] as const)));
    return releases.map((r) => releaseView(r, currentId, history.get(r.id), !present.get(r.imageDigest)));
  }

  async deployment(id: string): Promise<DeploymentView> {
    const d = await this.ctx.store.getDeployment(id);
    if (!d) throw new SlipwayError('SLW_NOT_FOUND', `deployment ${id} does not exist`);
    return this.view(d);
  }

  async deployments(projectName: string, serviceName: string | undefined, envName: string, limit = 20): Promise<DeploymentView[]> {
    const { store } = this.ctx;
    const project = await store.getProject(projectName);
    if (!project) throw new SlipwayError('SLW_NOT_FOUND', `project "${projectName}" does not exist`);
    const env = await store.getEnvironment(project.id, envName);
    if (!env) throw new SlipwayError('SLW_NOT_FOUND', `environment "${envName}" does not exist in project "${projectName}"`);
    const services = serviceName ? [await this.ids(projectName, serviceName, envName)] : (await store.listServices(project.id)).map((s) => ({ serviceId: s.id, environmentId: env.id }));
    const all: Deployment[] = [];
    for (const s of services) all.push(...(await store.listDeployments({ serviceId: s.serviceId, environmentId: s.environmentId, limit })));
    all.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    return Promise.all(all.slice(0, limit).map((d) => this.view(d)));
  }

  /** Scheduled runs (and skipped ticks) of the project's jobs in an environment, newest first. */
  async jobRuns(projectName: string, envName: string, serviceName: string | undefined, limit: number): Promise<JobRunView[]> {
    const { store } = this.ctx;
    const project = await store.getProject(projectName);
    if (!project) throw new SlipwayError('SLW_NOT_FOUND', `project "${projectName}" does not exist`);
    const env = await store.getEnvironment(project.id, envName);
    if (!env) throw new SlipwayError('SLW_NOT_FOUND', `environment "${envName}" does not exist in project "${projectName}"`);
    const serviceId = serviceName ? (await this.ids(projectName, serviceName, envName)).serviceId : undefined;
    const runs = await store.listJobRuns({ environmentId: env.id, serviceId, limit });
    return Promise.all(runs.map((r) => this.jobRunView(r, false)));
  }

  /**
   * The schedule of each job of the project live in an environment (one job when `serviceName`
   * is given): its live release's cron and next tick, or null where `schedule: off` (deployed,
   * never run on schedule; `slipway run` still runs it). Jobs never deployed there are absent.
   */
  async jobSchedules(projectName: string, envName: string, serviceName: string | undefined, now = new Date()): Promise<JobScheduleView[]> {
    const { store } = this.ctx;
    const project = await store.getProject(projectName);
    const env = project ? await store.getEnvironment(project.id, envName) : null;
    if (!project || !env) return [];
    const out: JobScheduleView[] = [];
    for (const s of await store.listServices(project.id)) {
      if (s.type !== 'job' || (serviceName !== undefined && s.name !== serviceName)) continue;
      const release = await store.getCurrentRelease(s.id, env.id);
      if (!release || release.config.type !== 'job') continue;
      const schedule = release.config.schedule;
      out.push({ service: s.name, release: release.number, schedule, nextRunAt: schedule === null ? null : parseCron(schedule).next(now).toISOString() });
    }
    return out;
  }

  async jobRun(id: number): Promise<JobRunView> {
    const run = await this.ctx.store.getJobRun(id);
    if (!run) throw new SlipwayError('SLW_NOT_FOUND', `job run ${id} does not exist`);
    return this.jobRunView(run, true);
  }

  private async jobRunView(r: JobRun, withOutput: boolean): Promise<JobRunView> {
    const { store } = this.ctx;
    const names = await serviceNames(store, r.serviceId, r.environmentId);
    const release = await store.getRelease(r.releaseId);
    return {
      id: r.id,
      project: names.project ?? '?',
      service: names.service ?? '?',
      env: names.env ?? '?',
      release: release?.number ?? null,
      scheduledAt: r.scheduledAt,
      startedAt: r.startedAt,
      finishedAt: r.finishedAt,
      status: r.status,
      exitCode: r.exitCode,
      note: r.note,
      ...(withOutput ? { output: r.output } : {}),
    };
  }

  async logs(id: string, afterSeq = 0): Promise<DeploymentLogLine[]> {
    await this.deployment(id);
    return this.ctx.store.listLogs(id, afterSeq);
  }

  private async view(d: Deployment): Promise<DeploymentView> {
    const { store } = this.ctx;
    const names = await serviceNames(store, d.serviceId, d.environmentId);
    const release = d.releaseId ? await store.getRelease(d.releaseId) : null;
    return {
      ...d,
      git: d.git ?? null,
      project: names.project ?? '?',
      service: names.service ?? '?',
      env: names.env ?? '?',
      releaseNumber: release?.number ?? null,
      steps: await store.listSteps(d.id),
      canary: release?.config.deploy.strategy === 'canary' ? await readCanary(store, d.id) : null,
    };
  }

  private async ids(projectName: string, serviceName: string, envName: string) {
    const { store } = this.ctx;
    const project = await store.getProject(projectName);
    if (!project) throw new SlipwayError('SLW_NOT_FOUND', `project "${projectName}" does not exist`);
    const service = await store.getService(project.id, serviceName);
    if (!service) throw new SlipwayError('SLW_NOT_FOUND', `service "${serviceName}" does not exist in project "${projectName}"`);
    const env = await store.getEnvironment(project.id, envName);
    if (!env) throw new SlipwayError('SLW_NOT_FOUND', `environment "${envName}" does not exist in project "${projectName}"`);
    return { serviceId: service.id, environmentId: env.id };
  }
}

function releaseView(r: Release, currentId: number | null, history?: ReleaseHistory, imagePruned = false): ReleaseView {
  return {
    number: r.number,
    imageRef: r.imageRef,
    imageDigest: r.imageDigest,
    sourceRef: r.sourceRef,
    secretsVersion: r.secretsVersion,
    createdAt: r.createdAt,
    current: r.id === currentId,
    outcome: history?.outcome ?? (r.id === currentId ? 'live' : 'never_live'),
    liveUntil: history?.liveUntil ?? null,
    imagePruned,
    replicas: r.config.replicas,
    domains: r.config.domains,
    env: r.config.env ?? {},
  };
}
