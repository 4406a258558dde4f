/**
 * The build phase: turns a service's image source into a local image with a content
 * address. Build contexts arrive as archives named by their sha256 (uploaded by the
 * client, or packed by the server from a git checkout); the image built from one is
 * tagged by a hash of archive + Dockerfile + build args, so unchanged source reuses the
 * image instead of rebuilding. Prebuilt images must already be on the host (no registry
 * is assumed reachable).
 */
import { createHash } from 'node:crypto';
import type { ImageSource, ServiceConfig } from '../core/config';
import type { BuildSource, ServiceRef } from '../core/domain';
import { SlipwayError } from '../core/errors';
import { redactGitUrl } from '../core/git-source';
import type { ImageInfo } from '../core/ports/runtime';
import type { EngineContext } from './engine-context';
import type { DeploymentRecorder } from './deployment-recorder';
import { IMAGE_PROJECT_LABEL, type ImagePolicy } from './image-policy';

export interface PreparedImage {
  ref: string;
  digest: string;
  /** `git:<commit>` or `content:<archive sha256>`; null for prebuilt images. */
  sourceRef: string | null;
  reused: boolean;
}

export function imageRepository(ref: ServiceRef): string {
  return `slipway/${ref.project}-${ref.service}`;
}

/** Who asked: an unrestricted caller may use any host image and the legacy shared archives. */
export interface PrepareAccess {
  unrestricted: boolean;
  images: ImagePolicy;
}

export async function prepareImage(
  ctx: EngineContext,
  ref: ServiceRef,
  config: ServiceConfig,
  source: BuildSource | null,
  rec: DeploymentRecorder,
  access: PrepareAccess,
): Promise<PreparedImage> {
  return prepareTarget(ctx, serviceTarget(ref, config.source), source, rec, access);
}

/**
 * One image to have before the release is recorded: the service's own, or its release
 * command's (release-image.ts). They differ only in names: the repository they are tagged
 * in, the slipway.yml field errors name, and the deploy request's key of their source.
 */
export interface BuildTarget {
  project: string;
  service: string;
  image: ImageSource;
  /** `slipway/<project>-<service>` (or `…-release`). */
  repository: string;
  /** `services.web` or `services.web.release`: errors name `<field>.image`, `<field>.build.dockerfile`. */
  field: string;
  /** Key of the upload in the deploy request's `sources`: `web` or `web:release`. */
  sourceKey: string;
  /** For messages: "web" or "the release image of web". */
  what: string;
}

export function serviceTarget(ref: Pick<ServiceRef, 'project' | 'service'>, image: ImageSource): BuildTarget {
  return { project: ref.project, service: ref.service, image, repository: imageRepository({ ...ref, env: '' }), field: `services.${ref.service}`, sourceKey: ref.service, what: ref.service };
}

export async function prepareTarget(ctx: EngineContext, target: BuildTarget, source: BuildSource | null, rec: DeploymentRecorder, access: PrepareAccess): Promise<PreparedImage> {
  const image = target.image;
  if (image.kind === 'image') {
    const info = await ctx.runtime.inspectImage(image.ref);
    if (!info) {
      throw new SlipwayError(
        'SLW_BUILD_FAILED',
        `image "${image.ref}"${target.what === target.service ? '' : ` (${target.what})`} is not on this host; no registry is used: build it here or load it with "docker load"`,
      );
    }
    // Checked again here: a deployment may have waited for approval while the allow-list changed.
    if (!access.unrestricted) await access.images.check(target.project, image.ref, info, `${target.field}.image`);
    return { ref: image.ref, digest: info.id, sourceRef: null, reused: true };
  }
  if (!source) {
    throw new SlipwayError('SLW_BAD_REQUEST', `${target.field} builds from a directory, but the deploy carried no source for it: upload its context (slipway deploy does) or deploy from git`, [
      { path: `sources.${target.sourceKey}`, message: `required for ${target.field}.build` },
    ]);
  }
  const { sha256, commit } = source.kind === 'git' ? await packGitCheckout(ctx, target, image, source, rec) : source;
  const sourceRef = commit ? `git:${commit}` : `content:${sha256}`;
  const key = createHash('sha256').update(`archive:${sha256}\ndockerfile:${image.dockerfile}\n`);
  for (const [k, v] of Object.entries(image.args).sort(([a], [b]) => a.localeCompare(b))) key.update(`arg:${k}=${v}\n`);
  const tag = `${target.repository}:src-${key.digest('hex').slice(0, 16)}`;
  const existing = await ctx.runtime.inspectImage(tag);
  if (existing) {
    await rec.log(`source unchanged (${commit ? `commit ${commit.slice(0, 7)}, ` : ''}content ${sha256.slice(0, 12)}): reusing image ${tag}`);
    return { ref: tag, digest: existing.id, sourceRef, reused: true };
  }
  const archive = await ctx.sources.find(target.project, sha256, { legacy: access.unrestricted });
  if (!archive) {
    throw new SlipwayError('SLW_NOT_FOUND', `the build context ${sha256.slice(0, 12)} of ${target.what} is not on the server (never uploaded, or pruned): deploy again to upload it`, [
      { path: `sources.${target.sourceKey}.sha256`, message: 'must name an uploaded build context' },
    ]);
  }
  // Checked again here: a deployment that waited for approval was checked when it was accepted.
  await checkArchiveContext(ctx, target, image, archive);
  // Again too for a restricted caller: the allow-list may have changed, and a git branch moved.
  if (!access.unrestricted) await checkDockerfileImages(ctx, target, image, access.images, await ctx.contexts.readArchiveDockerfile(archive, image.dockerfile, dockerfileField(target)));
  await rec.log(`building ${tag} from context ${sha256.slice(0, 12)}${commit ? ` (commit ${commit.slice(0, 7)})` : ''}`);
  let info: ImageInfo;
  try {
    info = await ctx.runtime.build({
      contextArchive: archive,
      dockerfile: image.dockerfile,
      tags: [tag],
      buildArgs: image.args,
      // What makes the image "built for" this project (image-policy.ts); overrides a Dockerfile LABEL.
      labels: { [IMAGE_PROJECT_LABEL]: target.project },
      onOutput: (line) => void rec.log(`  build | ${line}`),
    });
  } catch (err) {
    if (err instanceof SlipwayError) throw err;
    throw new SlipwayError('SLW_BUILD_FAILED', `build${target.what === target.service ? '' : ` of ${target.what}`} failed: ${(err as Error).message}`);
  }
  return { ref: tag, digest: info.id, sourceRef, reused: false };
}

