/**
 * The build phase: turns a service's image source into a local image with a content
 * address. Build contexts arrive as archives named by their sha256 (uploaded by the
 * client, or packed by the server from a git checkout); the image built from one is
 * tagged by a hash of archive + Dockerfile + build args, so unchanged source reuses the
 * image instead of rebuilding. Prebuilt images must already be on the host (no registry
 * is assumed reachable).
 */
import { createHash } from 'node:crypto';
import type { ServiceConfig } from '../core/config';
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
  const image = config.source;
  if (image.kind === 'image') {
    const info = await ctx.runtime.inspectImage(image.ref);
    if (!info) {
      throw new SlipwayError(
        'SLW_BUILD_FAILED',
        `image "${image.ref}" is not on this host; no registry is used: build it here or load it with "docker load"`,
      );
    }
    // Checked again here: a deployment may have waited for approval while the allow-list changed.
    if (!access.unrestricted) await access.images.check(ref.project, image.ref, info, `services.${ref.service}.image`);
    return { ref: image.ref, digest: info.id, sourceRef: null, reused: true };
  }
  if (!source) {
    throw new SlipwayError('SLW_BAD_REQUEST', `services.${ref.service} builds from a directory, but the deploy carried no source for it: upload its context (slipway deploy does) or deploy from git`, [
      { path: `sources.${ref.service}`, message: 'required for a service with build' },
    ]);
  }
  const { sha256, commit } = source.kind === 'git' ? await packGitCheckout(ctx, ref, config, source, rec) : source;
  const sourceRef = commit ? `git:${commit}` : `content:${sha256}`;
  const key = createHash('sha256').update(`archive:${sha256}\ndockerfile:${image.dockerfile}\n`);
  for (const [k, v] of Object.entries(image.args).sort(([a], [b]) => a.localeCompare(b))) key.update(`arg:${k}=${v}\n`);
  const tag = `${imageRepository(ref)}:src-${key.digest('hex').slice(0, 16)}`;
  const existing = await ctx.runtime.inspectImage(tag);
  if (existing) {
    await rec.log(`source unchanged (${commit ? `commit ${commit.slice(0, 7)}, ` : ''}content ${sha256.slice(0, 12)}): reusing image ${tag}`);
    return { ref: tag, digest: existing.id, sourceRef, reused: true };
  }
  const archive = await ctx.sources.find(ref.project, sha256, { legacy: access.unrestricted });
  if (!archive) {
    throw new SlipwayError('SLW_NOT_FOUND', `the build context ${sha256.slice(0, 12)} of ${ref.service} is not on the server (never uploaded, or pruned): deploy again to upload it`, [
      { path: `sources.${ref.service}.sha256`, message: 'must name an uploaded build context' },
    ]);
  }
  // Checked again here: a deployment that waited for approval was checked when it was accepted.
  await checkArchiveContext(ctx, ref.service, image, archive);
  // Again too for a restricted caller: the allow-list may have changed, and a git branch moved.
  if (!access.unrestricted) await checkDockerfileImages(ctx, ref.project, ref.service, image, access.images, await ctx.contexts.readArchiveDockerfile(archive, image.dockerfile, dockerfileField(ref.service)));
  await rec.log(`building ${tag} from context ${sha256.slice(0, 12)}${commit ? ` (commit ${commit.slice(0, 7)})` : ''}`);
  let info: ImageInfo;
  try {
    info = await ctx.runtime.build({
      contextArchive: archive,
      dockerfile: image.dockerfile,
      tags: [tag],
      buildArgs: image.args,
      // What makes the image "built for" this project (image-policy.ts); overrides a Dockerfile LABEL.
      labels: { [IMAGE_PROJECT_LABEL]: ref.project },
      onOutput: (line) => void rec.log(`  build | ${line}`),
    });
  } catch (err) {
    if (err instanceof SlipwayError) throw err;
    throw new SlipwayError('SLW_BUILD_FAILED', `build failed: ${(err as Error).message}`);
  }
  return { ref: tag, digest: info.id, sourceRef, reused: false };
}

