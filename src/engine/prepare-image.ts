/**
 * The build phase: turns a service's image source into a local image with a content
 * address. Build contexts arrive as archives named by their sha256 (uploaded by the
 * client, or packed by the server from a git checkout); the image built from one is
 * tagged by a hash of archive + Dockerfile + build args, so unchanged source reuses the
 * image instead of rebuilding. Prebuilt images must already be on the host (no registry
 * is assumed reachable).
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { ServiceConfig } from '../core/config';
import type { BuildSource, ServiceRef } from '../core/domain';
import { SlipwayError } from '../core/errors';
import { redactGitUrl } from '../core/git-source';
import type { ImageInfo } from '../core/ports/runtime';
import type { EngineContext } from './engine-context';
import type { DeploymentRecorder } from './deployment-recorder';

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

export async function prepareImage(
  ctx: EngineContext,
  ref: ServiceRef,
  config: ServiceConfig,
  source: BuildSource | null,
  rec: DeploymentRecorder,
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
  const archive = await ctx.sources.find(sha256);
  if (!archive) {
    throw new SlipwayError('SLW_NOT_FOUND', `the build context ${sha256.slice(0, 12)} of ${ref.service} is not on the server (never uploaded, or pruned): deploy again to upload it`, [
      { path: `sources.${ref.service}.sha256`, message: 'must name an uploaded build context' },
    ]);
  }
  await rec.log(`building ${tag} from context ${sha256.slice(0, 12)}${commit ? ` (commit ${commit.slice(0, 7)})` : ''}`);
  let info: ImageInfo;
  try {
    info = await ctx.runtime.build({
      contextArchive: archive,
      dockerfile: image.dockerfile,
      tags: [tag],
      buildArgs: image.args,
      onOutput: (line) => void rec.log(`  build | ${line}`),
    });
  } catch (err) {
    if (err instanceof SlipwayError) throw err;
    throw new SlipwayError('SLW_BUILD_FAILED', `build failed: ${(err as Error).message}`);
  }
  return { ref: tag, digest: info.id, sourceRef, reused: false };
}

/** Fetches the ref, packs the service's context from the checkout and stores it like an upload. */
async function packGitCheckout(
  ctx: EngineContext,
  ref: ServiceRef,
  config: ServiceConfig,
  source: Extract<BuildSource, { kind: 'git' }>,
  rec: DeploymentRecorder,
): Promise<{ sha256: string; commit: string }> {
  const build = config.source as Extract<ServiceConfig['source'], { kind: 'build' }>;
  return ctx.sources.withScratchDir(async (dir) => {
    await rec.log(`fetching ${redactGitUrl(source.url)} at ${source.ref}`);
    const { commit } = await ctx.git.checkout(source.url, source.ref, dir, (line) => void rec.log(`  git | ${line}`));
    const contextDir = path.resolve(dir, source.path, build.context);
    if (contextDir !== dir && !contextDir.startsWith(`${dir}${path.sep}`)) {
      throw new SlipwayError('SLW_CONFIG_INVALID', `services.${ref.service}.build.context: "${build.context}" leaves the repository`, [
        { path: `services.${ref.service}.build.context`, message: 'must stay inside the repository' },
      ]);
    }
    const inRepo = path.relative(dir, contextDir) || '.';
    const stored = await ctx.sources.packDirectory(contextDir, build.dockerfile).catch((err: unknown) => {
      // Name the repository path, not the scratch directory the server used.
      if (err instanceof SlipwayError) throw new SlipwayError(err.code, `${err.message.split(dir).join('<repository>')} (commit ${commit.slice(0, 7)})`, err.details);
      throw err;
    });
    await rec.log(`commit ${commit}: context ${inRepo} is ${stored.files} files, ${stored.bytes} bytes (content ${stored.sha256.slice(0, 12)})`);
    return { sha256: stored.sha256, commit };
  });
}
