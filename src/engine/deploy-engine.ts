/**
 * The deployment state machine: queued → building → releasing → rolling →
 * succeeded | failed | rolled_back. Each transition and step is persisted before and after it
 * runs; a failure retires every replica the deployment started and converges the
 * service back to the release that was live, so old replicas keep serving. Once traffic
 * moved, a release with smoke checks is checked before it is declared live, and rolled back
 * when a check fails (smoke-check.ts).
 */
import { randomUUID } from 'node:crypto';
import type { ProjectConfig, ServiceConfig } from '../core/config';
import { isTerminal, type Deployment, type Environment, type Release, type ServiceRef } from '../core/domain';
import type { BackupView } from '../core/contract/views';
import { edgeBackendSpec } from './edge-backend-spec';
import { SlipwayError, errorMessage, isSlipwayError } from '../core/errors';
import { backendName } from '../core/ports/edge';
import { parseCron } from '../core/cron';
import { redactGitUrl, sourceTag } from '../core/git-source';
import { planRedeploy } from '../core/plan-redeploy';
import { planRollbackTarget } from '../core/plan-rollback-target';
import type { EngineContext } from './engine-context';
import { DeploymentEvents } from './deployment-events';
import { DeploymentRecorder } from './deployment-recorder';
import { converge } from './converge';
import { deploymentEvent } from './domain-events';
import { checkBuildContext, prepareImage, imageRepository, type PreparedImage } from './prepare-image';
import { ImagePolicy } from './image-policy';
import { runReleaseCommand } from './release-command';
import { checkMigrations, recordMigrations } from './migration-check';
import { checkReleaseSource, prepareReleaseImage, promotedReleaseImage } from './release-image';
import { assessDamage, needsRepair, repairService, type Damage } from './repair';
import type { SickReplica } from './replica-health';
import { retireOptions, retireReplica } from './retire-replica';
import { rollOut } from './roll-out';
import { CanaryAborted } from './canary';
import { flipBack } from './blue-green';
import { runSmokeChecks, SmokeFailed } from './smoke-check';
import { smokeApplies, smokeHoldMs } from '../core/smoke-checks';
import { CanaryControls, type CanaryCommand } from './canary-control';
import { RETIRE_WARM_HOLDER } from './warm-set-retirer';
import { clearWarmSet, readWarmSet } from './warm-sets';
import { isExpired } from '../core/warm-set';
import { serviceRefOf } from './service-names';
import { applyImageRetention } from './image-retention';
import { prunedReleaseMessage } from '../core/pruned-release';
import { LEASE_TTL_MS, serviceLeaseKey } from './service-lease';
import { withLease } from './lease-guard';
import { deploymentKind, planDeploymentSteps, readStoredPlan, replicasAgainstLive, type DeployRequest, type DeploymentSteps, type Plan, type ReleaseSource } from './plan-deployment';

export type { DeployRequest } from './plan-deployment';

export interface RollbackRequest {
  project: string;
  service: string;
  env: string;
  /** Release number to return to; default: the newest one before the current release that went live. */
  release?: number;
  /** Allow a named release that never went live (its deployment failed, was cancelled…). */
  force?: boolean;
  triggeredBy?: string | null;
}

export interface RedeployRequest {
  project: string;
  service: string;
  env: string;
  /** A prebuilt image on this host to run with the live release's config; default: the live image. */
  image?: string;
  triggeredBy?: string | null;
  /** As in DeployRequest: without it, `image` must be built for the project or allowed by an admin. */
  unrestricted?: boolean;
}

export interface ScaleRequest extends ServiceRef {
  replicas: number;
  triggeredBy?: string | null;
}

export interface RestartRequest extends ServiceRef {
  triggeredBy?: string | null;
}

/** `slipway stop` and `slipway start`: the service and who asked. */
export interface StopStartRequest extends ServiceRef {
  triggeredBy?: string | null;
}

export interface PromoteRequest {
  /** slipway.yml resolved for the target environment. */
  config: ProjectConfig;
  service: string;
  from: string;
  triggeredBy?: string | null;
  /** As in DeployRequest: migration lint findings do not block its release command (audited). */
  allowDestructive?: boolean;
}

export class DeployEngine {
  readonly events = new DeploymentEvents();
  /** Manual commands for the canaries this instance runs. */
  readonly canaries = new CanaryControls();
  private readonly running = new Map<string, Promise<void>>();
  /** The images project-restricted callers may deploy (and the admin's allow-list). */
  readonly images: ImagePolicy;

  constructor(private readonly ctx: EngineContext) {
    this.images = new ImagePolicy(ctx);
  }

  async deploy(req: DeployRequest): Promise<Deployment> {
    return (await this.deployAll([req]))[0]!;
  }

  /**
   * Deploys several services of one request: every source is checked first, so bad input
   * (a missing image, an unknown ref, an archive never uploaded) starts nothing.
   */
  async deployAll(reqs: DeployRequest[]): Promise<Deployment[]> {
    await this.ctx.disk?.assertRoom(`deploying ${reqs.map((r) => r.service).join(', ')}`);
    for (const r of reqs) await this.checkSource(r);
    const started: Deployment[] = [];
    for (const r of reqs) started.push(await this.startDeploy(r));
    return started;
  }

  private async startDeploy(req: DeployRequest): Promise<Deployment> {
    const serviceConfig = req.config.services[req.service]!;
    const { store } = this.ctx;
    const project = await store.upsertProject(req.config.project);
    const env = await this.deployableEnvironment(project.id, req);
    const service = await store.upsertService(project.id, req.service, serviceConfig.type);
    const plan: Plan = { kind: 'deploy', request: req };
    const d = await this.begin({ project: project.name, service: service.name, env: env.name }, service.id, env.id, plan, req.config.approval === 'required', req.triggeredBy ?? null);
    await this.recordApproval(env, req.config.approval);
    return d;
  }

  /**
   * slipway.yml's approval policy, recorded for what comes without slipway.yml (a redeploy) —
   * only once the deployment was accepted: a refused one changes nothing (invariant 6).
   */
  private async recordApproval(env: Environment, approval: ProjectConfig['approval']): Promise<void> {
    if (env.approval !== approval) await this.ctx.store.setEnvironmentApproval(env.id, approval);
  }

