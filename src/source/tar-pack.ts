/**
 * A tar stream from a list of entries (host files, generated content, directories,
 * symlinks), produced lazily so large files are streamed, never buffered. Owners are
 * always root: what the Docker CLI sends, and what COPY does without --chown anyway.
 */
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import tarStream from 'tar-stream';

export type TarEntry =
  | { type: 'file'; name: string; source: string; size: number; mode: number; mtime?: Date }
  | { type: 'content'; name: string; content: string | Buffer; mode: number }
  | { type: 'directory'; name: string; mode: number; uid?: number; gid?: number }
  | { type: 'symlink'; name: string; target: string };

/** Streams the entries as a tar archive; a failure (unreadable file…) is emitted as an 'error' on the stream. */
export function packEntries(entries: Iterable<TarEntry> | AsyncIterable<TarEntry>): Readable {
  const pack = tarStream.pack();
  const feed = async () => {
    for await (const e of entries) {
      if (pack.destroyed) return;
      await addEntry(pack, e);
    }
    pack.finalize();
  };
  feed().catch((err: unknown) => pack.destroy(err instanceof Error ? err : new Error(String(err))));
  // tar-stream's Pack is a streamx Readable; Docker's client reads it like a node Readable.
  return pack as unknown as Readable;
}

async function addEntry(pack: tarStream.Pack, e: TarEntry): Promise<void> {
  const owner = { uid: 0, gid: 0, uname: 'root', gname: 'root' };
  // Open host files before their header is written: a missing or unreadable file fails the
  // archive with its own error (ENOENT, EACCES) instead of a truncated entry.
  const handle = e.type === 'file' ? await open(e.source, 'r') : null;
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error | null) => (err ? reject(err) : resolve());
    switch (e.type) {
      case 'content':
        pack.entry({ ...owner, name: e.name, mode: e.mode, mtime: new Date(0) }, e.content, done);
        return;
      case 'directory':
        pack.entry({ ...owner, name: e.name, type: 'directory', mode: e.mode, uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: new Date(0) }, done);
        return;
      case 'symlink':
        pack.entry({ ...owner, name: e.name, type: 'symlink', linkname: e.target, mode: 0o777, mtime: new Date(0) }, done);
        return;
      case 'file': {
        const sink = pack.entry({ ...owner, name: e.name, size: e.size, mode: e.mode, mtime: e.mtime ?? new Date(0) }, done);
        sink.on('error', reject);
        const source = handle!.createReadStream();
        source.on('error', (err) => {
          // The whole archive fails (packEntries destroys it with this error).
          reject(err);
          sink.destroy();
        });
        source.pipe(sink);
        return;
      }
    }
  });
}
