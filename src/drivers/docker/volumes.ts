/**
 * Named volumes of services and accessories: `<base>_<project>_<env>_<owner>_<volume>`,
 * labelled with whose they are. The separator `_` is one slipway.yml names (`[a-z0-9-]`)
 * cannot contain, so two owners never share a name. Created (with labels) before the
 * container that mounts them, since Docker would otherwise create them unlabelled; an
 * existing volume of the name is mounted only if its labels say it is this owner's. Never
 * removed here except by an explicit removeVolume (environment destroy with --delete-volumes).
 */
import type Docker from 'dockerode';
import type { VolumeMount } from '../../core/config';
import type { VolumeInfo } from '../../core/ports/runtime';
import { dockerCall, dockerCallTolerating, statusOf, dockerMessage } from './docker-errors';
import { BASE_LABEL, MANAGED_LABELS, VOLUME_LABEL } from './labels';
import { SlipwayError } from '../../core/errors';

export interface VolumeOwner {
  project: string;
  env: string;
  /** The service or accessory. */
  owner: string;
}

export const volumeName = (base: string, o: VolumeOwner, volume: string): string => `${base}_${o.project}_${o.env}_${o.owner}_${volume}`;

/** The volume's labels (what listVolumes and cleanup find it by). */
export function volumeLabels(base: string, o: VolumeOwner, volume: string): Record<string, string> {
  return { ...MANAGED_LABELS, [BASE_LABEL]: base, [VOLUME_LABEL.project]: o.project, [VOLUME_LABEL.env]: o.env, [VOLUME_LABEL.owner]: o.owner, [VOLUME_LABEL.name]: volume };
}

/**
 * Why an existing volume of our name is not this owner's volume (null when it is): it lacks
 * Slipway's labels (someone else's), or they name another base, project, environment, owner or volume.
 */
export function volumeOwnerProblem(name: string, labels: Record<string, string> | null | undefined, base: string, o: VolumeOwner, volume: string): string | null {
  const l = labels ?? {};
  const keys = [VOLUME_LABEL.project, VOLUME_LABEL.env, VOLUME_LABEL.owner, VOLUME_LABEL.name] as const;
  const wanted = `volume ${volume} of ${o.owner} in project ${o.project} environment ${o.env}`;
  if (keys.some((k) => l[k] === undefined)) {
    return `docker volume ${name} already exists but was not created by Slipway (no slipway.volume.project/env/owner/name labels), so it is not mounted as ${wanted}. Docker cannot rename a volume: if its data is needed, copy it into a volume of another name; then remove this one (\`docker volume rm ${name}\`)`;
  }
  const otherBase = l[BASE_LABEL] !== undefined && l[BASE_LABEL] !== base;
  if (keys.some((k, i) => l[k] !== [o.project, o.env, o.owner, volume][i]) || otherBase) {
    const whose = `volume ${l[VOLUME_LABEL.name]} of ${l[VOLUME_LABEL.owner]} in project ${l[VOLUME_LABEL.project]} environment ${l[VOLUME_LABEL.env]}${otherBase ? ` of the Slipway with base network ${l[BASE_LABEL]}` : ''}`;
    return `docker volume ${name} is ${whose} (its slipway.volume.* labels), not ${wanted}: refusing to mount it. Remove it (\`docker volume rm ${name}\`) only if its data is no longer needed`;
  }
  return null;
}

/** Creates the missing volumes and returns the container's mounts of them; refuses (SLW_RUNTIME) a volume of the name that is not this owner's. */
export async function ensureVolumes(docker: Docker, base: string, owner: VolumeOwner, mounts: VolumeMount[]): Promise<Docker.MountSettings[]> {
  const out: Docker.MountSettings[] = [];
  for (const m of mounts) {
    const o = m.owner ? { ...owner, owner: m.owner } : owner;
    const name = volumeName(base, o, m.volume);
    const inspect = () => dockerCallTolerating(`inspect volume ${name}`, [404], () => docker.getVolume(name).inspect());
    let existing = await inspect();
    if (!existing) {
      // Creating an existing local volume returns it (whoever created it meanwhile): look again after.
      await dockerCall(`create volume ${name}`, () => docker.createVolume({ Name: name, Driver: 'local', Labels: volumeLabels(base, o, m.volume) }));
      existing = await inspect();
    }
    const problem = existing ? volumeOwnerProblem(name, existing.Labels, base, o, m.volume) : null;
    if (problem) throw new SlipwayError('SLW_RUNTIME', problem);
    out.push({ Type: 'volume', Source: name, Target: m.path, ReadOnly: m.readOnly });
  }
  return out;
}

interface VolumeListing {
  Name: string;
  Labels: Record<string, string> | null;
  CreatedAt?: string;
}

