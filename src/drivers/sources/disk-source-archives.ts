/**
 * SourceArchives on the control plane's disk: `<dataDir>/sources/<sha256>.tar` plus a
 * small `.json` beside it. Uploads land in `tmp/` and are renamed into place only once
 * their hash and contents are checked, so a half-received archive is never used.
 * Archives unused for `retentionMs` are pruned (the image built from one outlives it;
 * a rebuild just needs a fresh upload).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { SlipwayError, errorMessage } from '../../core/errors';
import type { SourceArchives, StoredArchive } from '../../core/ports/source-archives';
import { checkSourceArchive } from '../../source/archive-check';
import { SHA256_RE, writeSourceArchive } from '../../source/source-archive';

export interface DiskSourceArchivesOptions {
  dir: string;
  logger: Logger;
  /** Archives not used for this long are removed; default 14 days. */
  retentionMs?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export class DiskSourceArchives implements SourceArchives {
  readonly dir: string;
  private readonly tmpDir: string;
  private readonly scratchRoot: string;
  private readonly retentionMs: number;
  private readonly logger: Logger;
  private lastPrune = 0;

  constructor(opts: DiskSourceArchivesOptions) {
    this.dir = opts.dir;
    this.tmpDir = path.join(opts.dir, 'tmp');
    this.scratchRoot = path.join(opts.dir, 'scratch');
    this.retentionMs = opts.retentionMs ?? 14 * DAY_MS;
    this.logger = opts.logger;
  }

  /** Creates the directories and clears what an interrupted run left in tmp/ and scratch/. */
  async init(): Promise<void> {
    await rm(this.tmpDir, { recursive: true, force: true });
    await rm(this.scratchRoot, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true, mode: 0o700 });
    await mkdir(this.scratchRoot, { recursive: true, mode: 0o700 });
  }

  async find(sha256: string): Promise<string | null> {
    if (!SHA256_RE.test(sha256)) return null;
    const file = this.archiveFile(sha256);
    try {
      const now = new Date();
      await utimes(file, now, now);
      return file;
    } catch {
      return null;
    }
  }

  async describe(sha256: string): Promise<StoredArchive | null> {
    if (!SHA256_RE.test(sha256)) return null;
    try {
      return JSON.parse(await readFile(this.metaFile(sha256), 'utf8')) as StoredArchive;
    } catch {
      return null;
    }
  }

  async receive(sha256: string, body: Readable, maxBytes: number): Promise<StoredArchive & { existed: boolean }> {
    const tmp = path.join(this.tmpDir, `${randomUUID()}.tar`);
    const hash = createHash('sha256');
    let bytes = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        if (bytes > maxBytes) {
          done(new SlipwayError('SLW_TOO_LARGE', `the build context is larger than the server accepts (${maxBytes} bytes; SLIPWAY_MAX_SOURCE_BYTES); exclude what the build does not need with .dockerignore`));
          return;
        }
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, meter, createWriteStream(tmp, { mode: 0o600 }));
      const actual = hash.digest('hex');
      if (actual !== sha256) {
        throw new SlipwayError('SLW_BAD_REQUEST', `the uploaded bytes hash to ${actual}, not ${sha256}: the upload was damaged or names another archive`, [
          { path: 'sha256', message: 'must be the sha256 of the uploaded bytes' },
        ]);
      }
      const existing = await this.describe(sha256);
      if (existing && (await this.find(sha256))) return { ...existing, existed: true };
      const summary = await checkSourceArchive(tmp);
      const stored: StoredArchive = { sha256, bytes, files: summary.files };
      await this.place(tmp, stored);
      this.logger.info(stored, 'build context received');
      return { ...stored, existed: false };
    } catch (err) {
      if (err instanceof SlipwayError) throw err;
      throw new SlipwayError('SLW_BAD_REQUEST', `the upload of the build context did not complete: ${errorMessage(err)}`);
    } finally {
      await rm(tmp, { force: true });
      void this.pruneNow();
    }
  }

  async packDirectory(contextDir: string, dockerfile: string): Promise<StoredArchive> {
    const tmp = path.join(this.tmpDir, `${randomUUID()}.tar`);
    try {
      const archive = await writeSourceArchive(contextDir, dockerfile, tmp);
      const stored: StoredArchive = { sha256: archive.sha256, bytes: archive.bytes, files: archive.files };
      if (!(await this.find(archive.sha256))) await this.place(tmp, stored);
      return stored;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async withScratchDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
    const dir = path.join(this.scratchRoot, randomUUID());
    await mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      return await fn(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async place(tmp: string, stored: StoredArchive): Promise<void> {
    await writeFile(this.metaFile(stored.sha256), `${JSON.stringify(stored)}\n`, { mode: 0o600 });
    await rename(tmp, this.archiveFile(stored.sha256));
  }

  /** At most once an hour: removes archives whose last use is older than the retention. */
  private async pruneNow(): Promise<void> {
    const now = Date.now();
    if (now - this.lastPrune < 60 * 60 * 1000) return;
    this.lastPrune = now;
    try {
      for (const name of await readdir(this.dir)) {
        if (!name.endsWith('.tar')) continue;
        const file = path.join(this.dir, name);
        const st = await stat(file);
        if (now - st.mtimeMs < this.retentionMs) continue;
        await rm(file, { force: true });
        await rm(file.replace(/\.tar$/, '.json'), { force: true });
        this.logger.info({ archive: name }, 'pruned an unused build context');
      }
    } catch (err) {
      this.logger.warn({ err: errorMessage(err) }, 'pruning build contexts failed');
    }
  }

  private archiveFile(sha256: string): string {
    return path.join(this.dir, `${sha256}.tar`);
  }

  private metaFile(sha256: string): string {
    return path.join(this.dir, `${sha256}.json`);
  }
}
