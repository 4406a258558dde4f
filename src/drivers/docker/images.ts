/** Image lookups and tags. A locally built image's content address is its image ID (no registry digest). */
import type Docker from 'dockerode';
import { IMAGE_PROJECT_LABEL, type ImageInfo } from '../../core/ports/runtime';
import { SlipwayError } from '../../core/errors';
import { dockerCall, dockerCallTolerating, dockerMessage, statusOf } from './docker-errors';

/** `repo[:tag]` → its parts; a registry port (`host:5000/app`) is not mistaken for a tag. */
export function splitImageTag(ref: string): { repo: string; tag: string } {
  if (ref.includes('@')) throw new SlipwayError('SLW_RUNTIME', `cannot tag with a digest reference: ${ref}`);
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) } : { repo: ref, tag: 'latest' };
}

/** The raw inspect data, or null when the image does not exist. */
export async function inspectImageRaw(docker: Docker, ref: string): Promise<Docker.ImageInspectInfo | null> {
  return (await dockerCallTolerating(`inspect image ${ref}`, [404], () => docker.getImage(ref).inspect())) ?? null;
}

export async function inspectImage(docker: Docker, ref: string): Promise<ImageInfo | null> {
  const i = await inspectImageRaw(docker, ref);
  if (!i) return null;
  return { id: i.Id, tags: i.RepoTags ?? [], repoDigests: i.RepoDigests ?? [], sizeBytes: i.Size, labels: i.Config?.Labels ?? {} };
}

export async function tagImage(docker: Docker, ref: string, tag: string): Promise<void> {
  const { repo, tag: t } = splitImageTag(tag);
  await dockerCall(`tag ${ref} as ${tag}`, () => docker.getImage(ref).tag({ repo, tag: t }));
}

/** Untags every tag of the repositories (no force: Docker refuses tags of images a container uses). */
export async function removeRepositories(docker: Docker, repositories: string[]): Promise<{ removed: string[]; kept: Array<{ tag: string; reason: string }> }> {
  const removed: string[] = [];
  const kept: Array<{ tag: string; reason: string }> = [];
  const wanted = new Set(repositories);
  for (const repo of wanted) {
    const images = await dockerCall(`list images of ${repo}`, () => docker.listImages({ filters: { reference: [repo] } }));
    const tags = images.flatMap((i) => i.RepoTags ?? []).filter((t) => t !== '<none>:<none>' && wanted.has(splitImageTag(t).repo));
    for (const tag of tags) {
      try {
        await docker.getImage(tag).remove({ noprune: false });
        removed.push(tag);
      } catch (err) {
        if (statusOf(err) === 404) continue;
        kept.push({ tag, reason: dockerMessage(err) });
      }
    }
  }
  return { removed, kept };
}

/** Tags of Slipway's own offline base images (base-images.ts): builds start FROM them, never pruned here. */
const BASE_IMAGE_REPOS = ['slipway/node', 'slipway/static', 'slipway/debian'];

export interface RemoveImageResult {
  /** The image is gone (or was already). */
  removed: boolean;
  /** Tags that were removed with it. */
  untagged: string[];
  /** Why it was kept, when it was. */
  reason?: string;
}

/**
 * Removes one image by content address: every tag, then the image, never forcing. Kept (and
 * untouched) when a container, running or stopped, was created from it, or when it is a base
 * image builds start from; Docker's own refusal (child images, a race) is reported the same way.
 */
export async function removeImage(docker: Docker, id: string): Promise<RemoveImageResult> {
  const info = await inspectImageRaw(docker, id);
  if (!info) return { removed: true, untagged: [] };
  const tags = (info.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
  if (tags.some((t) => BASE_IMAGE_REPOS.includes(splitImageTag(t).repo))) return { removed: false, untagged: [], reason: 'a base image builds start from' };
  const users = await dockerCall(`list containers of image ${id}`, () => docker.listContainers({ all: true, filters: { ancestor: [info.Id] } }));
  if (users.length > 0) return { removed: false, untagged: [], reason: `used by container ${users[0]!.Names?.[0]?.replace(/^\//, '') ?? users[0]!.Id.slice(0, 12)}` };
  const untagged: string[] = [];
  try {
    for (const tag of tags) {
      await docker.getImage(tag).remove({ noprune: false });
      untagged.push(tag);
    }
    // Untagging the last tag deletes the image; one with no tag left (or only registry digests) goes by ID.
    if (await inspectImageRaw(docker, info.Id)) await docker.getImage(info.Id).remove({ noprune: false });
  } catch (err) {
    if (statusOf(err) !== 404) return { removed: false, untagged, reason: dockerMessage(err) };
  }
  return { removed: true, untagged };
}

/**
 * Dangling images Slipway built (their label) and build cache above `keepBuildCacheBytes`. Not
 * every dangling image: a legacy build's intermediate layers (unlabelled) can be dangling while
 * it runs, and removing one fails that build ("unable to find image").
 */
export async function pruneBuildLeftovers(docker: Docker, keepBuildCacheBytes: number): Promise<{ reclaimedBytes: number }> {
  const images = await dockerCall('prune dangling images', () => docker.pruneImages({ filters: { dangling: ['true'], label: [IMAGE_PROJECT_LABEL] } }));
  // dockerode's pruneBuilder sends no options: keep-storage (API < 1.48) and reserved-space (newer) bound what stays.
  const keep = String(Math.max(0, Math.floor(keepBuildCacheBytes)));
  const cache = await dockerCall('prune build cache', () =>
    new Promise<{ SpaceReclaimed?: number }>((resolve, reject) => {
      docker.modem.dial(
        { path: '/build/prune?', method: 'POST', options: { 'keep-storage': keep, 'reserved-space': keep }, statusCodes: { 200: true, 400: 'bad parameter', 500: 'server error' } },
        (err: unknown, data: unknown) => (err ? reject(err) : resolve((data ?? {}) as { SpaceReclaimed?: number })),
      );
    }),
  );
  return { reclaimedBytes: (images.SpaceReclaimed ?? 0) + (cache.SpaceReclaimed ?? 0) };
}
