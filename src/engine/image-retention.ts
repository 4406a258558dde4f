/**
 * Applies image retention after a deployment succeeds: gathers every release Slipway knows and
 * what must stay (live releases, warm sets, running deployments such as canaries, deployments
 * awaiting approval, images of existing containers), lets the pure planner pick the digests of
 * this service+environment beyond its newest `retention.releases`, removes them through the
 * Runtime port (never forcing), then prunes dangling build layers and build cache above a
 * bound. Never fails the deployment: every problem is a warning in the log.
 */
import { digestsIn, planImageRetention, type RetentionRelease } from '../core/plan-image-retention';
import type { ServiceRef } from '../core/domain';
import { errorMessage } from '../core/errors';
import type { EngineContext } from './engine-context';
import { readWarmSet } from './warm-sets';

/** Build cache kept by the prune after each deployment (the rest is layers no build reused lately). */
export const BUILD_CACHE_KEEP_BYTES = 2 * 2 ** 30;

export interface RetentionResult {
  removed: string[];
  kept: Array<{ digest: string; reason: string }>;
  releases: number[];
  reclaimedBytes: number;
}

const scopeOf = (serviceId: number, environmentId: number) => `${serviceId}:${environmentId}`;

export async function applyImageRetention(ctx: EngineContext, ref: ServiceRef, serviceId: number, environmentId: number, log: (m: string) => Promise<void>): Promise<RetentionResult> {
  const { store, runtime } = ctx;
  const releases: RetentionRelease[] = [];
  const retained = new Map<string, number>();
  const protectedDigests = new Set<string>();
  for (const project of await store.listProjects()) {
    const [services, envs] = await Promise.all([store.listServices(project.id), store.listEnvironments(project.id)]);
    for (const env of envs) {
      for (const r of await store.listCurrentReleases(env.id)) protectedDigests.add(r.imageDigest);
      // Running deployments (rolling, canaries) and those awaiting approval carry digests too.
      for (const d of await store.listDeployments({ environmentId: env.id, states: ['queued', 'building', 'releasing', 'rolling', 'awaiting_approval'] })) {
        if (d.releaseId !== null) {
          const r = await store.getRelease(d.releaseId);
          if (r) protectedDigests.add(r.imageDigest);
        }
        if (d.source?.imageDigest) protectedDigests.add(d.source.imageDigest);
        if (d.state === 'awaiting_approval') digestsIn(await store.getDeploymentPlan(d.id), protectedDigests);
      }
      for (const s of services) {
        const list = await store.listReleases(s.id, env.id);
        if (list.length === 0) continue;
        const scope = scopeOf(s.id, env.id);
        // The newest release's config says how many to keep (per-environment overrides included).
        retained.set(scope, list[0]!.config.retention.releases);
        for (const r of list) releases.push({ scope, number: r.number, imageDigest: r.imageDigest });
        const warm = await readWarmSet(store, s.id, env.id);
        const warmRelease = warm ? list.find((r) => r.number === warm.release) : undefined;
        if (warmRelease) protectedDigests.add(warmRelease.imageDigest);
      }
    }
  }
  // Whatever containers exist (replicas, one-offs): Docker refuses to remove these anyway.
  for (const replica of await runtime.listReplicas({})) {
    if (replica.image.startsWith('sha256:')) protectedDigests.add(replica.image);
  }
  const scope = scopeOf(serviceId, environmentId);
  const plan = planImageRetention({ scope, releases, retained, protectedDigests });
  const result: RetentionResult = { removed: [], kept: [], releases: [], reclaimedBytes: 0 };
  for (const digest of plan.remove) {
    try {
      // Pruned by an earlier pass: nothing to do, nothing to report.
      if (!(await runtime.inspectImage(digest))) continue;
      const r = await runtime.removeImage(digest);
      if (r.removed) result.removed.push(digest);
      else result.kept.push({ digest, reason: r.reason ?? 'kept by Docker' });
    } catch (err) {
      result.kept.push({ digest, reason: errorMessage(err) });
    }
  }
  const gone = new Set(result.removed);
  result.releases = plan.releases.filter((n) => releases.some((r) => r.scope === scope && r.number === n && gone.has(r.imageDigest)));
  if (result.removed.length > 0) {
    await log(`retention: removed ${result.removed.length} image(s) of releases beyond the newest ${retained.get(scope)} of ${ref.service} in ${ref.env} (${result.releases.map((n) => `v${n}`).join(', ')})`);
  }
  for (const k of result.kept) ctx.logger.warn({ service: ref.service, env: ref.env, image: k.digest, reason: k.reason }, 'retention: image kept');
  try {
    result.reclaimedBytes = (await runtime.pruneBuildLeftovers(BUILD_CACHE_KEEP_BYTES)).reclaimedBytes;
  } catch (err) {
    ctx.logger.warn({ err: errorMessage(err) }, 'retention: could not prune dangling images and build cache');
  }
  return result;
}