  /**
   * Refuses a deploy whose image or build context cannot be had, before anything is
   * recorded: a prebuilt image must be on this host, a built service needs a source and
   * an uploaded context must have arrived.
   */
  private async checkSource(req: DeployRequest): Promise<void> {
    const svc = req.config.services[req.service];
    if (!svc) throw new SlipwayError('SLW_NOT_FOUND', `service "${req.service}" is not defined in slipway.yml (services: ${Object.keys(req.config.services).join(', ')})`);
    await checkReleaseSource(this.ctx, { project: req.config.project, service: req.service }, svc, req.releaseSource ?? null, { unrestricted: req.unrestricted === true, images: this.images });
    if (svc.source.kind === 'image') {
      const info = await this.ctx.runtime.inspectImage(svc.source.ref);
      if (!info) {
        throw new SlipwayError('SLW_NOT_FOUND', `image "${svc.source.ref}" of ${req.service} is not on this host; no registry is used: build it here or load it with "docker load"`, [
          { path: `services.${req.service}.image`, message: 'must be an image present on the server host' },
        ]);
      }
      if (!req.unrestricted) await this.images.check(req.config.project, svc.source.ref, info, `services.${req.service}.image`);
      return;
    }
    if (!req.source) {
      throw new SlipwayError('SLW_BAD_REQUEST', `${req.service} builds from a directory, but the deploy carried no source for it: upload its context (slipway deploy does) or deploy from git (--ref)`, [
        { path: `sources.${req.service}`, message: 'required for a service with build' },
      ]);
    }
    if (req.source.kind === 'git' && !(await this.ctx.git.resolveRef(req.source.url, req.source.ref))) {
      throw new SlipwayError('SLW_NOT_FOUND', `${redactGitUrl(req.source.url)} has no branch or tag "${req.source.ref}"`, [
        { path: 'git.ref', message: 'must name a branch, tag or commit of the repository' },
      ]);
    }
    const archive = req.source.kind === 'archive' ? await this.ctx.sources.find(req.config.project, req.source.sha256, { legacy: req.unrestricted === true }) : null;
    if (req.source.kind === 'archive' && !archive) {
      throw new SlipwayError('SLW_NOT_FOUND', `the build context ${req.source.sha256.slice(0, 12)} of ${req.service} was not uploaded for project ${req.config.project} (PUT /api/v1/projects/${req.config.project}/sources/${req.source.sha256})`, [
        { path: `sources.${req.service}.sha256`, message: 'must name an uploaded build context' },
      ]);
    }
    // A context or Dockerfile reached through a symlink is refused here, as this request's 4xx.
    await checkBuildContext(this.ctx, req.service, svc, req.source, archive, { project: req.config.project, unrestricted: req.unrestricted === true, images: this.images });
  }

  /**
   * Deploys to `config.env` the exact image (by digest) that `from` runs, never building;
   * with `approval: required` on the target environment it waits in awaiting_approval.
   */
  async promote(req: PromoteRequest): Promise<Deployment> {
    const to = req.config.env;
    const config = req.config.services[req.service];
    if (!config) throw new SlipwayError('SLW_NOT_FOUND', `service "${req.service}" is not defined in slipway.yml`);
    if (req.from === to) throw new SlipwayError('SLW_BAD_REQUEST', `from and to are both "${to}": promote between two environments`, [{ path: 'to', message: 'must differ from from' }]);
    await this.ctx.disk?.assertRoom(`promoting ${req.service} to ${to}`);
    const { store } = this.ctx;
    const { serviceId, environmentId: fromEnvId } = await this.resolve({ project: req.config.project, service: req.service, env: req.from });
    const source = await store.getCurrentRelease(serviceId, fromEnvId);
    if (!source) throw new SlipwayError('SLW_NOT_FOUND', `${req.service} has no live release in ${req.from} to promote`);
    if (!(await this.ctx.runtime.inspectImage(source.imageDigest))) {
      throw new SlipwayError('SLW_NOT_FOUND', `the image ${req.from} runs (${source.imageDigest}) is no longer on this host`);
    }
    const project = (await store.getProject(req.config.project))!;
    const env = await this.deployableEnvironment(project.id, { config: req.config, env: to });
    const plan: Plan = {
      kind: 'promote',
      config: promotedReleaseImage(config, source),
      image: { ref: source.imageRef, digest: source.imageDigest, sourceRef: source.sourceRef },
      source: { env: req.from, release: source.number, imageDigest: source.imageDigest },
      // The target environment's setting from the slipway.yml it was promoted with.
      backupBeforeRelease: req.config.backupBeforeRelease,
      allowDestructive: req.allowDestructive === true,
    };
    const d = await this.begin({ project: project.name, service: req.service, env: to }, serviceId, env.id, plan, req.config.approval === 'required', req.triggeredBy ?? null);
    await this.recordApproval(env, req.config.approval);
    return d;
  }

  /** Starts a deployment that awaits approval (its plan was stored when it was created). */
  async approve(id: string): Promise<Deployment> {
    const { store } = this.ctx;
    const d = await this.awaiting(id, 'approve');
    const ref = await serviceRefOf(store, d.serviceId, d.environmentId);
    if (!ref) throw new SlipwayError('SLW_NOT_FOUND', `the service or environment of deployment ${id} no longer exists`);
    const plan = readStoredPlan(await store.getDeploymentPlan(id), id);
    if (!plan) throw new SlipwayError('SLW_INTERNAL', `deployment ${id} has no stored plan`);
    const key = serviceLeaseKey(d.serviceId, d.environmentId);
    if (!(await store.acquireLease(key, id, LEASE_TTL_MS))) throw await this.locked(key, ref);
    // The live release may have changed while it waited: a failure must return to today's.
    const previousReleaseId = await store.getCurrentReleaseId(d.serviceId, d.environmentId);
    const started = await store.updateDeploymentIf(id, 'awaiting_approval', { state: 'queued', previousReleaseId });
    if (!started) {
      await store.releaseLease(key, id);
      throw new SlipwayError('SLW_CONFLICT', `deployment ${id} was approved or cancelled concurrently`);
    }
    await new DeploymentRecorder(store, this.events, this.ctx.logger, id).log('approved; starting');
    this.start(started, ref, plan, key);
    return started;
  }

  /** Cancels a deployment that has not started (awaiting approval). */
  async cancel(id: string): Promise<Deployment> {
    const { store } = this.ctx;
    await this.awaiting(id, 'cancel');
    const rec = new DeploymentRecorder(store, this.events, this.ctx.logger, id);
    const cancelled = await store.updateDeploymentIf(id, 'awaiting_approval', { state: 'cancelled', finishedAt: new Date().toISOString() });
    if (!cancelled) throw new SlipwayError('SLW_CONFLICT', `deployment ${id} was approved or cancelled concurrently`);
    await rec.log('cancelled before it started; nothing changed');
    this.events.publish(id, { type: 'state', deploymentId: id, state: 'cancelled', error: null });
    return cancelled;
  }

  private async awaiting(id: string, verb: string): Promise<Deployment> {
    const d = await this.ctx.store.getDeployment(id);
    if (!d) throw new SlipwayError('SLW_NOT_FOUND', `deployment ${id} does not exist`);
    if (d.state !== 'awaiting_approval') {
      throw new SlipwayError('SLW_CONFLICT', `cannot ${verb} deployment ${id}: it is ${d.state}, not awaiting approval${verb === 'cancel' && !isTerminal(d.state) ? ' (a running deployment is undone by a rollback once it ends)' : ''}`);
    }
    return d;
  }

