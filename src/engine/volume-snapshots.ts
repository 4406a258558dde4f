/**
 * Container accessories: a consistent copy of every volume, taken while the container is
 * stopped (whatever the image writes is at rest; services using it see it unavailable for the
 * copy's duration), one tar per volume. Verification extracts each copy into a scratch volume
 * through Docker and reads it back, comparing the files with those counted when it was taken;
 * a restore extracts them into the target's volumes (emptied first in place).
 */
import type { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import type { StoredFile } from '../core/ports/backup-files';
import { CheckFailed, removeVolumesOf, verifyScratchName, type SnapshotMethod, type SnapshotSite } from './snapshot-method';

const tarName = (volume: string) => `volume-${volume}.tar`;

/** Regular files and their bytes in a tar stream (read to its end). */
export async function countTar(archive: Readable): Promise<{ files: number; bytes: number }> {
  const extract = tarStream.extract();
  // pipe() does not pass a source error on: without this a broken read would hang the count.
  archive.once('error', (err) => extract.destroy(err));
  archive.pipe(extract as unknown as NodeJS.WritableStream);
  let files = 0;
  let bytes = 0;
  try {
    for await (const entry of extract) {
      if ((entry.header.type ?? 'file') === 'file') {
        files++;
        bytes += entry.header.size ?? 0;
      }
      entry.resume();
    }
  } finally {
    archive.destroy();
  }
  return { files, bytes };
}

const volumesOf = (s: SnapshotSite) => s.record.config.volumes.filter((v) => !v.owner).map((v) => v.volume);

export const volumeSnapshots: SnapshotMethod = {
  async take(s, folder, whileStopped) {
    const volumes = volumesOf(s);
    const files: StoredFile[] = [];
    const counts: Record<string, number> = {};
    let size = 0;
    if (volumes.length === 0) return { files, counts, sizeBytes: 0 };
    await whileStopped(async () => {
      for (const volume of volumes) {
        const tar = await s.ctx.runtime.exportVolume({ project: s.project, env: s.env, owner: s.record.name, volume }, { image: s.record.imageDigest });
        files.push(await s.files.write(folder, tarName(volume), tar));
        s.progress(`volume ${volume} copied`);
      }
    });
    // Counted from the copies (after the accessory runs again): what verification expects back.
    for (const volume of volumes) {
      const c = await countTar(s.files.read(folder, tarName(volume)));
      counts[`volume:${volume}`] = c.files;
      size += c.bytes;
      s.progress(`volume ${volume}: ${c.files} files, ${c.bytes} bytes`);
    }
    return { files, counts, sizeBytes: size };
  },

  async verify(s, backup, folder, pass) {
    const name = verifyScratchName(s.record.name, backup.id);
    const { runtime } = s.ctx;
    try {
      for (const [key, recorded] of Object.entries(backup.tableCounts ?? {})) {
        const volume = key.replace(/^volume:/, '');
        const ref = { project: s.project, env: s.env, owner: name, volume };
        await runtime.importVolume(ref, s.files.read(folder, tarName(volume)), { image: s.record.imageDigest, replace: true }).catch((err: unknown) => {
          throw new CheckFailed(`extract ${volume}`, (err as Error).message);
        });
        const back = await countTar(await runtime.exportVolume(ref, { image: s.record.imageDigest }));
        if (back.files !== recorded) throw new CheckFailed(`extract ${volume}`, `${back.files} files after extracting the copy, ${recorded} when it was taken`);
        pass(`extract ${volume}`, `Docker extracted it into a scratch volume: ${back.files} files, ${back.bytes} bytes`);
      }
    } finally {
      await removeVolumesOf(s, name);
    }
  },

  write: {
    async volumes(s, backup, folder, owner, replace) {
      for (const key of Object.keys(backup.tableCounts ?? {})) {
        const volume = key.replace(/^volume:/, '');
        await s.ctx.runtime.importVolume({ project: s.project, env: s.env, owner, volume }, s.files.read(folder, tarName(volume)), { image: s.record.imageDigest, replace });
        s.progress(`volume ${volume} written`);
      }
    },
  },
};
