/**
 * Planning apart from doing: what a deployment was asked to do (its `Plan`, stored as JSON
 * while it awaits approval) and, from it, the steps it takes (`DeploymentSteps`): where the
 * release's image and config come from, whether accessories are brought up, whether a release
 * phase runs (and a backup before it), how the release takes traffic. Pure: deploy-engine.ts
 * runs the steps; the tests check the plans without Docker or HAProxy.
 */
import type { ProjectConfig, ServiceConfig } from '../core/config';
import type { BuildSource, DeploymentKind, GitTrigger, PromotionSource, Release, ServiceRef } from '../core/domain';
import { SlipwayError } from '../core/errors';
import type { RedeployImage } from '../core/plan-redeploy';
import { readStoredServiceConfig } from '../core/stored-service-config';
import type { PreparedImage } from './prepare-image';

export interface DeployRequest {
  config: ProjectConfig;
  service: string;
  env: string;
  /** Where a built service's context comes from; null for prebuilt images. */
  source: BuildSource | null;
  /** Where the release image (`release: { build }`) comes from: its upload (`sources["<service>:release"]`) or the deploy's git source. */
  releaseSource?: BuildSource | null;
  /** Who asked (audit actor), recorded on the deployment. */
  triggeredBy?: string | null;
  /** The pushed git ref and its commit (push webhooks), recorded on the deployment. */
  gitTrigger?: GitTrigger;
  /**
   * The caller may use any image on the host and the legacy shared archives (an
   * unrestricted token). Otherwise (a project token, a webhook) only images built for the
   * project or allowed by an admin: see image-policy.ts.
   */
  unrestricted?: boolean;
  /** `slipway deploy --allow-destructive`: in production the migration lint's findings are logged, not blocking (migration-check.ts). */
  allowDestructive?: boolean;
}

/**
 * What a deployment will do, stored as JSON while it awaits approval (so it must stay plain
 * data: approve() reads it back).
 */
export type Plan =
  | { kind: 'deploy'; request: DeployRequest }
  /** The live release (`base`) again with its config and the environment's newest secrets, with its own image or another prebuilt one. */
  | { kind: 'redeploy'; base: Release; image: RedeployImage }
  /** `why`: which release and why (skipped releases that never went live), for the log. */
  | { kind: 'rollback'; release: Release; why?: string }
  /** The live release again (same image and config) with the environment's newest secrets. */
  | { kind: 'secrets'; base: Release }
  /** Another environment's image, with this environment's config (and, at release, secrets). */
  | { kind: 'promote'; config: ServiceConfig; image: Omit<PreparedImage, 'reused'>; source: PromotionSource; backupBeforeRelease?: boolean; allowDestructive?: boolean }
  /** The live release (`base`) with another replica count and nothing else changed (`slipway scale`). */
  | { kind: 'scale'; base: Release; replicas: number }
  /** The live release (`base`) again, unchanged, replica by replica (`slipway restart`). */
  | { kind: 'restart'; base: Release }
  /** The live release (`base`) with 0 replicas, remembering its count (`slipway stop`). */
  | { kind: 'stop'; base: Release }
  /** A stopped live release (`base`) with the count it ran before the stop (`slipway start`). */
  | { kind: 'start'; base: Release };

/** The deployment's kind as stored and shown: a redeploy is a deploy. */
export function deploymentKind(plan: Plan): DeploymentKind {
  return plan.kind === 'redeploy' ? 'deploy' : plan.kind;
}

/**
 * The replica count a deploy from slipway.yml runs, against the live release: the file's, or,
 * with `replicas: { min: N }`, a higher count the live release runs (raised by `slipway scale`).
 * `note`: what the log says when the count differs from the live one.
 */
export function replicasAgainstLive(config: ServiceConfig, live: Release | null): { replicas: number; note: string | null } {
  const running = live?.config.replicas;
  if (running === undefined || running === config.replicas) return { replicas: config.replicas, note: null };
  if (running === 0) {
    // Stopped (`slipway stop`): a deploy runs the service again, with the file's count.
    return { replicas: config.replicas, note: `${config.name} was stopped (v${live!.number} runs no replica): this deploy starts it again with ${config.replicas} replica(s) from slipway.yml` };
  }
  if (config.keepScaledReplicas && running > config.replicas) {
    return { replicas: running, note: `replicas: keeping the ${running} v${live!.number} runs (slipway.yml asks for at least ${config.replicas})` };
  }
  return {
    replicas: config.replicas,
    note: `replicas: ${config.replicas} from slipway.yml (v${live!.number} runs ${running}${config.keepScaledReplicas ? '' : `; to keep a count raised by slipway scale, write replicas: { min: ${config.replicas} }`})`,
  };
}