  private async locked(key: string, ref: ServiceRef): Promise<SlipwayError> {
    const holder = await this.ctx.store.getLease(key);
    if (holder?.holder.startsWith(RETIRE_WARM_HOLDER)) {
      return new SlipwayError('SLW_DEPLOY_LOCKED', `${ref.service} in ${ref.env} is retiring its warm set (keep_warm is over); try again in a few seconds`);
    }
    return new SlipwayError(
      'SLW_DEPLOY_LOCKED',
      `${ref.service} in ${ref.env} is already being deployed by deployment ${holder?.holder ?? '(unknown)'}; wait for it to finish (slipway deployment ${holder?.holder ?? ''}) and try again`,
    );
  }

  async rollback(req: RollbackRequest): Promise<Deployment> {
    const { store } = this.ctx;
    const { serviceId, environmentId } = await this.resolve(req);
    const [currentId, releases, deployments] = await Promise.all([
      store.getCurrentReleaseId(serviceId, environmentId),
      store.listReleases(serviceId, environmentId),
      store.listDeployments({ serviceId, environmentId }),
    ]);
    // Only a release that went live (a deployment of it succeeded) and runs replicas is a default target: core/plan-rollback-target.ts.
    const facts = releases.map((r) => ({ ...r, stopped: r.config.type !== 'job' && r.config.replicas === 0 }));
    const target = planRollbackTarget({ service: req.service, env: req.env, releases: facts, deployments, currentId, requested: req.release, force: req.force });
    if (!target.ok) throw new SlipwayError(target.code, target.message, target.code === 'SLW_CONFLICT' ? [{ path: 'force', message: 'required to roll back to a release that never went live' }] : []);
    const release = target.release;
    if (!(await this.ctx.runtime.inspectImage(release.imageDigest))) {
      // Removed by retention (or by hand): say so, with the two ways back.
      throw new SlipwayError('SLW_IMAGE_PRUNED', prunedReleaseMessage(release, req.service, req.env), [{ path: 'release', message: `v${release.number}'s image is no longer on this host` }]);
    }
    return this.begin({ project: req.project, service: req.service, env: req.env }, serviceId, environmentId, { kind: 'rollback', release, why: target.why }, false, req.triggeredBy ?? null);
  }

  /** Rolls the live release out again with the newest secrets (after `slipway secrets set`). */
  async redeployWithSecrets(ref: ServiceRef, triggeredBy: string | null = null): Promise<Deployment> {
    const { store } = this.ctx;
    const { serviceId, environmentId } = await this.resolve(ref);
    const base = await store.getCurrentRelease(serviceId, environmentId);
    if (!base) throw new SlipwayError('SLW_NOT_FOUND', `${ref.service} has no live release in ${ref.env}; the new secrets apply at its first deploy`);
    return this.begin(ref, serviceId, environmentId, { kind: 'secrets', base }, false, triggeredBy);
  }

  /**
   * Deploys the live release again without slipway.yml: same config, the environment's newest
   * secrets, and its own image (a restart of every replica, through the usual rollout) or
   * another prebuilt image present on this host. Recorded as a deploy that creates a new
   * release. Only a change of image waits for approval where the environment requires it
   * (see planRedeploy).
   */
  async redeploy(req: RedeployRequest): Promise<Deployment> {
    const { store, runtime } = this.ctx;
    const { serviceId, environmentId, environment } = await this.resolve(req);
    await this.ctx.disk?.assertRoom(`redeploying ${req.service}`);
    const base = await store.getCurrentRelease(serviceId, environmentId);
    if (!base) throw new SlipwayError('SLW_NOT_FOUND', `${req.service} has no live release in ${req.env}; deploy it first with slipway deploy`);
    let requested: { ref: string; digest: string } | null = null;
    if (req.image !== undefined) {
      const info = await runtime.inspectImage(req.image);
      if (!info) {
        throw new SlipwayError('SLW_NOT_FOUND', `image "${req.image}" is not on this host; no registry is used: build it here or load it with "docker load"`, [
          { path: 'image', message: 'must be an image present on the server host' },
        ]);
      }
      if (!req.unrestricted) await this.images.check(req.project, req.image, info, 'image');
      requested = { ref: req.image, digest: info.id };
    } else if (!(await runtime.inspectImage(base.imageDigest))) {
      throw new SlipwayError('SLW_NOT_FOUND', `the image of v${base.number} (${base.imageDigest}) is no longer on this host`);
    }
    const planned = planRedeploy(base, requested, environment.approval);
    const ref = { project: req.project, service: req.service, env: req.env };
    return this.begin(ref, serviceId, environmentId, { kind: 'redeploy', base, image: planned.image }, planned.needsApproval, req.triggeredBy ?? null);
  }

  /**
   * The live release with `replicas` replicas and nothing else changed (`slipway scale`): a new
   * release rolled out replica by replica, never building, never running the release command.
   */
  async scale(req: ScaleRequest): Promise<Deployment> {
    const { serviceId, environmentId, base } = await this.liveReleaseOf(req, 'scale');
    if (!Number.isInteger(req.replicas) || req.replicas < 1 || req.replicas > 100) {
      throw new SlipwayError('SLW_BAD_REQUEST', `replicas must be a whole number from 1 to 100, got ${req.replicas}`, [{ path: 'replicas', message: 'must be between 1 and 100' }]);
    }
    if (req.replicas === base.config.replicas) {
      throw new SlipwayError('SLW_CONFLICT', `${req.service} in ${req.env} already runs ${req.replicas} replica(s) (v${base.number}): nothing to scale`, [{ path: 'replicas', message: `is the live count` }]);
    }
    return this.begin({ project: req.project, service: req.service, env: req.env }, serviceId, environmentId, { kind: 'scale', base, replicas: req.replicas }, false, req.triggeredBy ?? null);
  }

  /** The live release again, unchanged, replica by replica (`slipway restart`): new containers, never a build. */
  async restart(req: RestartRequest): Promise<Deployment> {
    const { serviceId, environmentId, base } = await this.liveReleaseOf(req, 'restart');
    if (base.config.replicas === 0) {
      throw new SlipwayError('SLW_CONFLICT', `${req.service} in ${req.env} is stopped (v${base.number} runs no replica): nothing to restart; start it with slipway start ${req.service}`, [{ path: 'service', message: 'is stopped' }]);
    }
    return this.begin({ project: req.project, service: req.service, env: req.env }, serviceId, environmentId, { kind: 'restart', base }, false, req.triggeredBy ?? null);
  }

