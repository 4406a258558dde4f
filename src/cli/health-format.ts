/** The `health` cell of a replica in `slipway status`: the edge's checks of it. */
export function edgeHealthCell(health: 'up' | 'down' | 'unchecked', seconds: number | null): string {
  if (health === 'up') return 'up';
  // Out of rotation at the edge; replaced once it stays so past health.replace_after.
  if (health === 'down') return `DOWN${seconds !== null ? ` ${seconds}s` : ''}`;
  return '-';
}

/** A line under a service in `slipway status` when its last deployment is a recent successful repair (dead or unhealthy replicas replaced). */
export function repairLine(last: { id: string; kind: string; state: string; finishedAt: string | null } | null, now = Date.now()): string | null {
  if (!last || last.kind !== 'repair' || last.state !== 'succeeded' || !last.finishedAt) return null;
  const ago = Math.round((now - Date.parse(last.finishedAt)) / 1000);
  if (ago > 3600) return null;
  return `  replicas replaced by a repair ${ago}s ago (dead or unhealthy): slipway deployment ${last.id}`;
}

/** What the service line of `slipway status` adds about restarts (repairs of the live release's replicas): nothing when there were none in 24 h. */
export function restartsText(restarts: { lastHour: number; last24h: number }): string {
  if (restarts.last24h === 0) return '';
  const n = (k: number) => `${k} restart${k === 1 ? '' : 's'}`;
  return `, ${n(restarts.last24h)} in 24 h${restarts.lastHour > 0 ? ` (${restarts.lastHour} in the last hour)` : ''}`;
}

/** The `restarts` cell of a replica: repairs of its slot in 24 h, and whether the OOM killer ended it. */
export function restartsCell(r: { restarts: number; oomKilled?: boolean }): string {
  return r.oomKilled ? `${r.restarts} (OOM killed)` : String(r.restarts);
}
