/**
 * The build phase: turns a service's image source into a local image with a
 * content address. Built images are tagged by source hash, so an unchanged
 * source reuses the image; prebuilt images must already be on the host (no
 * registry is assumed reachable).
 */
import path from 'node:path';
import { stat } from 'node:fs/promises';
import type { ServiceConfig } from '../core/config';
import type { ServiceRef } from '../core/domain';
import { SlipwayError } from '../core/errors';
import type { ImageInfo } from '../core/ports/runtime';
import type { EngineContext } from './engine-context';
import type { DeploymentRecorder } from './deployment-recorder';
import { hashBuildContext } from './source-hash';

export interface PreparedImage {
  ref: string;
  digest: string;
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
  baseDir: string,
  rec: DeploymentRecorder,
): Promise<PreparedImage> {
  const source = config.source;
  if (source.kind === 'image') {
    const info = await ctx.runtime.inspectImage(source.ref);
    if (!info) {
      throw new SlipwayError(
        'SLW_BUILD_FAILED',
        `image "${source.ref}" is not on this host; no registry is used: build it here or load it with "docker load"`,
      );
    }
    return { ref: source.ref, digest: info.id, sourceRef: null, reused: true };
  }

  const contextDir = path.resolve(baseDir, source.context);
  const isDir = await stat(contextDir).then((s) => s.isDirectory(), () => false);
  if (!isDir) {
    throw new SlipwayError('SLW_BUILD_FAILED', `services.${ref.service}.build.context: directory "${contextDir}" does not exist`);
  }
  const hasDockerfile = await stat(path.join(contextDir, source.dockerfile)).then((s) => s.isFile(), () => false);
  if (!hasDockerfile) {
    throw new SlipwayError('SLW_BUILD_FAILED', `services.${ref.service}.build.dockerfile: "${source.dockerfile}" not found in ${contextDir}`);
  }
  const hash = await hashBuildContext(contextDir, source.dockerfile, source.args);
  const tag = `${imageRepository(ref)}:src-${hash.slice(0, 16)}`;
  const existing = await ctx.runtime.inspectImage(tag);
  if (existing) {
    await rec.log(`source unchanged (content ${hash.slice(0, 12)}): reusing image ${tag}`);
    return { ref: tag, digest: existing.id, sourceRef: `content:${hash.slice(0, 16)}`, reused: true };
  }
  await rec.log(`building ${tag} from ${contextDir}`);
  let info: ImageInfo;
  try {
    info = await ctx.runtime.build({
      contextDir,
      dockerfile: source.dockerfile,
      tags: [tag],
      buildArgs: source.args,
      onOutput: (line) => void rec.log(`  build | ${line}`),
    });
  } catch (err) {
    if (err instanceof SlipwayError) throw err;
    throw new SlipwayError('SLW_BUILD_FAILED', `build failed: ${(err as Error).message}`);
  }
  return { ref: tag, digest: info.id, sourceRef: `content:${hash.slice(0, 16)}`, reused: false };
}