  /**
   * `slipway stop`: the live release as a new one with 0 replicas (remembering its count), its
   * replicas drained and stopped like a scale down; config, releases and domains stay, and the
   * edge answers the domains with a 503 page saying the service is stopped. Not for jobs.
   */
  async stopService(req: StopStartRequest): Promise<Deployment> {
    const { serviceId, environmentId, base } = await this.liveReleaseOf(req, 'stop');
    if (base.config.replicas === 0) {
      throw new SlipwayError('SLW_CONFLICT', `${req.service} in ${req.env} is already stopped (v${base.number} runs no replica); slipway start ${req.service} runs it again`, [{ path: 'service', message: 'is stopped' }]);
    }
    return this.begin({ project: req.project, service: req.service, env: req.env }, serviceId, environmentId, { kind: 'stop', base }, false, req.triggeredBy ?? null);
  }

  /** `slipway start`: a stopped service's live release as a new one with the count it ran before the stop. */
  async startService(req: StopStartRequest): Promise<Deployment> {
    const { serviceId, environmentId, base } = await this.liveReleaseOf(req, 'start');
    if (base.config.replicas !== 0) {
      throw new SlipwayError('SLW_CONFLICT', `${req.service} in ${req.env} is not stopped: v${base.number} runs ${base.config.replicas} replica(s) (slipway scale changes the count)`, [{ path: 'service', message: 'is not stopped' }]);
    }
    return this.begin({ project: req.project, service: req.service, env: req.env }, serviceId, environmentId, { kind: 'start', base }, false, req.triggeredBy ?? null);
  }

  /** The live release of a service that runs replicas, with its image still on the host. */
  private async liveReleaseOf(ref: ServiceRef, verb: 'scale' | 'restart' | 'stop' | 'start'): Promise<{ serviceId: number; environmentId: number; base: Release }> {
    const { serviceId, environmentId } = await this.resolve(ref);
    await this.ctx.disk?.assertRoom(`${{ scale: 'scaling', restart: 'restarting', stop: 'stopping', start: 'starting' }[verb]} ${ref.service}`);
    const base = await this.ctx.store.getCurrentRelease(serviceId, environmentId);
    if (!base) throw new SlipwayError('SLW_NOT_FOUND', `${ref.service} has no live release in ${ref.env}; deploy it first with slipway deploy`);
    if (base.config.type === 'job') {
      const pause = verb === 'stop' || verb === 'start' ? `; to ${verb === 'stop' ? 'pause' : 'resume'} its scheduled runs in ${ref.env}, set its schedule ${verb === 'stop' ? 'to off' : 'back'} for ${ref.env} in slipway.yml and deploy` : '';
      throw new SlipwayError('SLW_BAD_REQUEST', `${ref.service} is a scheduled job: it keeps no replicas to ${verb} (each run is its own container)${pause}`, [{ path: 'service', message: 'is a job' }]);
    }
    if (!(await this.ctx.runtime.inspectImage(base.imageDigest))) {
      throw new SlipwayError('SLW_NOT_FOUND', `the image of v${base.number} (${base.imageDigest}) is no longer on this host; redeploy with slipway deploy`);
    }
    return { serviceId, environmentId, base };
  }

  /**
   * Starts a repair of the service if replicas of its live release died (the reconciler's
   * call): a deployment of kind `repair` under the service's lease. Null when there is nothing
   * to repair, no live release to repair to (or a job), or another deployment holds the lease.
   */
  /** `sick`: replicas the reconciler found unhealthy (replica-health.ts), checked again under the lease and replaced. */
  async repair(ref: ServiceRef, triggeredBy = 'reconciler', sick: SickReplica[] = []): Promise<Deployment | null> {
    const { store } = this.ctx;
    const { serviceId, environmentId } = await this.resolve(ref);
    const release = await store.getCurrentRelease(serviceId, environmentId);
    if (!release || release.config.type === 'job') return null;
    const id = randomUUID();
    const key = serviceLeaseKey(serviceId, environmentId);
    if (!(await store.acquireLease(key, id, LEASE_TTL_MS))) return null;
    try {
      // Under the lease, from Docker itself: what the caller saw may be gone by now.
      const damage = await assessDamage(this.ctx, ref, backendName(ref.project, ref.service, ref.env), release, sick);
      if (!needsRepair(damage)) {
        await store.releaseLease(key, id);
        return null;
      }
      const deployment = await store.createDeployment({ id, serviceId, environmentId, kind: 'repair', previousReleaseId: release.id, releaseId: release.id, source: null, triggeredBy });
      const task = this.runRepair(deployment, ref, release, damage, key).finally(() => this.running.delete(deployment.id));
      this.running.set(deployment.id, task);
      return deployment;
    } catch (err) {
      await store.releaseLease(key, id).catch(() => undefined);
      throw err;
    }
  }

  private async runRepair(deployment: Deployment, ref: ServiceRef, release: Release, damage: Damage, leaseKey: string): Promise<void> {
    const { store } = this.ctx;
    const rec = new DeploymentRecorder(store, this.events, this.ctx.logger, deployment.id);
    const backend = backendName(ref.project, ref.service, ref.env);
    await withLease(this.ctx, leaseKey, deployment.id, async (ctx) => {
      try {
        await rec.state('rolling', { startedAt: new Date().toISOString(), event: deploymentEvent('deployment.started', ref, deployment) });
        await rec.log(
          `repairing ${ref.project}/${ref.service} in ${ref.env}: ${damage.serving} of ${release.config.replicas} replica(s) of v${release.number} serving` +
            `${damage.dead.length > 0 ? `, ${damage.dead.length} dead container(s)` : ''}${damage.sick.length > 0 ? `, ${damage.sick.length} unhealthy replica(s) to replace` : ''} (same release, no build)`,
        );
        await repairService(ctx, { ref, backend, release, replicas: release.config.replicas, deploymentId: deployment.id }, damage, rec);
        await rec.log(`v${release.number} serves with ${release.config.replicas} replica(s) again`);
        await rec.state('succeeded', { finishedAt: new Date().toISOString(), event: deploymentEvent('deployment.succeeded', ref, deployment, { release: release.number, imageDigest: release.imageDigest }) });
      } catch (err) {
        // No undo: replicas that failed readiness were stopped by the batch; those that passed serve the live release.
        const lost = ctx.signal?.aborted === true;
        const code = lost ? 'SLW_INTERRUPTED' : isSlipwayError(err) ? err.code : 'SLW_DEPLOY_FAILED';
        const message = errorMessage(lost ? ctx.signal!.reason : err);
        await rec.log(`repair failed: ${message}`, 'error').catch(() => undefined);
        await rec.state('failed', { errorCode: code, error: message, finishedAt: new Date().toISOString(), event: deploymentEvent('deployment.failed', ref, deployment, { errorCode: code, error: message }) }).catch((e) =>
          this.ctx.logger.error({ err: e, deployment: deployment.id }, 'could not record repair failure'),
        );
      }
    });
  }

