/**
 * A volume's content as a tar stream, read or written without running anything: a container of
 * the owner's image is created with the volume mounted, never started, and the Engine API's
 * archive endpoints copy through it (so any image works, with no tar or shell of its own, and
 * the accessory using the volume may be running, stopped or gone). Ownership and modes travel
 * in the tar headers, so a copy written back keeps them.
 */
import { PassThrough, type Readable } from 'node:stream';
import type Docker from 'dockerode';
import { SlipwayError } from '../../core/errors';
import type { VolumeRef } from '../../core/ports/runtime';
import { dockerCall, dockerMessage, statusOf } from './docker-errors';
import { ensureVolumes, volumeName } from './volumes';
import { ACCESSORY_LABEL, BASE_LABEL, MANAGED_LABELS } from './labels';

const MOUNT = '/slipway-volume';

/** Opens a never-started container with the volume at MOUNT, runs `work`, removes the container. */
async function throughContainer<T>(docker: Docker, base: string, ref: VolumeRef, image: string, work: (c: Docker.Container) => Promise<T>): Promise<T> {
  const [mount] = await ensureVolumes(docker, base, ref, [{ volume: ref.volume, path: MOUNT, readOnly: false }]);
  const container = await dockerCall(`create a container of ${image} to copy volume ${mount!.Source}`, () =>
    // Labelled as a scratch accessory: one a crash left behind is removed at the next boot (backups.ts recoverInterrupted).
    docker.createContainer({ Image: image, Cmd: ['/slipway-never-started'], Labels: { ...MANAGED_LABELS, [BASE_LABEL]: base, [ACCESSORY_LABEL.project]: ref.project, [ACCESSORY_LABEL.env]: ref.env, [ACCESSORY_LABEL.name]: `${ref.owner}-copy`, [ACCESSORY_LABEL.spec]: 'scratch' }, NetworkDisabled: true, HostConfig: { NetworkMode: 'none', Mounts: [mount!] } }),
  );
  try {
    return await work(container);
  } catch (err) {
    await container.remove({ force: true }).catch(() => undefined);
    throw err;
  }
}

/**
 * The volume's content (or one path in it) as a tar stream; the transient container is removed
 * once the stream ended or failed. `path`: relative to the volume's root; absent: all of it, as `./…` entries.
 */
export async function exportVolume(docker: Docker, base: string, ref: VolumeRef, opts: { image: string; path?: string }): Promise<Readable> {
  const name = volumeName(base, ref, ref.volume);
  const inVolume = opts.path ? `${MOUNT}/${opts.path.replace(/^\/+/, '')}` : `${MOUNT}/.`;
  return throughContainer(docker, base, ref, opts.image, async (container) => {
    let archive: Readable;
    try {
      archive = (await container.getArchive({ path: inVolume })) as unknown as Readable;
    } catch (err) {
      if (statusOf(err) === 404) throw new SlipwayError('SLW_NOT_FOUND', `volume ${name} has no ${opts.path ?? 'content'}`);
      throw new SlipwayError('SLW_RUNTIME', `docker: read volume ${name}: ${dockerMessage(err)}`);
    }
    // The stream ends only once the transient container is gone: a caller that removes or
    // replaces the volume right after reading it must not find it still mounted.
    let removal: Promise<void> | null = null;
    const remove = () => (removal ??= container.remove({ force: true }).then(() => undefined, () => undefined));
    const out = new PassThrough();
    archive.pipe(out, { end: false });
    archive.once('end', () => void remove().then(() => out.end()));
    archive.once('error', (err) => void remove().then(() => out.destroy(err)));
    out.once('close', () => {
      archive.destroy();
      void remove();
    });
    return out;
  });
}

/**
 * Extracts a tar stream into the volume (created, labelled as the owner's, when missing).
 * `replace`: the volume is removed and created empty first (refused while a container uses it).
 */
export async function importVolume(docker: Docker, base: string, ref: VolumeRef, tar: Readable, opts: { image: string; replace?: boolean }): Promise<void> {
  const name = volumeName(base, ref, ref.volume);
  if (opts.replace) {
    try {
      await docker.getVolume(name).remove();
    } catch (err) {
      if (statusOf(err) !== 404) throw new SlipwayError('SLW_RUNTIME', `docker: empty volume ${name} before writing it: ${dockerMessage(err)}`);
    }
  }
  await throughContainer(docker, base, ref, opts.image, async (container) => {
    try {
      await container.putArchive(tar as unknown as NodeJS.ReadableStream, { path: MOUNT });
    } catch (err) {
      throw new SlipwayError('SLW_RUNTIME', `docker: write volume ${name}: ${dockerMessage(err)}`);
    }
    await container.remove({ force: true }).catch(() => undefined);
  });
}
