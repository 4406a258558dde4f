/**
 * Readers of Linux /proc for benchmarks: CPU time and memory of processes we measure from
 * the outside (the control plane, HAProxy, dockerd), and finding them by name or parent.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ on Linux: /proc/<pid>/stat counts CPU time in these ticks. */
export const TICKS_PER_S = 100;

/** The fields of /proc/<pid>/stat after the command name (which may contain spaces and parentheses). */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** User + system CPU time of a process, in ticks. */
export function cpuTicks(pid: number): number {
  const fields = statFields(pid);
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

/** Summed CPU ticks of processes; one that has exited counts 0 (so a window spanning its exit undercounts it). */
export function cpuTicksOf(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      total += cpuTicks(pid);
    } catch {
      // gone
    }
  }
  return total;
}

/** Live processes whose command name (/proc/<pid>/comm, at most 15 characters) is `name`. */
export function pidsOf(name: string): number[] {
  return livePids().filter((p) => readOr(`/proc/${p}/comm`, '').trim() === name);
}

/** Live processes whose parent is `pid` (HAProxy's workers under its master). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const p of livePids()) {
    try {
      if (Number(statFields(p)[1]) === pid) out.push(p);
    } catch {
      // gone
    }
  }
  return out;
}

function livePids(): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(Number);
}

function readOr(file: string, fallback: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

/** `Key:   123 kB` lines (/proc/<pid>/status, smaps_rollup) as a map of KiB. */
export function parseKiB(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^(\w+):\s+(\d+) kB$/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

/** Memory of one process or a group, in KiB. */
export interface Memory {
  /** Resident set (VmRSS): what `ps` and `top` show; shared pages count in full for each process. */
  rssKiB: number;
  /** Proportional set (smaps_rollup): shared pages split between their users, so a group's sum is not double counted. */
  pssKiB: number;
  /** Pages only this process maps (Private_Clean + Private_Dirty): what stopping it would free. */
  privateKiB: number;
  /** Peak resident set since the process started (VmHWM). */
  peakRssKiB: number;
}

export const NO_MEMORY: Memory = { rssKiB: 0, pssKiB: 0, privateKiB: 0, peakRssKiB: 0 };

export function memoryOf(pid: number): Memory {
  const status = parseKiB(readFileSync(`/proc/${pid}/status`, 'utf8'));
  const rollup = parseKiB(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
  return {
    rssKiB: status.get('VmRSS') ?? 0,
    pssKiB: rollup.get('Pss') ?? 0,
    privateKiB: (rollup.get('Private_Clean') ?? 0) + (rollup.get('Private_Dirty') ?? 0),
    peakRssKiB: status.get('VmHWM') ?? 0,
  };
}

/** Memory summed over processes (the peak is the sum of peaks, an upper bound); exited ones count 0. */
export function memoryOfAll(pids: number[]): Memory {
  const total = { ...NO_MEMORY };
  for (const pid of pids) {
    try {
      const m = memoryOf(pid);
      total.rssKiB += m.rssKiB;
      total.pssKiB += m.pssKiB;
      total.privateKiB += m.privateKiB;
      total.peakRssKiB += m.peakRssKiB;
    } catch {
      // gone
    }
  }
  return total;
}

/** KiB → MiB with one decimal, for tables. */
export const mib = (kib: number): number => Math.round((kib / 1024) * 10) / 10;

/** Share of one core (percent, one decimal) that `ticks` of CPU time are over `wallMs`. */
export const pctOfCore = (ticks: number, wallMs: number): number => Math.round((ticks / TICKS_PER_S / (wallMs / 1000)) * 1000) / 10;