  /**
   * Production always exists; another environment must have been created (`slipway env
   * create`) or be declared under `environments:` in slipway.yml, so a typo in --env
   * never silently starts a new environment.
   */
  private async deployableEnvironment(projectId: number, req: { config: ProjectConfig; env: string }): Promise<Environment> {
    const { store } = this.ctx;
    let env = await store.getEnvironment(projectId, req.env);
    if (!env && (req.env === 'production' || req.config.environments.includes(req.env))) env = await store.ensureEnvironment(projectId, req.env);
    // Its approval policy is recorded once the deployment is accepted (recordApproval).
    if (env) return env;
    const known = (await store.listEnvironments(projectId)).map((e) => e.name);
    const declared = req.config.environments.filter((e) => !known.includes(e));
    throw new SlipwayError(
      'SLW_NOT_FOUND',
      `environment "${req.env}" does not exist in project "${req.config.project}" (known: ${[...known, ...declared].join(', ')}); ` +
        `create it with "slipway env create ${req.env}" or declare it under environments: in slipway.yml`,
    );
  }

  /** Resolves when no deployment started by this instance is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  isRunning(deploymentId: string): boolean {
    return this.running.has(deploymentId);
  }

  /** Resolves when these deployments (started by this instance) have ended, whatever their outcome (boot repairs). */
  async settled(deploymentIds: string[]): Promise<void> {
    await Promise.allSettled(deploymentIds.map((id) => this.running.get(id)).filter((t) => t !== undefined));
  }

  private async resolve(ref: ServiceRef): Promise<{ serviceId: number; environmentId: number; environment: Environment }> {
    const { store } = this.ctx;
    const project = await store.getProject(ref.project);
    if (!project) throw new SlipwayError('SLW_NOT_FOUND', `project "${ref.project}" does not exist`);
    const service = await store.getService(project.id, ref.service);
    if (!service) throw new SlipwayError('SLW_NOT_FOUND', `service "${ref.service}" does not exist in project "${ref.project}"`);
    const env = await store.getEnvironment(project.id, ref.env);
    if (!env) throw new SlipwayError('SLW_NOT_FOUND', `environment "${ref.env}" does not exist in project "${ref.project}"`);
    return { serviceId: service.id, environmentId: env.id, environment: env };
  }

  private async begin(ref: ServiceRef, serviceId: number, environmentId: number, plan: Plan, needsApproval = false, triggeredBy: string | null = null): Promise<Deployment> {
    const { store } = this.ctx;
    const id = randomUUID();
    const waiting = await store.listDeployments({ serviceId, environmentId, states: ['awaiting_approval'], limit: 1 });
    if (waiting[0] && plan.kind !== 'rollback') {
      throw new SlipwayError('SLW_DEPLOY_LOCKED', `deployment ${waiting[0].id} of ${ref.service} in ${ref.env} is awaiting approval: approve or cancel it first (slipway approve|cancel ${waiting[0].id})`);
    }
    const source = plan.kind === 'promote' ? plan.source : null;
    const git = plan.kind === 'deploy' ? (plan.request.gitTrigger ?? null) : null;
    if (needsApproval) {
      const d = await store.createDeployment({
        id,
        serviceId,
        environmentId,
        kind: deploymentKind(plan),
        previousReleaseId: await store.getCurrentReleaseId(serviceId, environmentId),
        releaseId: null,
        source,
        state: 'awaiting_approval',
        plan,
        triggeredBy,
        git,
        event: deploymentEvent('approval.needed', ref, { id, kind: deploymentKind(plan), triggeredBy }),
      });
      await new DeploymentRecorder(store, this.events, this.ctx.logger, id).log(
        `${ref.env} requires approval: waiting for "slipway approve ${id}" (or "slipway cancel ${id}")`,
      );
      return d;
    }
    const key = serviceLeaseKey(serviceId, environmentId);
    if (!(await store.acquireLease(key, id, LEASE_TTL_MS))) throw await this.locked(key, ref);
    const previousReleaseId = await store.getCurrentReleaseId(serviceId, environmentId);
    const deployment = await store.createDeployment({
      id,
      serviceId,
      environmentId,
      kind: deploymentKind(plan),
      previousReleaseId,
      releaseId: plan.kind === 'rollback' ? plan.release.id : null,
      source,
      triggeredBy,
      git,
    });
    this.start(deployment, ref, plan, key);
    return deployment;
  }

  private start(deployment: Deployment, ref: ServiceRef, plan: Plan, key: string): void {
    const task = this.run(deployment, ref, plan, key).finally(() => this.running.delete(deployment.id));
    this.running.set(deployment.id, task);
  }

  /**
   * Before a release command (migrations) in an environment with backup_before_release (default:
   * production): a backup of each Postgres accessory with backups the service uses, linked to the
   * deployment. A failed backup fails the deployment before the release command runs.
   */
  private async backupBeforeRelease(deployment: Deployment, ref: ServiceRef, release: Release, rec: DeploymentRecorder): Promise<BackupView[]> {
    const backups = this.ctx.backups;
    const uses = release.config.uses.filter((u) => u.kind === 'postgres').map((u) => u.accessory);
    if (!backups || uses.length === 0) return [];
    const names = await backups.backedUp(deployment.environmentId, uses);
    const without = uses.filter((u) => !names.includes(u));
    if (without.length) await rec.log(`no backup of ${without.join(', ')} before the release command: backups are off for ${without.length > 1 ? 'them' : 'it'} (backup: in slipway.yml)`, 'warn');
    if (names.length === 0) return [];
    return rec.step('backup', () => backups.beforeRelease(ref.project, ref.env, names, deployment.id, (line) => rec.log(line)), (bs) => bs.map((b) => `${b.accessory}: backup ${b.id} (${b.label}, ${b.type})`).join('; '));
  }

  private async run(deployment: Deployment, ref: ServiceRef, plan: Plan, leaseKey: string): Promise<void> {
    const rec = new DeploymentRecorder(this.ctx.store, this.events, this.ctx.logger, deployment.id);
    // Every port call stops once the lease is lost (lease-guard.ts); the lease is released after.
    const succeeded = await withLease(this.ctx, leaseKey, deployment.id, (ctx) => this.execute(ctx, deployment, ref, plan, rec));
    // After the lease: the next deploy of the service need not wait for pruning, which never fails this one.
    if (succeeded) {
      await applyImageRetention(this.ctx, ref, deployment.serviceId, deployment.environmentId, (m) => rec.log(m)).catch((err) =>
        this.ctx.logger.warn({ err: errorMessage(err), deployment: deployment.id }, 'image retention failed; the deployment stands'),
      );
    }
  }

