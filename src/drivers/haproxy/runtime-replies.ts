/** Parsers for the runtime API replies the driver reads. Pure functions. */
import type { EdgeServer, EdgeServerHealth } from '../../core/ports/edge';
import { splitAddress } from './edge-names';

/** `show stat` CSV (header line starts with "# ") as records keyed by column name. */
export function parseStatCsv(text: string): Array<Record<string, string>> {
  const lines = text.split('\n').filter((l) => l.trim().length > 0);
  const header = lines.find((l) => l.startsWith('# '));
  if (!header) return [];
  const cols = header.slice(2).split(',');
  return lines
    .filter((l) => !l.startsWith('#'))
    .map((l) => {
      const cells = l.split(',');
      return Object.fromEntries(cols.map((c, i) => [c, cells[i] ?? '']));
    });
}

/**
 * The servers of one backend from `show stat <backend> 4 -1`. `status` is MAINT…,
 * DRAIN…, UP/DOWN or "no check". An administratively drained server says DRAIN (its
 * `weight` column still shows the weight it had); a server that is up with weight 0
 * says "no check" with weight 0: that is standby (checked on HAProxy 2.6.12).
 */
export function parseServers(text: string, backend: string): EdgeServer[] {
  return parseServersByBackend(text).get(backend) ?? [];
}

/** Every backend's servers in a `show stat` reply, parsed once (a reply for 50 backends is one pass, not 50). */
export function parseServersByBackend(text: string): Map<string, EdgeServer[]> {
  const out = new Map<string, EdgeServer[]>();
  for (const r of parseStatCsv(text)) {
    if (r.svname === 'BACKEND' || r.svname === 'FRONTEND' || !r.pxname) continue;
    const status = (r.status ?? '').toUpperCase();
    const state = status.startsWith('MAINT') ? 'maint' : status.startsWith('DRAIN') ? 'drain' : r.weight === '0' ? 'standby' : 'ready';
    const health = healthOf(status, r.check_status ?? '');
    const server: EdgeServer = {
      name: r.svname ?? '',
      ...splitAddress(r.addr ?? ''),
      state,
      weight: Number(r.weight) || 0,
      activeSessions: sessions(r),
      // Only checked servers say anything about health (unchecked is the port's default).
      ...(health !== 'unchecked' ? { health, healthChangedSecondsAgo: Number(r.lastchg) || 0 } : {}),
    };
    const list = out.get(r.pxname);
    if (list) list.push(server);
    else out.set(r.pxname, [server]);
  }
  return out;
}

/**
 * A checked server's `status`: "UP", "UP 1/3" (up, failing: going down), "DOWN", "DOWN 1/2"
 * (down, passing: coming back), "DRAIN" (drained and up); "no check" when it is not checked.
 * A drained server that fails its checks says "DOWN" (see drainedServers).
 */
function healthOf(status: string, checkStatus: string): EdgeServerHealth {
  if (status.startsWith('DOWN')) return 'down';
  if (status.startsWith('MAINT') || status === 'NO CHECK' || checkStatus === '') return 'unchecked';
  return 'up';
}

/**
 * Servers drained administratively, from `show servers state [<backend>]` (srv_admin_state bits
 * 0x08 forced drain, 0x10 inherited drain): `show stat` says "DOWN" for a drained server that
 * fails its checks, which would read as ready. Keys are `backend/server`.
 */
export function drainedServers(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    // be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state …
    if (f.length < 7 || !/^\d+$/.test(f[0]!) || !/^\d+$/.test(f[6]!)) continue;
    if (Number(f[6]) & 0x18) out.add(`${f[1]}/${f[3]}`);
  }
  return out;
}

/** Active plus queued streams of one server in a `show stat` reply (0 when absent). */
export function serverSessions(text: string, backend: string, server: string): number {
  const row = parseStatCsv(text).find((r) => r.pxname === backend && r.svname === server);
  return row ? sessions(row) : 0;
}

function sessions(r: Record<string, string>): number {
  return (Number(r.scur) || 0) + (Number(r.qcur) || 0);
}

/** `show backend`: one backend name per line after a "# name" header. */
export function parseBackendNames(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
}

/** `show map <file>`: "<ref> <key> <value>" lines (a value may hold spaces: an HSTS header). */
export function parseMapEntries(text: string): Array<{ key: string; value: string }> {
  const out: Array<{ key: string; value: string }> = [];
  for (const line of text.split('\n')) {
    const m = /^0x[0-9a-f]+\s+(\S+)\s+(\S.*?)\s*$/i.exec(line.trim());
    if (m) out.push({ key: m[1]!, value: m[2]! });
  }
  return out;
}

export interface ProcInfo {
  masterPid: number;
  /** Master reload counter (successful and failed). */
  reloads: number;
  /** Failed reloads since the last successful one (HAProxy ≥ 2.5 prints "[failed: N]"). */
  failedReloads: number;
  /** Version of the running master. */
  version: string | null;
  workerPids: number[];
  /** Workers of previous generations still finishing their connections after a reload. */
  oldWorkerPids: number[];
}

/** `show proc` on the master socket. */
export function parseShowProc(text: string): ProcInfo {
  const info: ProcInfo = { masterPid: 0, reloads: 0, failedReloads: 0, version: null, workerPids: [], oldWorkerPids: [] };
  let section: 'master' | 'workers' | 'old' | 'other' = 'master';
  for (const line of text.split('\n')) {
    if (line.startsWith('# workers')) section = 'workers';
    else if (line.startsWith('# old workers')) section = 'old';
    else if (line.startsWith('#')) section = line.startsWith('#<PID>') ? 'master' : 'other';
    const m = /^(\d+)\s+(\w+)\s+(\d+)(?:\s+\[failed:\s*(\d+)\])?\s+\S+\s+(\S+)/.exec(line);
    if (!m) continue;
    const pid = Number(m[1]);
    if (m[2] === 'master') {
      info.masterPid = pid;
      info.reloads = Number(m[3]);
      info.failedReloads = Number(m[4] ?? 0);
      info.version = m[5] ?? null;
    } else if (m[2] === 'worker') {
      if (section === 'workers') info.workerPids.push(pid);
      else if (section === 'old') info.oldWorkerPids.push(pid);
    }
  }
  return info;
}
