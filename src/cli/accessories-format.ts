/** Tables of `slipway accessories`, `slipway volumes` and the accessories part of `slipway status` (pure). */
import type { AccessoryView, VolumeView } from '../core/contract/views';
import { formatBytes } from '../core/format-bytes';
import { backupHealthText } from './backups-format';

type Limits = { memoryBytes: number | null; cpus: number | null } | null | undefined;

/** "512 MiB, 0.5 cpu", "-" when there is none. */
export function limitsCell(r: Limits): string {
  const parts = [r?.memoryBytes != null ? formatBytes(r.memoryBytes) : null, r?.cpus != null ? `${r.cpus} cpu` : null].filter((p): p is string => p !== null);
  return parts.length ? parts.join(', ') : '-';
}

export function accessoryState(a: Pick<AccessoryView, 'state' | 'ready' | 'oomKilled'>): string {
  if (a.state === 'running') return a.ready ? 'running' : 'running (not ready)';
  return a.oomKilled ? `${a.state} (OOM killed)` : a.state;
}

export const ACCESSORY_COLUMNS = ['name', 'kind', 'state', 'ready', 'address', 'image', 'volumes', 'used by', 'limits'];

export function accessoryRows(accessories: AccessoryView[]): Array<Record<string, string>> {
  return accessories.map((a) => ({
    name: a.name,
    kind: a.version ? `${a.kind} ${a.version}` : a.kind,
    state: accessoryState(a),
    ready: a.ready ? 'yes' : 'no',
    address: a.address ?? '-',
    image: a.image,
    volumes: a.volumes.map((v) => `${v.volume}:${v.path}`).join(', ') || '-',
    'used by': a.usedBy.join(', ') || '-',
    limits: limitsCell(a.resources),
  }));
}

/** Under the accessories table: each accessory with backups on, at a glance ("db  backups: ok, last 2h ago, verified 2h ago"). */
export function accessoryBackupLines(accessories: AccessoryView[], now = Date.now()): string[] {
  const on = accessories.filter((a) => a.backup);
  const width = Math.max(0, ...on.map((a) => a.name.length));
  return on.map((a) => `${a.name.padEnd(width)}  ${backupHealthText(a.backup!, now)}`);
}

export const VOLUME_COLUMNS = ['name', 'env', 'owner', 'volume', 'size', 'used by'];

export function volumeRows(volumes: VolumeView[]): Array<Record<string, string>> {
  return volumes.map((v) => ({
    name: v.name,
    env: v.env,
    owner: v.owner,
    volume: v.volume,
    size: v.sizeBytes === null ? '-' : formatBytes(v.sizeBytes),
    'used by': v.usedBy.join(', ') || '-',
  }));
}

/** What `env destroy` says about volumes: deleted, or kept and how to delete them. */
export function volumeLines(d: { volumesDeleted: string[]; volumesKept: string[] }, project: string, env: string): string[] {
  const out: string[] = [];
  if (d.volumesDeleted.length) out.push(`deleted ${d.volumesDeleted.length} volume(s): ${d.volumesDeleted.join(', ')}`);
  if (d.volumesKept.length) {
    out.push(`kept ${d.volumesKept.length} volume(s) (their data stays on this host): ${d.volumesKept.join(', ')}`);
    out.push(`  to delete them too: slipway env destroy ${env} -p ${project} --delete-volumes --yes`);
  }
  return out;
}