  /** The deployment's steps under its lease (`ctx` is guarded by it); true when it succeeded. */
  private async execute(ctx: EngineContext, deployment: Deployment, ref: ServiceRef, plan: Plan, rec: DeploymentRecorder): Promise<boolean> {
    const { store } = ctx;
    const backend = backendName(ref.project, ref.service, ref.env);
    /** When the release's replicas started taking traffic (the roll-out began): a smoke failure counts its requests from there. */
    let rollingSince = Date.now();
    try {
      await rec.state('building', { startedAt: new Date().toISOString(), event: deploymentEvent('deployment.started', ref, deployment) });
      const steps = planDeploymentSteps(plan, ref);
      for (const line of steps.intro) await rec.log(line);
      let release: Release;
      if (steps.release.kind === 'release') {
        release = steps.release.release;
        await rec.state('releasing');
      } else {
        const inputs = await this.releaseInputs(ctx, ref, steps.release, rec);
        const { image } = inputs;
        let { config } = inputs;
        if (steps.replicasFromFile) {
          const { replicas, note } = replicasAgainstLive(config, await store.getCurrentRelease(deployment.serviceId, deployment.environmentId));
          if (note) await rec.log(note);
          config = { ...config, replicas };
        }
        if (steps.accessories) await this.ensureAccessories(deployment, ref, steps.accessories, rec);
        await rec.state('releasing');
        const pinned = steps.release.kind === 'image' ? steps.release.secretsVersion : undefined;
        release = await rec.step('release', () => this.createRelease(ctx, deployment, ref, config, image, pinned), (r) => `v${r.number}${r.secretsVersion ? ` with secrets version ${r.secretsVersion}` : ''}`);
      }
      if (steps.releasePhase && release.config.releaseCommand) await this.releasePhase(ctx, deployment, ref, release, steps.releasePhase, rec);

      await rec.state('rolling');
      if (steps.traffic === 'schedule') {
        await releaseJob(ctx, ref, backend, release, rec);
      } else {
        // A stopped service (0 replicas) has its 503 page at the edge; one being started keeps it until its replicas serve.
        let pageUntilServing = false;
        if (steps.traffic === 'route') {
          const wasStopped = deployment.previousReleaseId !== null && (await store.getRelease(deployment.previousReleaseId))?.config.replicas === 0;
          const page = release.config.replicas === 0 || wasStopped;
          pageUntilServing = wasStopped && release.config.replicas > 0;
          await rec.step('edge route', () => ctx.edge.ensureBackend(edgeBackendSpec(backend, release.config, { stopped: page })), () =>
            `${release.config.domains.length > 0 ? release.config.domains.join(', ') : 'no domains'}${page ? `; answered "${ref.service} is stopped" (503) while no replica serves` : ''}`,
          );
        }
        const smoke = smokeApplies(deployment.kind, release.config);
        const target = {
          ref, backend, release, replicas: release.config.replicas, deploymentId: deployment.id, serviceId: deployment.serviceId, environmentId: deployment.environmentId, previousReleaseId: deployment.previousReleaseId,
          // Blue-green: the set the flip leaves stays until the smoke window is over, so a failure switches back to it.
          ...(smoke ? { holdWarmMs: smokeHoldMs(release.config.deploy.smoke) } : {}),
        };
        rollingSince = Date.now();
        await rollOut(ctx, target, deployment.kind, rec, this.canaries);
        if (pageUntilServing) {
          await rec.step(`edge: stopped page off`, () => ctx.edge.ensureBackend(edgeBackendSpec(backend, release.config)), () => `${ref.service} serves again with ${release.config.replicas} replica(s)`);
        }
        // Traffic moved, whatever the strategy: the smoke checks (engine/smoke-check.ts) before it is declared live.
        if (smoke) await runSmokeChecks(ctx, ref, release, rec);
      }
      ctx.signal?.throwIfAborted();
      await store.setCurrentReleaseId(deployment.serviceId, deployment.environmentId, release.id);
      await rec.log(
        release.config.type === 'job'
          ? `v${release.number} is the live release of the job`
          : release.config.replicas === 0
            ? `v${release.number} is live with 0 replicas: ${ref.service} is stopped${release.config.port !== null ? ` (its domains answer 503 "${ref.service} is stopped")` : ''}; slipway start ${ref.service} runs ${release.config.stoppedReplicas ?? 1} again`
            : `v${release.number} is live with ${release.config.replicas} replica(s)`,
      );
      await rec.state('succeeded', {
        finishedAt: new Date().toISOString(),
        event: deploymentEvent(deployment.kind === 'rollback' ? 'deployment.rolled_back' : 'deployment.succeeded', ref, deployment, { release: release.number, imageDigest: release.imageDigest }),
      });
      return true;
    } catch (err) {
      if (err instanceof CanaryAborted) await this.canaryRolledBack(ctx, deployment, ref, backend, rec, err);
      else if (err instanceof SmokeFailed && ctx.signal?.aborted !== true) await this.smokeFailed(ctx, deployment, ref, backend, rec, err, rollingSince);
      else await this.fail(ctx, deployment, ref, backend, rec, err);
      return false;
    }
  }

  /** The image and config of the new release: built here (with its release image), or given by the plan. */
  private async releaseInputs(ctx: EngineContext, ref: ServiceRef, source: Exclude<ReleaseSource, { kind: 'release' }>, rec: DeploymentRecorder): Promise<{ config: ServiceConfig; image: Omit<PreparedImage, 'reused'> }> {
    if (source.kind === 'image') return source;
    const access = { unrestricted: source.unrestricted, images: this.images };
    let { config } = source;
    const image = await rec.step('build', () => prepareImage(ctx, ref, config, source.source, rec, access), (i) => `${i.ref} (${i.digest.slice(0, 19)})${i.reused ? ', reused' : ''}`);
    if (config.release) {
      ({ config } = await rec.step('release image', () => prepareReleaseImage(ctx, ref, config, source.releaseSource, rec, access), (p) => `${p.image!.ref} (${p.image!.digest.slice(0, 19)})${p.image!.reused ? ', reused' : ''}`));
    }
    return { config, image };
  }

  /** A new release of `image` with `config` and the environment's newest secrets (or the `pinned` version), tagged as people look for it. */
  private async createRelease(ctx: EngineContext, deployment: Deployment, ref: ServiceRef, config: ServiceConfig, image: Omit<PreparedImage, 'reused'>, pinned?: number | null): Promise<Release> {
    const { store } = ctx;
    const secrets = pinned === undefined ? await store.getSecrets(deployment.environmentId) : null;
    const r = await store.createRelease({
      serviceId: deployment.serviceId,
      environmentId: deployment.environmentId,
      imageRef: image.ref,
      imageDigest: image.digest,
      // Records each accessory's credentials version at release time (containers always get the current ones: a rotation invalidates older ones).
      config: await this.pinAccessoryCredentials(deployment.environmentId, ref, config),
      sourceRef: image.sourceRef,
      secretsVersion: pinned === undefined ? (secrets?.version ?? null) : pinned,
    });
    // The tags people look for: per release, and by commit (or content) per environment.
    await ctx.runtime.tagImage(image.digest, `${imageRepository(ref)}:${ref.env}-v${r.number}`);
    const bysource = sourceTag(image.sourceRef);
    if (bysource) await ctx.runtime.tagImage(image.digest, `${imageRepository(ref)}:${ref.env}-${bysource}`);
    await store.updateDeployment(deployment.id, { releaseId: r.id });
    return r;
  }