/**
 * A plan read back for approval: the service configs in it go through readStoredServiceConfig
 * (a plan stored before an upgrade gets today's defaults, as releases do); the rest is the
 * request the engine itself wrote.
 */
export function readStoredPlan(raw: unknown, id: string): Plan | null {
  if (raw === null || raw === undefined) return null;
  const p = raw as Plan;
  const cfg = (c: unknown) => readStoredServiceConfig(c, `the stored plan of deployment ${id}`);
  switch (p.kind) {
    case 'deploy':
      return { ...p, request: { ...p.request, config: { ...p.request.config, services: Object.fromEntries(Object.entries(p.request.config.services).map(([k, v]) => [k, cfg(v)])) } } };
    case 'redeploy':
    case 'secrets':
    case 'scale':
    case 'restart':
    case 'stop':
    case 'start':
      return { ...p, base: { ...p.base, config: cfg(p.base.config) } };
    case 'rollback':
      return { ...p, release: { ...p.release, config: cfg(p.release.config) } };
    case 'promote':
      return { ...p, config: cfg(p.config) };
    default:
      throw new SlipwayError('SLW_INTERNAL', `deployment ${id}: its stored plan has an unknown kind`);
  }
}

/** Where the release that rolls out comes from. */
export type ReleaseSource =
  /** Built here (and its release image, when `release:` builds one); then a new release. */
  | { kind: 'build'; config: ServiceConfig; source: BuildSource | null; releaseSource: BuildSource | null; unrestricted: boolean }
  /**
   * An image already on the host (promoted, redeployed, the live one with new secrets or another
   * replica count); then a new release, with the environment's newest secrets unless `secretsVersion`
   * pins the base's (a scale or a restart changes nothing else).
   */
  | { kind: 'image'; config: ServiceConfig; image: Omit<PreparedImage, 'reused'>; secretsVersion?: number | null }
  /** An existing release again, as it was (a rollback): no build, no new release, no release phase. */
  | { kind: 'release'; release: Release };

export interface DeploymentSteps {
  /** Lines the log starts with: what this deployment is. */
  intro: string[];
  release: ReleaseSource;
  /** slipway.yml's accessories, running and ready before the release (a deploy carrying slipway.yml). */
  accessories: ProjectConfig | null;
  /** The release phase (`release_command`), with the migration lint before it and, when asked, a backup. */
  releasePhase: { allowDestructive: boolean; promoted: boolean; backupFirst: boolean } | null;
  /** How the release takes traffic: a job's schedule, an edge route and a roll-out, or a roll-out alone (workers). */
  traffic: 'schedule' | 'route' | 'replicas';
  /** slipway.yml's replica count meets the live release's (replicasAgainstLive): a deploy or a promotion. */
  replicasFromFile: boolean;
}

