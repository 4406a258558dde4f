/**
 * The release phase: `release_command` runs once per deployment in a one-off
 * container of the new image (or of the release image pinned with the release, from
 * `release: { build | image }`) with the new environment, before any traffic moves.
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
import { releaseCommandImage } from './release-image';

export async function runReleaseCommand(ctx: EngineContext, ref: ServiceRef, release: Release, deploymentId: string, rec: DeploymentRecorder): Promise<OneOffResult> {
  const argv = release.config.releaseCommand!;
  const shown = JSON.stringify(argv);
  // Its own image when slipway.yml says `release: { build | image }` (pinned with the release: release-image.ts).
  const { image, own } = releaseCommandImage(release, ref.service);
  await rec.log(`running release command ${shown} in a one-off container of v${release.number}${own ? ` from its release image ${release.config.release!.imageRef ?? ''} (${image.slice(0, 19)})` : ''}`);
  // Migrations connect as the Postgres owner (the app role of replicas cannot CREATE or ALTER).
  const { env, mask } = await releaseEnvAndMask(ctx, ref, release, 'owner');
  const result = await ctx.runtime.runOnce({
    kind: 'release',
    name: `${ref.project}-${ref.service}-${ref.env}-v${release.number}-release-${randomBytes(3).toString('hex')}`,
    image,
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
