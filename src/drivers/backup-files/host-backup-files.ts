/**
 * BackupFiles on the control plane's host: `<dataDir>/backups/<project>/<env>/<accessory>/<id>/`,
 * folders 0700 and files 0600 (a backup holds the database's data), written to a temporary
 * name and renamed once complete and synced, so a crash never leaves a half file under the
 * final name.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SlipwayError } from '../../core/errors';
import type { BackupFiles, BackupFolder, StoredFile } from '../../core/ports/backup-files';

const NAME_RE = /^[A-Za-z0-9._-]{1,200}$/;

export class HostBackupFiles implements BackupFiles {
  constructor(private readonly root: string) {}

  private dir(f: Omit<BackupFolder, 'backupId'> & { backupId?: string }): string {
    const parts = [f.project, f.env, f.accessory, ...(f.backupId ? [f.backupId] : [])];
    // Names come from validated config and generated ids; this keeps any other caller inside the root.
    for (const p of parts) if (!NAME_RE.test(p) || p === '.' || p === '..') throw new SlipwayError('SLW_INTERNAL', `not a backup folder name: ${JSON.stringify(p)}`);
    return path.join(this.root, ...parts);
  }

  private file(folder: BackupFolder, name: string): string {
    if (!NAME_RE.test(name) || name === '.' || name === '..') throw new SlipwayError('SLW_INTERNAL', `not a backup file name: ${JSON.stringify(name)}`);
    return path.join(this.dir(folder), name);
  }

  describe(folder: BackupFolder): string {
    return this.dir(folder);
  }

  async write(folder: BackupFolder, name: string, content: Readable | AsyncIterable<Uint8Array>): Promise<StoredFile> {
    const target = this.file(folder, name);
    await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
    const partial = `${target}.partial`;
    const hash = createHash('sha256');
    let bytes = 0;
    const out = createWriteStream(partial, { mode: 0o600, flush: true });
    await pipeline(
      content,
      async function* (source: AsyncIterable<Uint8Array>) {
        for await (const chunk of source) {
          hash.update(chunk);
          bytes += chunk.length;
          yield chunk;
        }
      },
      out,
    );
    await rename(partial, target);
    return { name, bytes, sha256: hash.digest('hex') };
  }

  read(folder: BackupFolder, name: string): Readable {
    const file = this.file(folder, name);
    // Opened lazily inside the stream, so a missing file is a coded error of the stream, not an ENOENT.
    async function* content(): AsyncGenerator<Buffer> {
      const handle = await open(file, 'r').catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'ENOENT' ? new SlipwayError('SLW_NOT_FOUND', `backup file ${file} is missing`) : err;
      });
      for await (const chunk of handle.createReadStream()) yield chunk as Buffer;
    }
    return Readable.from(content(), { objectMode: false });
  }

  async check(folder: BackupFolder, files: StoredFile[]): Promise<string[]> {
    const problems: string[] = [];
    for (const f of files) {
      const file = this.file(folder, f.name);
      const st = await stat(file).catch(() => null);
      if (!st) {
        problems.push(`${f.name}: missing`);
        continue;
      }
      if (st.size !== f.bytes) {
        problems.push(`${f.name}: ${st.size} bytes, ${f.bytes} written`);
        continue;
      }
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
      const sum = hash.digest('hex');
      if (sum !== f.sha256) problems.push(`${f.name}: checksum ${sum.slice(0, 12)}…, ${f.sha256.slice(0, 12)}… written`);
    }
    return problems;
  }

  async remove(folder: BackupFolder): Promise<void> {
    await rm(this.dir(folder), { recursive: true, force: true });
  }

  async usage(accessory: Omit<BackupFolder, 'backupId'>): Promise<number> {
    const walk = async (dir: string): Promise<number> => {
      let total = 0;
      for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const p = path.join(dir, e.name);
        total += e.isDirectory() ? await walk(p) : ((await stat(p).catch(() => null))?.size ?? 0);
      }
      return total;
    };
    return walk(this.dir(accessory));
  }
}
