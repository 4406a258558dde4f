/**
 * The release command's own image (`release: { build | image, command }` in slipway.yml): a
 * migrator image beside the service's. It is had in the build phase of a deploy like the
 * service's image (built from the same uploaded context or git checkout, its own context and
 * Dockerfile, tagged `slipway/<project>-<service>-release:src-<hash>`, labelled for the
 * project, the image policy applied; or an `image:` inspected on this host) and pinned into
 * the release's config (`release.imageDigest`/`imageRef`) when the release is recorded, so
 * the release command of that release always runs in exactly that image. Rollbacks never
 * re-run it; redeploys and secrets rollouts keep the pin; a promotion carries the source
 * release's pin (it never builds).
 */
import type { ReleaseImageConfig, ServiceConfig } from '../core/config';
import type { BuildSource, Release, ServiceRef } from '../core/domain';
import { SlipwayError } from '../core/errors';
import type { DeploymentRecorder } from './deployment-recorder';
import type { EngineContext } from './engine-context';
import { checkTargetContext, imageRepository, prepareTarget, type BuildTarget, type PrepareAccess, type PreparedImage } from './prepare-image';

/** The deploy request's `sources` key of a service's release image upload. */
export const RELEASE_SOURCE_SUFFIX = ':release';

export function releaseSourceKey(service: string): string {
  return `${service}${RELEASE_SOURCE_SUFFIX}`;
}

export function releaseImageRepository(ref: Pick<ServiceRef, 'project' | 'service'>): string {
  return `${imageRepository({ ...ref, env: '' })}-release`;
}

export function releaseTarget(ref: Pick<ServiceRef, 'project' | 'service'>, release: ReleaseImageConfig): BuildTarget {
  return {
    project: ref.project,
    service: ref.service,
    image: release.source,
    repository: releaseImageRepository(ref),
    field: `services.${ref.service}.release`,
    sourceKey: releaseSourceKey(ref.service),
    what: `the release image of ${ref.service}`,
  };
}

/**
 * Refuses, before a deployment is recorded, a release image that cannot be had: an `image:`
 * not on this host (or not allowed to a restricted caller), a build without a source, a git
 * ref that does not exist, an upload that never arrived, a context or Dockerfile reached
 * through a symlink. Each a 4xx naming the field.
 */
export async function checkReleaseSource(
  ctx: EngineContext,
  ref: Pick<ServiceRef, 'project' | 'service'>,
  config: ServiceConfig,
  source: BuildSource | null,
  access: PrepareAccess,
): Promise<void> {
  if (!config.release) return;
  const target = releaseTarget(ref, config.release);
  const image = target.image;
  if (image.kind === 'image') {
    const info = await ctx.runtime.inspectImage(image.ref);
    if (!info) {
      throw new SlipwayError('SLW_NOT_FOUND', `image "${image.ref}" (${target.what}) is not on this host; no registry is used: build it here or load it with "docker load"`, [
        { path: `${target.field}.image`, message: 'must be an image present on the server host' },
      ]);
    }
    if (!access.unrestricted) await access.images.check(ref.project, image.ref, info, `${target.field}.image`);
    return;
  }
  if (!source) {
    throw new SlipwayError('SLW_BAD_REQUEST', `${target.field} builds from a directory, but the deploy carried no source for it: upload its context (slipway deploy does) or deploy from git (--ref)`, [
      { path: `sources.${target.sourceKey}`, message: `required for ${target.field}.build` },
    ]);
  }
  if (source.kind === 'git' && !(await ctx.git.resolveRef(source.url, source.ref))) {
    throw new SlipwayError('SLW_NOT_FOUND', `the repository has no branch or tag "${source.ref}"`, [{ path: 'git.ref', message: 'must name a branch, tag or commit of the repository' }]);
  }
  const archive = source.kind === 'archive' ? await ctx.sources.find(ref.project, source.sha256, { legacy: access.unrestricted }) : null;
  if (source.kind === 'archive' && !archive) {
    throw new SlipwayError('SLW_NOT_FOUND', `the build context ${source.sha256.slice(0, 12)} of ${target.what} was not uploaded for project ${ref.project} (PUT /api/v1/projects/${ref.project}/sources/${source.sha256})`, [
      { path: `sources.${target.sourceKey}.sha256`, message: 'must name an uploaded build context' },
    ]);
  }
  await checkTargetContext(ctx, target, source, archive, access);
}

/**
 * The build phase's half for the release image: builds (or reuses, or inspects) it and
 * returns the service config with it pinned; the config unchanged when the release command
 * runs in the service's image.
 */
export async function prepareReleaseImage(
  ctx: EngineContext,
  ref: ServiceRef,
  config: ServiceConfig,
  source: BuildSource | null,
  rec: DeploymentRecorder,
  access: PrepareAccess,
): Promise<{ config: ServiceConfig; image: PreparedImage | null }> {
  if (!config.release) return { config, image: null };
  await rec.log(`preparing the release command's image (${config.release.source.kind === 'build' ? `build ${config.release.source.context}` : `image ${config.release.source.ref}`})`);
  const image = await prepareTarget(ctx, releaseTarget(ref, config.release), source, rec, access);
  return { config: { ...config, release: { ...config.release, imageRef: image.ref, imageDigest: image.digest } }, image };
}

/** A promotion never builds: the release image pinned in the promoted release comes along (none pinned: the release command will say so). */
export function promotedReleaseImage(config: ServiceConfig, source: Pick<Release, 'config'>): ServiceConfig {
  if (!config.release) return config;
  const pinned = source.config.release;
  if (!pinned?.imageDigest) return config;
  return { ...config, release: { ...config.release, imageDigest: pinned.imageDigest, imageRef: pinned.imageRef ?? pinned.imageDigest } };
}

/** The image a release's command runs in: its pinned release image, or the release's own. */
export function releaseCommandImage(release: Pick<Release, 'number' | 'imageDigest' | 'config'>, service: string): { image: string; own: boolean } {
  const r = release.config.release;
  if (!r) return { image: release.imageDigest, own: false };
  if (!r.imageDigest) {
    throw new SlipwayError(
      'SLW_RELEASE_COMMAND_FAILED',
      `v${release.number} of ${service} has services.${service}.release but no release image pinned (a promotion from a release without one): deploy ${service} to build it; no traffic moved`,
    );
  }
  return { image: r.imageDigest, own: true };
}
