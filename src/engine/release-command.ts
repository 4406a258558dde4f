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
import { formatDuration } from '../core/duration';
import type { OneOffResult, OneOffSpec } from '../core/ports/runtime';
import type { DeploymentRecorder } from './deployment-recorder';
import type { EngineContext } from './engine-context';
import { releaseEnvAndMask } from './replica-env';
import { releaseCommandImage } from './release-image';
import { placeContainer } from './placement';

export async function runReleaseCommand(ctx: EngineContext, ref: ServiceRef, release: Release, deploymentId: string, rec: DeploymentRecorder): Promise<OneOffResult> {
  const argv = release.config.releaseCommand!;
  const shown = JSON.stringify(argv);
  const { spec, own, mask } = await releasePhaseOneOff(ctx, ref, release, deploymentId, 'release');
  await rec.log(`running release command ${shown} in a one-off container of v${release.number}${own ? ` from its release image ${release.config.release!.imageRef ?? ''} (${spec.image.slice(0, 19)})` : ''}`);
  // The lines are written one after the other, in the order the command wrote them, and awaited:
  // every line is in the deployment log before the step ends (its ✔ or ✘ line comes after them).
  let written = Promise.resolve();
  const result = await ctx.runtime
    .runOnce({
      ...spec,
      argv,
      timeoutMs: release.config.releaseTimeoutMs,
      onOutput: (line, stream) => {
        written = written.then(() => rec.log(`  release | ${mask(line)}`, stream === 'stderr' ? 'warn' : 'info'));
      },
    })
    .finally(() => written.catch(() => undefined));
  await written;
  if (result.timedOut) {
    throw new SlipwayError('SLW_RELEASE_COMMAND_FAILED', `release command ${shown} did not finish within release_timeout (${formatDuration(release.config.releaseTimeoutMs)}); it was killed and no traffic moved`);
  }
  if (result.exitCode !== 0) {
    throw new SlipwayError('SLW_RELEASE_COMMAND_FAILED', `release command ${shown} exited with code ${result.exitCode}; no traffic moved`);
  }
  return result;
}

/**
 * A one-off container of the release phase (the release command, the migration lint's
 * `lint_command`): the image the release command runs in, its environment and labels, and a
 * masker of the secret values in that environment. `purpose` goes into the container's name.
 */
export async function releasePhaseOneOff(
  ctx: EngineContext,
  ref: ServiceRef,
  release: Release,
  deploymentId: string,
  purpose: 'release' | 'lint',
): Promise<{ spec: Omit<OneOffSpec, 'argv' | 'timeoutMs' | 'onOutput'>; own: boolean; mask: (text: string) => string }> {
  // Its own image when slipway.yml says `release: { build | image }` (pinned with the release: release-image.ts).
  const { image, own } = releaseCommandImage(release, ref.service);
  // Migrations connect as the Postgres owner (the app role of replicas cannot CREATE or ALTER).
  const { env, mask } = await releaseEnvAndMask(ctx, ref, release, 'owner');
  const spec = {
    kind: 'release' as const,
    server: placeContainer(ctx.runtime),
    name: `${ref.project}-${ref.service}-${ref.env}-v${release.number}-${purpose}-${randomBytes(3).toString('hex')}`,
    image,
    env,
    labels: { ...ref, release: release.number, deployment: deploymentId },
  };
  return { spec, own, mask };
}
