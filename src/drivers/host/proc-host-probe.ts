/**
 * HostProbe for the host the control plane runs on: /proc/stat, /proc/meminfo and
 * statfs(2) of the data directory's filesystem (where the store, sources and, usually,
 * Docker's images live). Three small reads; no child process.
 */
import { readFile, statfs } from 'node:fs/promises';
import { SlipwayError, errorMessage } from '../../core/errors';
import type { DiskReading, HostProbe, HostReading } from '../../core/ports/host-probe';
import { parseMeminfo } from './meminfo';
import { parseProcStat } from './proc-stat';

export interface ProcHostProbeOptions {
  /** Directory whose filesystem is measured. */
  diskPath: string;
  /** Where proc is mounted (tests point it at fixtures). */
  procDir?: string;
}

export class ProcHostProbe implements HostProbe {
  constructor(private readonly opts: ProcHostProbeOptions) {}

  async read(): Promise<HostReading> {
    const proc = this.opts.procDir ?? '/proc';
    try {
      const [stat, meminfo, fs] = await Promise.all([
        readFile(`${proc}/stat`, 'utf8'),
        readFile(`${proc}/meminfo`, 'utf8'),
        statfs(this.opts.diskPath),
      ]);
      const { cpu, cpus } = parseProcStat(stat);
      const mem = parseMeminfo(meminfo);
      return {
        at: Date.now(),
        cpu,
        cpus,
        memoryTotalBytes: mem.totalBytes,
        memoryAvailableBytes: mem.availableBytes,
        // As df: used = total − free (free includes root's reserve); available excludes it.
        disk: { path: this.opts.diskPath, usedBytes: (fs.blocks - fs.bfree) * fs.bsize, totalBytes: fs.blocks * fs.bsize, availableBytes: fs.bavail * fs.bsize },
      };
    } catch (err) {
      if (err instanceof SlipwayError) throw err;
      throw new SlipwayError('SLW_INTERNAL', `cannot read host stats: ${errorMessage(err)}`);
    }
  }

  async disk(path: string): Promise<DiskReading> {
    try {
      const fs = await statfs(path);
      return { path, totalBytes: fs.blocks * fs.bsize, availableBytes: fs.bavail * fs.bsize };
    } catch (err) {
      throw new SlipwayError('SLW_INTERNAL', `cannot read the free space of ${path}: ${errorMessage(err)}`);
    }
  }
}
