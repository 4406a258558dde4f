/**
 * The low-disk guard: free space on Docker's data root (where images, layers and build cache
 * go) against SLIPWAY_MIN_FREE_DISK. New builds and deployments are refused with
 * SLW_LOW_DISK before anything is recorded; the state shows in `slipway servers` and
 * `/readyz`, and each crossing into low disk appends one `disk.low` event (hysteresis in
 * core/disk-threshold.ts; the state is a store setting so a restart does not notify again).
 */
import type { Logger } from 'pino';
import { isDiskLow, requiredFreeBytes, type MinFreeDisk } from '../core/disk-threshold';
import { formatBytes } from '../core/format-bytes';
import { SlipwayError, errorMessage } from '../core/errors';
import type { HostProbe } from '../core/ports/host-probe';
import type { Runtime } from '../core/ports/runtime';
import type { Store } from '../core/ports/store';

const STATE_KEY = 'disk-low';

export interface DiskState {
  path: string;
  totalBytes: number;
  availableBytes: number;
  /** Free bytes below which the disk counts as low. */
  requiredBytes: number;
  low: boolean;
  /** One line for humans: "79.1 GiB free of 252.0 GiB (needs 25.2 GiB)". */
  detail: string;
}

export interface DiskGuardDeps {
  runtime: Pick<Runtime, 'engineInfo'>;
  host: Pick<HostProbe, 'disk'>;
  store: Pick<Store, 'getSetting' | 'setSetting' | 'appendOutboxEvent'>;
  logger: Logger;
  min: MinFreeDisk;
}

export class DiskGuard {
  private rootDir: string | null = null;
  private wasLow: boolean | null = null;
  private last: DiskState | null = null;
  private checking: Promise<DiskState> | null = null;

  constructor(private readonly deps: DiskGuardDeps) {}

  /** Reads the disk now (one statfs; Docker's root dir is asked once), records and notifies a crossing. */
  check(): Promise<DiskState> {
    // Concurrent callers share one reading, so a crossing is recorded (and notified) once.
    this.checking ??= this.read().finally(() => {
      this.checking = null;
    });
    return this.checking;
  }

  /** The last reading, if any (views that must not wait). */
  latest(): DiskState | null {
    return this.last;
  }

  /** Throws SLW_LOW_DISK when the disk is low; a disk that cannot be read does not block deploys (logged). */
  async assertRoom(what: string): Promise<void> {
    let state: DiskState;
    try {
      state = await this.check();
    } catch (err) {
      this.deps.logger.warn({ err: errorMessage(err) }, 'could not read free disk space; not blocking');
      return;
    }
    if (state.low) {
      throw new SlipwayError(
        'SLW_LOW_DISK',
        `${what} refused: low disk on ${state.path} (${state.detail}; SLIPWAY_MIN_FREE_DISK). Free space first: remove unused images ("docker image prune"), old build cache ("docker builder prune"), or lower retention.releases in slipway.yml; rollbacks and repairs still run`,
      );
    }
  }

  private async read(): Promise<DiskState> {
    const { runtime, host, store, logger, min } = this.deps;
    this.rootDir ??= (await runtime.engineInfo()).rootDir;
    const disk = await host.disk(this.rootDir);
    if (this.wasLow === null) this.wasLow = (await store.getSetting(STATE_KEY)) === 'low';
    const low = isDiskLow(min, disk, this.wasLow);
    const requiredBytes = requiredFreeBytes(min, disk.totalBytes);
    const state: DiskState = {
      path: disk.path,
      totalBytes: disk.totalBytes,
      availableBytes: disk.availableBytes,
      requiredBytes,
      low,
      detail: `${formatBytes(disk.availableBytes)} free of ${formatBytes(disk.totalBytes)} (needs ${formatBytes(requiredBytes)})`,
    };
    if (low !== this.wasLow) {
      this.wasLow = low;
      await store.setSetting(STATE_KEY, low ? 'low' : 'ok');
      if (low) {
        logger.warn({ path: state.path, availableBytes: state.availableBytes, requiredBytes }, 'low disk: new builds and deployments are refused');
        await store.appendOutboxEvent({ type: 'disk.low', project: null, payload: { server: 'local', path: state.path, availableBytes: state.availableBytes, totalBytes: state.totalBytes, requiredBytes, detail: state.detail } });
      } else {
        logger.info({ path: state.path, availableBytes: state.availableBytes }, 'disk space is back above the bound');
      }
    }
    this.last = state;
    return state;
  }
}