/** The steps of a deployment of `ref` asked as `plan`. */
export function planDeploymentSteps(plan: Plan, ref: ServiceRef): DeploymentSteps {
  const where = `${ref.project}/${ref.service}`;
  const production = ref.env === 'production';
  switch (plan.kind) {
    case 'deploy': {
      const config = plan.request.config.services[ref.service];
      if (!config) throw new SlipwayError('SLW_INTERNAL', `the deploy request has no service "${ref.service}"`);
      return {
        intro: [`deploying ${where} to ${ref.env}`],
        release: { kind: 'build', config, source: plan.request.source, releaseSource: plan.request.releaseSource ?? null, unrestricted: plan.request.unrestricted === true },
        accessories: Object.keys(plan.request.config.accessories ?? {}).length > 0 ? plan.request.config : null,
        releasePhase: config.releaseCommand
          ? { allowDestructive: plan.request.allowDestructive === true, promoted: false, backupFirst: plan.request.config.backupBeforeRelease ?? production }
          : null,
        traffic: trafficOf(config),
        replicasFromFile: true,
      };
    }
    case 'promote':
      return {
        intro: [`promoting ${where}: ${plan.source.env} v${plan.source.release} (${plan.image.digest.slice(0, 19)}) to ${ref.env}, with ${ref.env}'s config and secrets; no build`],
        release: { kind: 'image', config: plan.config, image: plan.image },
        accessories: null,
        releasePhase: plan.config.releaseCommand ? { allowDestructive: plan.allowDestructive === true, promoted: true, backupFirst: plan.backupBeforeRelease ?? production } : null,
        traffic: trafficOf(plan.config),
        replicasFromFile: true,
      };
    case 'redeploy': {
      const { base, image } = plan;
      return {
        intro: [
          image.digest === base.imageDigest
            ? `redeploying v${base.number} of ${where} in ${ref.env} (same image and config, no build)`
            : `redeploying v${base.number} of ${where} in ${ref.env} with image ${image.ref} (${image.digest.slice(0, 19)}) and the same config (no build)`,
        ],
        release: { kind: 'image', config: base.config, image },
        accessories: null,
        releasePhase: base.config.releaseCommand ? { allowDestructive: false, promoted: false, backupFirst: production } : null,
        traffic: trafficOf(base.config),
        replicasFromFile: false,
      };
    }
    case 'secrets': {
      const { base } = plan;
      return {
        intro: [`rolling out v${base.number} of ${where} in ${ref.env} again with the newest secrets (same image, no build)`],
        release: { kind: 'image', config: base.config, image: { ref: base.imageRef, digest: base.imageDigest, sourceRef: base.sourceRef } },
        accessories: null,
        releasePhase: base.config.releaseCommand ? { allowDestructive: false, promoted: false, backupFirst: production } : null,
        traffic: trafficOf(base.config),
        replicasFromFile: false,
      };
    }
    case 'scale':
    case 'restart':
    case 'stop':
    case 'start': {
      const { base } = plan;
      const image = { ref: base.imageRef, digest: base.imageDigest, sourceRef: base.sourceRef };
      const { replicas, stoppedReplicas } = countAfter(plan);
      return {
        intro: [
          plan.kind === 'scale'
            ? `scaling ${where} in ${ref.env} from ${base.config.replicas}${base.config.replicas === 0 ? ' (stopped)' : ''} to ${replicas} replica(s): v${base.number}'s image, config and secrets as a new release (no build, no release command)`
            : plan.kind === 'restart'
              ? `restarting ${where} in ${ref.env}: v${base.number} again as a new release, replica by replica (same image, config and secrets; no build, no release command)`
              : plan.kind === 'stop'
                ? `stopping ${where} in ${ref.env}: v${base.number} as a new release with 0 replicas (its ${base.config.replicas} drained and stopped; config, releases and domains kept; slipway start runs ${base.config.replicas} again)`
                : `starting ${where} in ${ref.env}: v${base.number} as a new release with the ${replicas} replica(s) it ran before it was stopped (same image, config and secrets; no build, no release command)`,
        ],
        release: { kind: 'image', config: { ...base.config, replicas, stoppedReplicas }, image, secretsVersion: base.secretsVersion },
        accessories: null,
        releasePhase: null,
        traffic: trafficOf(base.config),
        replicasFromFile: false,
      };
    }
    case 'rollback': {
      const { release } = plan;
      return {
        intro: [
          ...(plan.why ? [plan.why] : []),
          `rolling back ${where} in ${ref.env} to v${release.number} (image ${release.imageDigest.slice(0, 19)}, ${release.secretsVersion ? `secrets version ${release.secretsVersion}` : 'no secrets'}, no build${release.config.releaseCommand ? ', release command not re-run' : ''})`,
        ],
        release: { kind: 'release', release },
        accessories: null,
        releasePhase: null,
        traffic: trafficOf(release.config),
        replicasFromFile: false,
      };
    }
  }
}

/**
 * The count a scale, restart, stop or start runs, and what the release remembers for `start`: a
 * stop runs 0 and remembers the live count; a start runs the remembered count (1 if a stopped
 * release lacks it); a scale runs its count (starting a stopped service); a restart changes nothing.
 */
export function countAfter(plan: Extract<Plan, { kind: 'scale' | 'restart' | 'stop' | 'start' }>): { replicas: number; stoppedReplicas: number | null } {
  const { config } = plan.base;
  switch (plan.kind) {
    case 'scale':
      return { replicas: plan.replicas, stoppedReplicas: null };
    case 'restart':
      return { replicas: config.replicas, stoppedReplicas: config.stoppedReplicas };
    case 'stop':
      return { replicas: 0, stoppedReplicas: config.replicas };
    case 'start':
      return { replicas: config.stoppedReplicas ?? 1, stoppedReplicas: null };
  }
}

function trafficOf(config: ServiceConfig): DeploymentSteps['traffic'] {
  if (config.type === 'job') return 'schedule';
  return config.port !== null ? 'route' : 'replicas';
}