  /** The migration lint, a backup when asked (before: a blocked migration costs no backup), then the release command. */
  private async releasePhase(ctx: EngineContext, deployment: Deployment, ref: ServiceRef, release: Release, phase: NonNullable<DeploymentSteps['releasePhase']>, rec: DeploymentRecorder): Promise<void> {
    const migrations = await checkMigrations(ctx, ref, release, deployment.id, rec, { allowDestructive: phase.allowDestructive, requestedBy: deployment.triggeredBy, promoted: phase.promoted });
    const taken = phase.backupFirst ? await this.backupBeforeRelease(deployment, ref, release, rec) : [];
    try {
      await rec.step('release command', () => runReleaseCommand(ctx, ref, release, deployment.id, rec), (r) => `exit 0 after ${r.durationMs} ms`);
    } catch (err) {
      for (const b of taken) {
        await rec.log(`the data of ${b.accessory} before this release command is backup ${b.id}: restore it with "slipway restore ${b.accessory} --backup ${b.id} --env ${ref.env} -p ${ref.project}" (into a new accessory, to inspect) or add "--in-place --yes" (replaces ${b.accessory})`, 'error');
      }
      throw err;
    }
    await recordMigrations(ctx, release, migrations, rec);
  }

  /**
   * Every accessory of slipway.yml running its desired spec and ready before the release
   * command and the replicas need them (engine/accessories.ts; unchanged ones are untouched).
   */
  private async ensureAccessories(deployment: Deployment, ref: ServiceRef, config: ProjectConfig, rec: DeploymentRecorder): Promise<void> {
    const names = Object.keys(config.accessories ?? {});
    if (names.length === 0) return;
    const manager = this.ctx.accessories;
    if (!manager) throw new SlipwayError('SLW_INTERNAL', 'this control plane runs without the accessory manager');
    await rec.step(
      'accessories',
      () => manager.ensure(ref.project, { id: deployment.environmentId, name: ref.env }, config, (line, level) => rec.log(line, level)),
      (outcomes) => outcomes.map((o) => `${o.name} ${o.action}`).join(', '),
    );
  }

  private async pinAccessoryCredentials(environmentId: number, ref: ServiceRef, config: ServiceConfig): Promise<ServiceConfig> {
    if (!config.uses.length) return config;
    const manager = this.ctx.accessories;
    if (!manager) throw new SlipwayError('SLW_INTERNAL', `${ref.service} uses accessories, but this control plane runs without the accessory manager`);
    return { ...config, uses: await manager.pinUses(environmentId, config.uses) };
  }

  /**
   * A canary aborted by its analysis (or by hand): traffic is already back on the stable set and
   * the canary replicas are gone; the undo only checks that. The deployment ends `rolled_back`
   * and the outbox event carries the measured figures.
   */
  private async canaryRolledBack(ctx: EngineContext, deployment: Deployment, ref: ServiceRef, backend: string, rec: DeploymentRecorder, err: CanaryAborted): Promise<void> {
    await rec.log(`canary aborted: ${err.message}; v${err.figures.stableRelease} serves everything (${err.figures.timeToAbortMs} ms after the canary started)`, 'error').catch(() => undefined);
    try {
      await undoDeployment(ctx, deployment, ref, backend, rec);
    } catch (undoErr) {
      await rec.log(`could not fully restore the previous release: ${errorMessage(undoErr)}`, 'error').catch(() => undefined);
    }
    await rec.state('rolled_back', {
      errorCode: err.code,
      error: err.message,
      finishedAt: new Date().toISOString(),
      event: deploymentEvent('deployment.rolled_back', ref, deployment, { reason: 'canary', errorCode: err.code, error: err.message, ...err.figures }),
    }).catch((e) => this.ctx.logger.error({ err: e, deployment: deployment.id }, 'could not record the canary abort'));
  }

  /**
   * A smoke check failed after traffic moved to the release. With `rollback: true` (the default)
   * the previous release serves again: a blue-green warm set takes the traffic back in one edge
   * command (flipBack), otherwise the previous release's replicas start all at once and the new
   * ones are retired (undoDeployment, as for any failure); the deployment ends `rolled_back`
   * with the failing check in its log and in the `deployment.rolled_back` event. With
   * `rollback: false` nothing moves: the release is the live one and the deployment `failed`.
   * With no earlier release to return to, it fails as any first deploy does (its replicas removed).
   */
  private async smokeFailed(ctx: EngineContext, deployment: Deployment, ref: ServiceRef, backend: string, rec: DeploymentRecorder, err: SmokeFailed, rollingSince: number): Promise<void> {
    const { release } = err;
    const code = err.code;
    const detail = { reason: 'smoke', errorCode: code, error: err.message, release: release.number, check: err.failure, window: err.figures };
    const previous = deployment.previousReleaseId ? await ctx.store.getRelease(deployment.previousReleaseId) : null;
    if (!release.config.deploy.smoke?.rollback) {
      try {
        // It serves every request already: the store says so, and the deployment records the failed check.
        await ctx.store.setCurrentReleaseId(deployment.serviceId, deployment.environmentId, release.id);
        await rec.log(`${err.message}; rollback: false, so v${release.number} stays live${previous ? ` (back to v${previous.number} by hand: slipway rollback ${ref.service}${ref.env === 'production' ? '' : ` --env ${ref.env}`})` : ''}`, 'error');
      } catch (e) {
        this.ctx.logger.error({ err: errorMessage(e), deployment: deployment.id }, 'could not record the live release after a failed smoke check');
      }
      await rec.state('failed', { errorCode: code, error: err.message, finishedAt: new Date().toISOString(), event: deploymentEvent('deployment.failed', ref, deployment, detail) }).catch((e) =>
        this.ctx.logger.error({ err: e, deployment: deployment.id }, 'could not record the failed smoke check'),
      );
      return;
    }
    if (!previous || previous.id === release.id) {
      await rec.log(`${err.message}; there is no earlier release to roll back to`, 'error').catch(() => undefined);
      return this.fail(ctx, deployment, ref, backend, rec, err);
    }
    await rec.log(`${err.message}; rolling back to v${previous.number}`, 'error').catch(() => undefined);
    try {
      const back = { ref, backend, release: previous, replicas: previous.config.replicas, deploymentId: deployment.id, serviceId: deployment.serviceId, environmentId: deployment.environmentId, previousReleaseId: release.id };
      // Blue-green: the warm set takes the traffic back in one edge command; the set it left is retired by the undo.
      const switched = previous.config.port !== null && (await flipBack(ctx, back, rec, { keepLeftWarm: false }));
      if (!switched) await rec.log(`starting v${previous.number}'s ${previous.config.replicas} replica(s) again, all at once, then retiring v${release.number}'s`);
      await undoDeployment(ctx, deployment, ref, backend, rec, { allAtOnce: true });
      const warm = await readWarmSet(ctx.store, deployment.serviceId, deployment.environmentId);
      if (warm?.release === previous.number) await clearWarmSet(ctx.store, deployment.serviceId, deployment.environmentId);
    } catch (undoErr) {
      await rec.log(`could not fully restore the previous release: ${errorMessage(undoErr)}`, 'error').catch(() => undefined);
    }
    // What clients got from the failed release, from the moment it took traffic to the end of the rollback.
    const exposed = ctx.traffic?.window(ref, release.number, rollingSince, Date.now()) ?? null;
    if (exposed) {
      await rec.log(`v${release.number} answered ${exposed.requests} request(s) from the start of its roll-out to the end of the rollback (${((Date.now() - rollingSince) / 1000).toFixed(1)} s), ${exposed.errors} of them with a 5xx`, exposed.errors > 0 ? 'warn' : 'info').catch(() => undefined);
    }
    await rec.state('rolled_back', {
      errorCode: code,
      error: err.message,
      finishedAt: new Date().toISOString(),
      event: deploymentEvent('deployment.rolled_back', ref, deployment, { ...detail, rolledBackTo: previous.number, exposed }),
    }).catch((e) => this.ctx.logger.error({ err: e, deployment: deployment.id }, 'could not record the smoke rollback'));
  }

