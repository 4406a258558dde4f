/**
 * The low-disk rule, pure: `SLIPWAY_MIN_FREE_DISK` ("10%,2GiB": free space below any bound is
 * low) and the hysteresis that keeps a disk hovering at the bound from flapping between low and
 * ok (and notifying each time).
 */

export interface MinFreeDisk {
  /** Percent of the filesystem's size that must stay free (null: no percentage bound). */
  percent: number | null;
  /** Bytes that must stay free (null: no absolute bound). */
  bytes: number | null;
}

export const DEFAULT_MIN_FREE_DISK = '10%,2GiB';

const UNITS: Record<string, number> = { b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/** Parses "10%", "2GiB", "10%,2GiB" or "0" (off); throws an Error naming the variable and the expected form. */
export function parseMinFreeDisk(value: string, name = 'SLIPWAY_MIN_FREE_DISK'): MinFreeDisk {
  const out: MinFreeDisk = { percent: null, bytes: null };
  const expected = `${name}: expected a percentage and/or a size such as "10%,2GiB" (or "0" for no limit)`;
  const parts = value.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (parts.length === 0 || parts.length > 2) throw new Error(`${expected}, got ${JSON.stringify(value)}`);
  for (const part of parts) {
    const pct = /^(\d+(?:\.\d+)?)%$/.exec(part);
    const size = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(part);
    if (pct) {
      const p = Number(pct[1]);
      if (p > 100 || out.percent !== null) throw new Error(`${expected}, got ${JSON.stringify(value)}`);
      out.percent = p;
    } else if (size) {
      const unit = UNITS[(size[2] || 'b').toLowerCase()];
      if (unit === undefined || out.bytes !== null) throw new Error(`${expected}, got ${JSON.stringify(value)} (units: B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)`);
      out.bytes = Math.round(Number(size[1]) * unit);
    } else {
      throw new Error(`${expected}, got ${JSON.stringify(value)}`);
    }
  }
  return out;
}

/** Free bytes below which the disk is low (0: no bound). */
export function requiredFreeBytes(min: MinFreeDisk, totalBytes: number): number {
  return Math.max(min.percent === null ? 0 : (min.percent / 100) * totalBytes, min.bytes ?? 0);
}

/**
 * Low when free space is below the bound; once low, ok again only when free space is above the
 * bound by a margin (1 % of the disk, at least 256 MiB), so a disk hovering at the bound
 * changes state (and notifies) once per real crossing.
 */
export function isDiskLow(min: MinFreeDisk, disk: { totalBytes: number; availableBytes: number }, wasLow: boolean): boolean {
  const need = requiredFreeBytes(min, disk.totalBytes);
  if (need <= 0) return false;
  if (!wasLow) return disk.availableBytes < need;
  return disk.availableBytes < need + Math.max(0.01 * disk.totalBytes, 256 * 2 ** 20);
}

