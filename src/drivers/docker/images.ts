/** Image lookups and tags. A locally built image's content address is its image ID (no registry digest). */
import type Docker from 'dockerode';
import type { ImageInfo } from '../../core/ports/runtime';
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
