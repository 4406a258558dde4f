/**
 * Reads files out of an image without running it (the migration lint reads the release
 * image's `.sql` files; the image may have no shell): a container is created, never started,
 * its directory is fetched as a tar archive through the Engine API, and the container is
 * removed. Only regular files directly in the directory whose names end in `.sql` are kept.
 */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import tarStream from 'tar-stream';
import { SlipwayError } from '../../core/errors';
import type { ImageFile } from '../../core/ports/runtime';
import { dockerCall, dockerMessage, statusOf } from './docker-errors';

export interface ReadImageFilesOptions {
  /** Refuse more than this many bytes of kept files in all. */
  maxBytes: number;
  /** Labels of the transient container (so a crash leaves nothing unaccounted for). */
  labels: Record<string, string>;
}

export async function readImageFiles(docker: Docker, image: string, dir: string, opts: ReadImageFilesOptions): Promise<ImageFile[]> {
  const container = await dockerCall(`create a container of ${image} to read ${dir}`, () =>
    // A Cmd even for images without one (creating needs a command); it never starts.
    docker.createContainer({ Image: image, Cmd: ['/slipway-never-started'], Labels: opts.labels, NetworkDisabled: true, HostConfig: { NetworkMode: 'none' } }),
  );
  try {
    // `dir/.`: the directory's contents, through a symlinked directory too; entries are `./name`.
    const archive = await openArchive(container, dir);
    return await sqlFilesOf(archive, dir, opts.maxBytes);
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

async function openArchive(container: Docker.Container, dir: string): Promise<Readable> {
  try {
    return (await container.getArchive({ path: `${dir.replace(/\/+$/, '')}/.` })) as unknown as Readable;
  } catch (err) {
    if (statusOf(err) === 404) throw new SlipwayError('SLW_NOT_FOUND', `the image has no directory ${dir}`);
    if (/not a directory/i.test(dockerMessage(err))) throw new SlipwayError('SLW_NOT_FOUND', `${dir} in the image is not a directory`);
    throw new SlipwayError('SLW_RUNTIME', `docker: read ${dir} from the image: ${dockerMessage(err)}`);
  }
}

/** The kept files of a `dir/.` archive (entries `./name`), sorted by name. */
export async function sqlFilesOf(archive: Readable, dir: string, maxBytes: number): Promise<ImageFile[]> {
  const extract = tarStream.extract();
  archive.pipe(extract as unknown as NodeJS.WritableStream);
  const files: ImageFile[] = [];
  let total = 0;
  try {
    for await (const entry of extract) {
      const name = entry.header.name.replace(/^\.\//, '');
      const wanted = (entry.header.type ?? 'file') === 'file' && name.endsWith('.sql') && !name.includes('/');
      if (!wanted) {
        entry.resume();
        continue;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        total += chunk.length;
        if (total > maxBytes) throw new SlipwayError('SLW_TOO_LARGE', `the .sql files in ${dir} of the image hold more than ${maxBytes} bytes; the migration lint reads at most that`);
        chunks.push(chunk);
      }
      files.push({ name, content: Buffer.concat(chunks).toString('utf8') });
    }
  } finally {
    archive.destroy();
  }
  // By name as the bytes compare (0002 before 0010 when zero-padded), not by locale.
  return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