type DiskUsage = { Volumes?: Array<{ Name: string; UsageData?: { Size?: number } | null }> | null };
const diskUsageRuns = new WeakMap<Docker, Promise<DiskUsage>>();
/** The last good report, reused for a while when it covers every volume asked about: it walks every volume and image, and the dashboard polls. */
const diskUsageLast = new WeakMap<Docker, { at: number; usage: DiskUsage }>();
const DISK_USAGE_REUSE_MS = 15_000;

/**
 * Docker's disk-usage report, shared by concurrent callers of this process. Docker runs one at
 * a time and refuses a second ("a disk usage operation is already running", whoever asked);
 * sizes are best effort, so a refused or failed report leaves them unknown (null) instead of
 * failing the listing (status, `slipway volumes`, the dashboard).
 */
function diskUsage(docker: Docker, names: string[]): Promise<DiskUsage> {
  const last = diskUsageLast.get(docker);
  const covers = (usage: DiskUsage) => names.every((n) => usage.Volumes?.some((v) => v.Name === n));
  if (last && Date.now() - last.at < DISK_USAGE_REUSE_MS && covers(last.usage)) return Promise.resolve(last.usage);
  const running = diskUsageRuns.get(docker);
  if (running) return running;
  const run = dockerCall('disk usage', () => docker.df() as Promise<DiskUsage>)
    .then((usage) => (diskUsageLast.set(docker, { at: Date.now(), usage }), usage))
    .catch((): DiskUsage => ({ Volumes: null }))
    .finally(() => diskUsageRuns.delete(docker));
  diskUsageRuns.set(docker, run);
  return run;
}

/** Slipway's volumes (of this base network), with sizes and the containers mounting them. */
export async function listVolumes(docker: Docker, base: string, filter: { project?: string; env?: string; sizes?: boolean }): Promise<VolumeInfo[]> {
  const label = [`${BASE_LABEL}=${base}`, VOLUME_LABEL.project + (filter.project ? `=${filter.project}` : '')];
  if (filter.env) label.push(`${VOLUME_LABEL.env}=${filter.env}`);
  const listed = await dockerCall('list volumes', () => docker.listVolumes({ filters: { label } }));
  const volumes = (listed.Volumes ?? []) as VolumeListing[];
  if (volumes.length === 0) return [];
  // Docker computes volume sizes only in its disk-usage report (it walks every volume: skipped when not asked for).
  const [usage, containers] = await Promise.all([filter.sizes === false ? { Volumes: null } : diskUsage(docker, volumes.map((v) => v.Name)), dockerCall('list containers', () => docker.listContainers({ all: true }))]);
  const sizes = new Map((usage.Volumes ?? []).map((v) => [v.Name, v.UsageData?.Size]));
  const users = new Map<string, string[]>();
  for (const c of containers) {
    for (const m of c.Mounts ?? []) {
      if (m.Type !== 'volume' || !m.Name) continue;
      users.set(m.Name, [...(users.get(m.Name) ?? []), (c.Names[0] ?? c.Id).replace(/^\//, '')]);
    }
  }
  return volumes
    .map((v) => {
      const labels = v.Labels ?? {};
      const size = sizes.get(v.Name);
      return {
        name: v.Name,
        project: labels[VOLUME_LABEL.project] ?? '',
        env: labels[VOLUME_LABEL.env] ?? '',
        owner: labels[VOLUME_LABEL.owner] ?? '',
        volume: labels[VOLUME_LABEL.name] ?? '',
        // -1: Docker has not computed it.
        sizeBytes: typeof size === 'number' && size >= 0 ? size : null,
        createdAt: v.CreatedAt && !Number.isNaN(Date.parse(v.CreatedAt)) ? new Date(v.CreatedAt).toISOString() : null,
        usedBy: (users.get(v.Name) ?? []).sort(),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Removes one of this Slipway's volumes; refused while a container (running or stopped) uses
 * it, and for a volume Slipway did not create. A missing volume counts as removed.
 */
export async function removeVolume(docker: Docker, base: string, name: string): Promise<{ removed: boolean; reason?: string }> {
  const info = await dockerCallTolerating(`inspect volume ${name}`, [404], () => docker.getVolume(name).inspect());
  if (!info) return { removed: true };
  if (info.Labels?.[BASE_LABEL] !== base) return { removed: false, reason: `volume ${name} was not created by this Slipway (no label ${BASE_LABEL}=${base}): left alone` };
  try {
    await docker.getVolume(name).remove();
    return { removed: true };
  } catch (err) {
    const status = statusOf(err);
    if (status === 404) return { removed: true };
    if (status !== 409) throw new SlipwayError('SLW_RUNTIME', `docker: remove volume ${name}: ${dockerMessage(err)}`);
    const using = await docker.listContainers({ all: true, filters: { volume: [name] } }).catch(() => []);
    const names = using.map((c) => (c.Names[0] ?? c.Id).replace(/^\//, ''));
    return { removed: false, reason: `volume ${name} is in use by ${names.length > 0 ? `container ${names.join(', ')}` : 'a container'}` };
  }
}
