/**
 * Picks how a deployment moves traffic to its release once the release exists: a rollback
 * to the warm set inside its window is a flip back (no container starts); a blue-green web
 * service starts its whole new set and flips; everything else converges batch by batch
 * (rolling, or recreate); a canary web service (not a rollback) goes through its steps and analysis.
 */
import type { DeploymentKind } from '../core/domain';
import { blueGreen, flipBack, type BlueGreenTarget } from './blue-green';
import { canary } from './canary';
import type { CanaryControls } from './canary-control';
import { converge } from './converge';
import type { DeploymentRecorder } from './deployment-recorder';
import type { EngineContext } from './engine-context';
import { clearWarmSet } from './warm-sets';

export async function rollOut(ctx: EngineContext, target: BlueGreenTarget, kind: DeploymentKind, rec: DeploymentRecorder, canaries: CanaryControls): Promise<void> {
  const web = target.release.config.port !== null;
  if (web && kind === 'rollback' && (await flipBack(ctx, target, rec))) return;
  if (web && target.release.config.deploy.strategy === 'blue-green') return blueGreen(ctx, target, rec);
  // A rollback is how one gets out of trouble: it is never held back by a canary's steps.
  if (web && kind !== 'rollback' && target.release.config.deploy.strategy === 'canary') {
    await canary(ctx, target, rec, canaries);
    await clearWarmSet(ctx.store, target.serviceId, target.environmentId);
    return;
  }
  await converge(ctx, target, rec);
  // Converge retired a warm set as a leftover, or took it back into rotation: either way it is no longer warm.
  await clearWarmSet(ctx.store, target.serviceId, target.environmentId);
}
