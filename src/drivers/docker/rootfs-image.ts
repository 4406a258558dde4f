/**
 * Builds an image FROM scratch out of a root filesystem assembled from host files and
 * generated content, streamed to the engine as a tar context (nothing staged on disk).
 * Idempotent: the image carries a fingerprint of its inputs (paths, sizes, mtimes,
 * generated content, Dockerfile); an existing tag with the same fingerprint is reused.
 */
import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { SlipwayError } from '../../core/errors';
import type { BaseImageResult } from '../../core/ports/base-images';
import { runBuild } from './build';
import { inspectImage, inspectImageRaw, tagImage } from './images';
import { packEntries, type TarEntry } from '../../source/tar-pack';

export const FINGERPRINT_LABEL = 'slipway.base.fingerprint';

export interface RootfsImageSpec {
  /** Main tag, e.g. `slipway/node:20.20.2`. */
  tag: string;
  /** Extra tags pointing at the same image, e.g. `slipway/node:20`. */
  aliases: string[];
  /** Files of the image; names are absolute paths inside the image. */
  rootfs: TarEntry[];
  /** Entries owned by 1000:1000 (home directories); names absolute inside the image, parents in `rootfs`. */
  userOwned?: TarEntry[];
  /** Dockerfile instructions after `FROM scratch` and the rootfs COPY (ENV, RUN, CMD…). */
  instructions: string[];
  /** Image labels (kind and version of the base). */
  labels: Record<string, string>;
}

export interface RootfsImageOptions {
  /** Rebuild even when an image with the same fingerprint exists. */
  force?: boolean;
  onOutput?: (line: string) => void;
}

/** A stable hash of everything that goes into the image (cheap: host files by path, size and mtime). */
export function rootfsFingerprint(spec: RootfsImageSpec): string {
  const h = createHash('sha256');
  const describe = (e: TarEntry) => {
    switch (e.type) {
      case 'file':
        return `F ${e.name} ${e.source} ${e.size} ${e.mode} ${e.mtime?.getTime() ?? 0}`;
      case 'content':
        return `C ${e.name} ${e.mode} ${createHash('sha256').update(e.content).digest('hex')}`;
      case 'directory':
        return `D ${e.name} ${e.mode} ${e.uid ?? 0} ${e.gid ?? 0}`;
      case 'symlink':
        return `L ${e.name} ${e.target}`;
    }
  };
  for (const e of spec.rootfs) h.update(`${describe(e)}\n`);
  h.update('--user--\n');
  for (const e of spec.userOwned ?? []) h.update(`${describe(e)}\n`);
  h.update(`--dockerfile--\n${spec.instructions.join('\n')}\n${JSON.stringify(spec.labels)}`);
  return h.digest('hex').slice(0, 32);
}

export function rootfsDockerfile(spec: RootfsImageSpec, fingerprint: string): string {
  const labels = Object.entries({ ...spec.labels, [FINGERPRINT_LABEL]: fingerprint }).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return [
    'FROM scratch',
    'COPY rootfs/ /',
    // One COPY per entry, so only the entry itself (not /home above it) belongs to uid 1000.
    ...(spec.userOwned ?? []).map((e) => `COPY --chown=1000:1000 user${e.name} ${e.name}`),
    ...spec.instructions,
    `LABEL ${labels.join(' ')}`,
    '',
  ].join('\n');
}

export async function buildRootfsImage(docker: Docker, spec: RootfsImageSpec, opts: RootfsImageOptions = {}): Promise<BaseImageResult> {
  const fingerprint = rootfsFingerprint(spec);
  if (!opts.force) {
    const existing = await inspectImageRaw(docker, spec.tag);
    if (existing?.Config?.Labels?.[FINGERPRINT_LABEL] === fingerprint) return withAliases(docker, spec, true);
  }
  const under = (dir: string, entries: TarEntry[]) => entries.map((e) => ({ ...e, name: `${dir}${e.name.startsWith('/') ? '' : '/'}${e.name}` }));
  const context = packEntries([
    { type: 'content', name: 'Dockerfile', content: rootfsDockerfile(spec, fingerprint), mode: 0o644 },
    { type: 'directory', name: 'rootfs', mode: 0o755 },
    ...under('rootfs', spec.rootfs),
    ...(spec.userOwned?.length ? [{ type: 'directory' as const, name: 'user', mode: 0o755 }, ...under('user', spec.userOwned)] : []),
  ]);
  await runBuild(docker, context, { tag: spec.tag, dockerfile: 'Dockerfile', onOutput: opts.onOutput });
  return withAliases(docker, spec, false);
}

async function withAliases(docker: Docker, spec: RootfsImageSpec, reused: boolean): Promise<BaseImageResult> {
  const main = await inspectImage(docker, spec.tag);
  if (!main) throw new SlipwayError('SLW_BUILD_FAILED', `building ${spec.tag}: the image is missing after the build`);
  for (const alias of spec.aliases) {
    const current = await inspectImage(docker, alias);
    if (current?.id !== main.id) await tagImage(docker, spec.tag, alias);
  }
  // Named fields, not a spread: the answer is a strict API view (no image labels in it).
  return { id: main.id, tags: [...new Set([spec.tag, ...spec.aliases, ...main.tags])], repoDigests: main.repoDigests, sizeBytes: main.sizeBytes, tag: spec.tag, reused };
}
