/**
 * The release phase: `release_command` runs once per deployment in a one-off
 * container of the new image with the new environment, before any traffic moves.
 * Its output streams into the deployment log; a non-zero exit or a timeout fails
 * the deployment while the previous release keeps serving untouched.
 */
import { randomBytes } from 'node:crypto';
import type { Release, ServiceRef } from '../core/domain';
import { SlipwayError } from '../core/errors';
import type { OneOffResult } from '../core/ports/runtime';
import type { DeploymentRecorder } from './deployment-recorder';
import type { EngineContext } from './engine-context';
import { releaseEnvAndMask } from './replica-env';

export async function runReleaseCommand(ctx: EngineContext, ref: ServiceRef, release: Release, deploymentId: string, rec: DeploymentRecorder): Promise<OneOffResult> {
  const argv = release.config.releaseCommand!;
  const shown = JSON.stringify(argv);
  await rec.log(`running release command ${shown} in a one-off container of v${release.number}`);
  const { env, mask } = await releaseEnvAndMask(ctx, ref, release);
  const result = await ctx.runtime.runOnce({
    kind: 'release',
    name: `${ref.project}-${ref.service}-${ref.env}-v${release.number}-release-${randomBytes(3).toString('hex')}`,
    image: release.imageDigest,
    env,
    labels: { ...ref, release: release.number, deployment: deploymentId },
    argv,
    timeoutMs: release.config.releaseTimeoutMs,
    onOutput: (line, stream) => void rec.log(`  release | ${mask(line)}`, stream === 'stderr' ? 'warn' : 'info'),
  });
  if (result.timedOut) {
    throw new SlipwayError('SLW_RELEASE_COMMAND_FAILED', `release command ${shown} did not finish within release_timeout (${Math.round(release.config.releaseTimeoutMs / 1000)}s); it was killed and no traffic moved`);
  }
  if (result.exitCode !== 0) {
    throw new SlipwayError('SLW_RELEASE_COMMAND_FAILED', `release command ${shown} exited with code ${result.exitCode}; no traffic moved`);
  }
  return result;
}