  /** `slipway deploy pause|resume|promote|abort <deployment>`: a command for a canary this instance runs. */
  async controlCanary(id: string, cmd: CanaryCommand): Promise<Deployment> {
    const d = await this.ctx.store.getDeployment(id);
    if (!d) throw new SlipwayError('SLW_NOT_FOUND', `deployment ${id} does not exist`);
    if (isTerminal(d.state)) throw new SlipwayError('SLW_CONFLICT', `deployment ${id} has ended (${d.state}): there is no canary to ${cmd}`);
    this.canaries.send(id, cmd);
    return d;
  }

  /** Undo: retire what this deployment started, restore the previous release's capacity, mark failed. */
  private async fail(ctx: EngineContext, deployment: Deployment, ref: ServiceRef, backend: string, rec: DeploymentRecorder, err: unknown): Promise<void> {
    const lost = ctx.signal?.aborted === true;
    const code = lost ? 'SLW_INTERRUPTED' : isSlipwayError(err) ? err.code : 'SLW_DEPLOY_FAILED';
    const message = lost ? errorMessage(ctx.signal!.reason) : errorMessage(err);
    await rec.log(`deployment failed: ${message}`, 'error').catch(() => undefined);
    try {
      // The new holder of the lease (a later deployment, or recovery) owns what this one started.
      if (lost) await rec.log('not undoing: the service belongs to whoever holds its lease now (a later deployment converges it; recovery at the next start removes leftovers)', 'warn').catch(() => undefined);
      else await undoDeployment(ctx, deployment, ref, backend, rec);
    } catch (undoErr) {
      await rec.log(`could not fully restore the previous release: ${errorMessage(undoErr)}`, 'error').catch(() => undefined);
    }
    await rec.state('failed', { errorCode: code, error: message, finishedAt: new Date().toISOString(), event: deploymentEvent('deployment.failed', ref, deployment, { errorCode: code, error: message }) }).catch((e) =>
      this.ctx.logger.error({ err: e, deployment: deployment.id }, 'could not record deployment failure'),
    );
  }
}

/**
 * A job keeps no replicas: its release only becomes the one the scheduler runs. Replicas
 * left from when the service was not a job are retired.
 */
export async function releaseJob(ctx: EngineContext, ref: ServiceRef, backend: string, release: Release, rec: DeploymentRecorder): Promise<void> {
  for (const r of await ctx.runtime.listReplicas({ project: ref.project, service: ref.service, env: ref.env })) {
    await retireReplica(ctx, r, retireOptions(backend, release.config.deploy, rec));
  }
  if (release.config.schedule === null) {
    // `schedule: off` here: released (a rollback target, what `slipway run` starts), never run on schedule.
    await rec.log(`job with schedule off in ${ref.env}: never run on schedule here; run it by hand with slipway run ${ref.service} --env ${ref.env} -- <command>`);
    return;
  }
  const schedule = parseCron(release.config.schedule);
  await rec.log(`scheduled job "${schedule.expression}" (UTC): next run at ${schedule.next(new Date()).toISOString()}; history: slipway jobs ${ref.service}`);
}

/** The kind a plan is recorded as: a redeploy is a deploy (a new release, no slipway.yml). */
/** Retires every replica a deployment started, then converges back to the release that was live before it. */
/** `allAtOnce`: the previous release's whole set starts in one batch (a smoke check's rollback), unless it must never overlap (recreate). */
export async function undoDeployment(ctx: EngineContext, deployment: Deployment, ref: ServiceRef, backend: string, rec: DeploymentRecorder, opts: { allAtOnce?: boolean } = {}): Promise<void> {
  const previous = deployment.previousReleaseId ? await ctx.store.getRelease(deployment.previousReleaseId) : null;
  if (previous && previous.id !== deployment.releaseId) {
    // A warm set this deployment never replaced (it failed before its flip) keeps its window: a rollback can still switch to it.
    const warm = await readWarmSet(ctx.store, deployment.serviceId, deployment.environmentId);
    const keepWarm = warm && !isExpired(warm, new Date()) ? warm.release : undefined;
    // Restore first (a no-op when the old replicas all still serve), so capacity never drops to zero.
    const restore = opts.allAtOnce ? allAtOnce(previous) : previous;
    await converge(ctx, { ref, backend, release: restore, replicas: previous.config.replicas, deploymentId: deployment.id, keepWarm }, rec);
    await rec.log(`v${previous.number} keeps serving`);
  }
  const mine = await ctx.runtime.listReplicas({ project: ref.project, service: ref.service, env: ref.env, deployment: deployment.id });
  const keep = previous && previous.id === deployment.releaseId;
  const leftovers = keep ? [] : mine.filter((r) => !previous || r.labels.release !== previous.number);
  const release = deployment.releaseId ? await ctx.store.getRelease(deployment.releaseId) : null;
  const timeouts = (release ?? previous)?.config.deploy ?? { drainTimeoutMs: 10_000, stopTimeoutMs: 10_000 };
  for (const r of leftovers) {
    await retireReplica(ctx, r, { backend, drainTimeoutMs: timeouts.drainTimeoutMs, stopTimeoutMs: timeouts.stopTimeoutMs, log: (m, l) => rec.log(m, l) });
  }
  if (leftovers.length > 0) await rec.log(`removed ${leftovers.length} replica(s) started by this deployment`);
}

/** The release with a surge of its whole set (one batch: start all, then retire the others); recreate as it is. */
function allAtOnce(release: Release): Release {
  const { deploy, replicas } = release.config;
  if (deploy.strategy === 'recreate' || deploy.maxSurge >= replicas) return release;
  return { ...release, config: { ...release.config, deploy: { ...deploy, maxSurge: replicas } } };
}