type BuildImage = Extract<ImageSource, { kind: 'build' }>;

/**
 * Refuses, before a deployment is recorded, a build context or Dockerfile reached through a
 * symlink (it could point anywhere on the server host): a git source is checked out in a
 * scratch directory and its context walked; an upload's Dockerfile path is looked up among
 * its entries. The refusal is the deploy request's (or webhook delivery's) 4xx, in the
 * audit log, rather than a build that fails later. `archiveFile` is the stored upload.
 */
export async function checkBuildContext(
  ctx: EngineContext,
  service: string,
  config: ServiceConfig,
  source: BuildSource,
  archiveFile: string | null,
  access: PrepareAccess & { project: string },
): Promise<void> {
  await checkTargetContext(ctx, serviceTarget({ project: access.project, service }, config.source), source, archiveFile, access);
}

/** checkBuildContext for any build target (the release image's too). */
export async function checkTargetContext(ctx: EngineContext, target: BuildTarget, source: BuildSource, archiveFile: string | null, access: PrepareAccess): Promise<void> {
  if (target.image.kind !== 'build') return;
  const build = target.image;
  if (source.kind === 'archive') {
    if (!archiveFile) return;
    await checkArchiveContext(ctx, target, build, archiveFile);
    if (!access.unrestricted) await checkDockerfileImages(ctx, target, build, access.images, await ctx.contexts.readArchiveDockerfile(archiveFile, build.dockerfile, dockerfileField(target)));
    return;
  }
  await ctx.sources.withScratchDir(async (dir) => {
    await ctx.git.checkout(source.url, source.ref, dir);
    await checkoutContext(ctx, target, build, source, dir);
    if (access.unrestricted) return;
    const text = await ctx.contexts.readCheckoutDockerfile({ root: dir, base: source.path, context: build.context, dockerfile: build.dockerfile, field: `${target.field}.build` });
    await checkDockerfileImages(ctx, target, build, access.images, text);
  });
}

function checkArchiveContext(ctx: EngineContext, target: BuildTarget, build: BuildImage, archiveFile: string): Promise<void> {
  return ctx.contexts.checkArchiveDockerfile(archiveFile, build.dockerfile, dockerfileField(target));
}

const dockerfileField = (target: BuildTarget) => `${target.field}.build.dockerfile`;

/**
 * A build for a caller restricted to one project reads only images that caller could deploy
 * (or Slipway's base images): else `FROM`/`COPY --from` another project's image would copy
 * its files. A 403 naming the Dockerfile line, before anything is built.
 */
function checkDockerfileImages(ctx: EngineContext, target: BuildTarget, build: BuildImage, images: ImagePolicy, text: string): Promise<void> {
  return images.checkDockerfile(target.project, text, build.args, dockerfileField(target), (r) => ctx.runtime.inspectImage(r));
}

/** The context's real path in a checkout; refuses symlinks on the way (a 4xx naming <field>.build.context or .dockerfile). */
function checkoutContext(ctx: EngineContext, target: BuildTarget, build: BuildImage, source: Extract<BuildSource, { kind: 'git' }>, dir: string) {
  return ctx.contexts.resolveCheckoutContext({ root: dir, base: source.path, context: build.context, dockerfile: build.dockerfile, field: `${target.field}.build` });
}

/** Fetches the ref, packs the service's context from the checkout and stores it like an upload. */
async function packGitCheckout(
  ctx: EngineContext,
  target: BuildTarget,
  build: BuildImage,
  source: Extract<BuildSource, { kind: 'git' }>,
  rec: DeploymentRecorder,
): Promise<{ sha256: string; commit: string }> {
  return ctx.sources.withScratchDir(async (dir) => {
    await rec.log(`fetching ${redactGitUrl(source.url)} at ${source.ref}`);
    const { commit } = await ctx.git.checkout(source.url, source.ref, dir, (line) => void rec.log(`  git | ${line}`));
    // The commit may differ from the one checked when the deploy was accepted (a branch moved): check again.
    const { contextDir, inRepo } = await checkoutContext(ctx, target, build, source, dir);
    const realRoot = inRepo === '.' ? contextDir : contextDir.slice(0, contextDir.length - inRepo.length - 1);
    const stored = await ctx.sources.packDirectory(target.project, contextDir, build.dockerfile).catch((err: unknown) => {
      // Name the repository path, not the scratch directory the server used.
      if (err instanceof SlipwayError) throw new SlipwayError(err.code, `${err.message.split(realRoot).join('<repository>').split(dir).join('<repository>')} (commit ${commit.slice(0, 7)})`, err.details);
      throw err;
    });
    await rec.log(`commit ${commit}: context ${inRepo} is ${stored.files} files, ${stored.bytes} bytes (content ${stored.sha256.slice(0, 12)})`);
    return { sha256: stored.sha256, commit };
  });
}
