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
