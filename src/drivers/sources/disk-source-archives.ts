/**
 * SourceArchives on the control plane's disk: `<dataDir>/sources/projects/<project>/<sha256>.tar`
 * plus a small `.json` beside it, so one project's hashes are invisible to another. Uploads
 * land in `tmp/` and are renamed into place only once their hash and contents are checked,
 * so a half-received archive is never used. Archives unused for `retentionMs` are pruned
 * (the image built from one outlives it; a rebuild just needs a fresh upload).
 *
 * Servers before per-project archives kept one pool, `<dataDir>/sources/<sha256>.tar`: those
 * files stay where they are, reachable only by lookups that ask for `legacy` (unrestricted
 * callers), and age out through the same pruning.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { SlipwayError, errorMessage } from '../../core/errors';
import type { ArchiveLookup, SourceArchives, StoredArchive } from '../../core/ports/source-archives';
import { checkSourceArchive } from '../../source/archive-check';
import { SHA256_RE, writeSourceArchive } from '../../source/source-archive';

export interface DiskSourceArchivesOptions {
  dir: string;
  logger: Logger;
  /** Archives not used for this long are removed; default 14 days. */
  retentionMs?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Project names as slipway.yml allows them; anything else never becomes a path. */
const PROJECT_RE = /^[a-z][a-z0-9-]{0,62}$/;

export class DiskSourceArchives implements SourceArchives {
  readonly dir: string;
  private readonly tmpDir: string;
  private readonly scratchRoot: string;
  private readonly projectsRoot: string;
  private readonly retentionMs: number;
  private readonly logger: Logger;
  private lastPrune = 0;

  constructor(opts: DiskSourceArchivesOptions) {
    this.dir = opts.dir;
    this.tmpDir = path.join(opts.dir, 'tmp');
    this.scratchRoot = path.join(opts.dir, 'scratch');
    this.projectsRoot = path.join(opts.dir, 'projects');
    this.retentionMs = opts.retentionMs ?? 14 * DAY_MS;
    this.logger = opts.logger;
  }

  /** Creates the directories and clears what an interrupted run left in tmp/ and scratch/. */
  async init(): Promise<void> {
    await rm(this.tmpDir, { recursive: true, force: true });
    await rm(this.scratchRoot, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true, mode: 0o700 });
    await mkdir(this.scratchRoot, { recursive: true, mode: 0o700 });
    await mkdir(this.projectsRoot, { recursive: true, mode: 0o700 });
  }

  async find(project: string, sha256: string, opts: ArchiveLookup = {}): Promise<string | null> {
    if (!SHA256_RE.test(sha256)) return null;
    for (const dir of this.lookupDirs(project, opts)) {
      const file = path.join(dir, `${sha256}.tar`);
      try {
        const now = new Date();
        await utimes(file, now, now);
        return file;
      } catch {
        // not in this directory
      }
    }
    return null;
  }

  async describe(project: string, sha256: string, opts: ArchiveLookup = {}): Promise<StoredArchive | null> {
    if (!SHA256_RE.test(sha256)) return null;
    for (const dir of this.lookupDirs(project, opts)) {
      try {
        return JSON.parse(await readFile(path.join(dir, `${sha256}.json`), 'utf8')) as StoredArchive;
      } catch {
        // not in this directory
      }
    }
    return null;
  }

  async receive(project: string, sha256: string, body: Readable, maxBytes: number): Promise<StoredArchive & { existed: boolean }> {
    const dir = this.projectDir(project);
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
      const existing = await this.describe(project, sha256);
      if (existing && (await this.find(project, sha256))) return { ...existing, existed: true };
      const summary = await checkSourceArchive(tmp);
      const stored: StoredArchive = { sha256, bytes, files: summary.files };
      await this.place(dir, tmp, stored);
      this.logger.info({ ...stored, project }, 'build context received');
      return { ...stored, existed: false };
    } catch (err) {
      if (err instanceof SlipwayError) throw err;
      throw new SlipwayError('SLW_BAD_REQUEST', `the upload of the build context did not complete: ${errorMessage(err)}`);
    } finally {
      await rm(tmp, { force: true });
      void this.pruneNow();
    }
  }

  async packDirectory(project: string, contextDir: string, dockerfile: string): Promise<StoredArchive> {
    const dir = this.projectDir(project);
    const tmp = path.join(this.tmpDir, `${randomUUID()}.tar`);
    try {
      const archive = await writeSourceArchive(contextDir, dockerfile, tmp);
      const stored: StoredArchive = { sha256: archive.sha256, bytes: archive.bytes, files: archive.files };
      if (!(await this.find(project, archive.sha256))) await this.place(dir, tmp, stored);
      return stored;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async removeProject(project: string): Promise<number> {
    const dir = this.projectDir(project);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return 0;
    }
    const count = names.filter((n) => n.endsWith('.tar')).length;
    await rm(dir, { recursive: true, force: true });
    if (count > 0) this.logger.info({ project, archives: count }, "removed the project's build contexts");
    return count;
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

  private async place(dir: string, tmp: string, stored: StoredArchive): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(path.join(dir, `${stored.sha256}.json`), `${JSON.stringify(stored)}\n`, { mode: 0o600 });
    await rename(tmp, path.join(dir, `${stored.sha256}.tar`));
  }

  /** The project's directory; a name that is not a project name never becomes a path. */
  private projectDir(project: string): string {
    if (!PROJECT_RE.test(project)) {
      throw new SlipwayError('SLW_BAD_REQUEST', `"${project.slice(0, 64)}" is not a project name`, [{ path: 'project', message: 'must be a lowercase name' }]);
    }
    return path.join(this.projectsRoot, project);
  }

  private lookupDirs(project: string, opts: ArchiveLookup): string[] {
    if (!PROJECT_RE.test(project)) return [];
    return opts.legacy ? [this.projectDir(project), this.dir] : [this.projectDir(project)];
  }

  /** At most once an hour: removes archives whose last use is older than the retention. */
  private async pruneNow(): Promise<void> {
    const now = Date.now();
    if (now - this.lastPrune < 60 * 60 * 1000) return;
    this.lastPrune = now;
    try {
      const projects = await readdir(this.projectsRoot).catch(() => [] as string[]);
      for (const dir of [this.dir, ...projects.map((p) => path.join(this.projectsRoot, p))]) {
        for (const name of await readdir(dir)) {
          if (!name.endsWith('.tar')) continue;
          const file = path.join(dir, name);
          const st = await stat(file);
          if (now - st.mtimeMs < this.retentionMs) continue;
          await rm(file, { force: true });
          await rm(file.replace(/\.tar$/, '.json'), { force: true });
          this.logger.info({ archive: path.relative(this.dir, file) }, 'pruned an unused build context');
        }
      }
    } catch (err) {
      this.logger.warn({ err: errorMessage(err) }, 'pruning build contexts failed');
    }
  }
}