type BuildImage = Extract<ServiceConfig['source'], { kind: 'build' }>;

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
  if (config.source.kind !== 'build') return;
  const build = config.source;
  if (source.kind === 'archive') {
    if (!archiveFile) return;
    await checkArchiveContext(ctx, service, build, archiveFile);
    if (!access.unrestricted) await checkDockerfileImages(ctx, access.project, service, build, access.images, await ctx.contexts.readArchiveDockerfile(archiveFile, build.dockerfile, dockerfileField(service)));
    return;
  }
  await ctx.sources.withScratchDir(async (dir) => {
    await ctx.git.checkout(source.url, source.ref, dir);
    await checkoutContext(ctx, service, build, source, dir);
    if (access.unrestricted) return;
    const text = await ctx.contexts.readCheckoutDockerfile({ root: dir, base: source.path, context: build.context, dockerfile: build.dockerfile, field: `services.${service}.build` });
    await checkDockerfileImages(ctx, access.project, service, build, access.images, text);
  });
}

function checkArchiveContext(ctx: EngineContext, service: string, build: BuildImage, archiveFile: string): Promise<void> {
  return ctx.contexts.checkArchiveDockerfile(archiveFile, build.dockerfile, dockerfileField(service));
}

const dockerfileField = (service: string) => `services.${service}.build.dockerfile`;

/**
 * A build for a caller restricted to one project reads only images that caller could deploy
 * (or Slipway's base images): else `FROM`/`COPY --from` another project's image would copy
 * its files. A 403 naming the Dockerfile line, before anything is built.
 */
function checkDockerfileImages(ctx: EngineContext, project: string, service: string, build: BuildImage, images: ImagePolicy, text: string): Promise<void> {
  return images.checkDockerfile(project, text, build.args, dockerfileField(service), (r) => ctx.runtime.inspectImage(r));
}

/** The context's real path in a checkout; refuses symlinks on the way (a 4xx naming services.<service>.build.context or .dockerfile). */
function checkoutContext(ctx: EngineContext, service: string, build: BuildImage, source: Extract<BuildSource, { kind: 'git' }>, dir: string) {
  return ctx.contexts.resolveCheckoutContext({ root: dir, base: source.path, context: build.context, dockerfile: build.dockerfile, field: `services.${service}.build` });
}

/** Fetches the ref, packs the service's context from the checkout and stores it like an upload. */
async function packGitCheckout(
  ctx: EngineContext,
  ref: ServiceRef,
  config: ServiceConfig,
  source: Extract<BuildSource, { kind: 'git' }>,
  rec: DeploymentRecorder,
): Promise<{ sha256: string; commit: string }> {
  const build = config.source as BuildImage;
  return ctx.sources.withScratchDir(async (dir) => {
    await rec.log(`fetching ${redactGitUrl(source.url)} at ${source.ref}`);
    const { commit } = await ctx.git.checkout(source.url, source.ref, dir, (line) => void rec.log(`  git | ${line}`));
    // The commit may differ from the one checked when the deploy was accepted (a branch moved): check again.
    const { contextDir, inRepo } = await checkoutContext(ctx, ref.service, build, source, dir);
    const realRoot = inRepo === '.' ? contextDir : contextDir.slice(0, contextDir.length - inRepo.length - 1);
    const stored = await ctx.sources.packDirectory(ref.project, contextDir, build.dockerfile).catch((err: unknown) => {
      // Name the repository path, not the scratch directory the server used.
      if (err instanceof SlipwayError) throw new SlipwayError(err.code, `${err.message.split(realRoot).join('<repository>').split(dir).join('<repository>')} (commit ${commit.slice(0, 7)})`, err.details);
      throw err;
    });
    await rec.log(`commit ${commit}: context ${inRepo} is ${stored.files} files, ${stored.bytes} bytes (content ${stored.sha256.slice(0, 12)})`);
    return { sha256: stored.sha256, commit };
  });
}
