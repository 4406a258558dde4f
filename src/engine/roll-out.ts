/**
 * Picks how a deployment moves traffic to its release once the release exists: one
 * RolloutStrategy per `deploy.strategy`. A rollback to the warm set inside its window is a flip
 * back (no container starts) whatever the strategy; a blue-green web service starts its whole
 * new set and flips; a canary web service (not a rollback) goes through its steps and analysis;
 * rolling and recreate converge batch by batch. Workers and jobs have no traffic to move: they
 * converge (recreate still stops before it starts).
 */
import type { DeployConfig } from '../core/config';
import type { DeploymentKind } from '../core/domain';
import { blueGreen, flipBack, type BlueGreenTarget } from './blue-green';
import { canary } from './canary';
import type { CanaryControls } from './canary-control';
import { converge } from './converge';
import type { DeploymentRecorder } from './deployment-recorder';
import type { EngineContext } from './engine-context';
import { clearWarmSet } from './warm-sets';

export interface RolloutStrategy {
  roll(ctx: EngineContext, target: BlueGreenTarget, rec: DeploymentRecorder, canaries: CanaryControls): Promise<void>;
}

/** Rolling and recreate: batches (converge.ts); a warm set converge met was retired or taken back into rotation, so it is not warm any more. */
const converging: RolloutStrategy = {
  async roll(ctx, target, rec) {
    await converge(ctx, target, rec);
    await clearWarmSet(ctx.store, target.serviceId, target.environmentId);
  },
};

const STRATEGIES: Record<DeployConfig['strategy'], RolloutStrategy> = {
  rolling: converging,
  recreate: converging,
  'blue-green': { roll: (ctx, target, rec) => blueGreen(ctx, target, rec) },
  canary: {
    async roll(ctx, target, rec, canaries) {
      await canary(ctx, target, rec, canaries);
      await clearWarmSet(ctx.store, target.serviceId, target.environmentId);
    },
  },
};

export function rolloutStrategy(target: BlueGreenTarget, kind: DeploymentKind): RolloutStrategy {
  const { port, deploy } = target.release.config;
  if (port === null) return converging;
  // A rollback is how one gets out of trouble: it is never held back by a canary's steps.
  if (kind === 'rollback' && deploy.strategy === 'canary') return converging;
  // A scale, a restart, a stop or a start changes nothing to analyse or to hold warm: batches
  // (a stop drains and stops every replica at once, a start starts the whole count at once).
  if (kind === 'scale' || kind === 'restart' || kind === 'stop' || kind === 'start') return converging;
  return STRATEGIES[deploy.strategy];
}

export async function rollOut(ctx: EngineContext, target: BlueGreenTarget, kind: DeploymentKind, rec: DeploymentRecorder, canaries: CanaryControls): Promise<void> {
  if (target.release.config.port !== null && kind === 'rollback' && (await flipBack(ctx, target, rec))) return;
  await rolloutStrategy(target, kind).roll(ctx, target, rec, canaries);
}
