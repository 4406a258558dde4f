/** The labels that mark a container as a Slipway replica (or one-off), and their conversions. */
import type { ReplicaFilter, ReplicaLabels } from '../../core/ports/runtime';

export const LABEL = {
  project: 'slipway.project',
  service: 'slipway.service',
  env: 'slipway.env',
  release: 'slipway.release',
  deployment: 'slipway.deployment',
  /** The replica's slot in its release (absent on replicas started before slots existed). */
  slot: 'slipway.slot',
  /** Port the app listens on inside the container (needed to rebuild a Replica from a listing). */
  port: 'slipway.port',
} as const;

/** Put on everything Slipway creates that is not a replica (the network). */
export const MANAGED_LABELS = { 'slipway.managed': 'true' } as const;

/** The base network name of the Slipway that created a network, volume or accessory: several can share a host (tests). */
export const BASE_LABEL = 'slipway.base';

/**
 * The base network of the Slipway that started a replica. Not BASE_LABEL: the offline base
 * images carry `slipway.base` (their own name) and every container inherits its image's labels,
 * so a replica created without an explicit value would read as another Slipway's.
 */
export const REPLICA_BASE_LABEL = 'slipway.replica.base';

/** A project environment's network. */
export const NETWORK_LABEL = { project: 'slipway.network.project', env: 'slipway.network.env' } as const;

/** A named volume: whose it is and its name in slipway.yml. */
export const VOLUME_LABEL = {
  project: 'slipway.volume.project',
  env: 'slipway.volume.env',
  owner: 'slipway.volume.owner',
  name: 'slipway.volume.name',
} as const;

/** Accessory containers: their own namespace, so converge, recovery and the reconciler never take one for a replica. */
export const ACCESSORY_LABEL = {
  project: 'slipway.accessory.project',
  env: 'slipway.accessory.env',
  name: 'slipway.accessory.name',
  spec: 'slipway.accessory.spec',
} as const;

export function toDockerLabels(labels: ReplicaLabels, port: number): Record<string, string> {
  return {
    [LABEL.project]: labels.project,
    [LABEL.service]: labels.service,
    [LABEL.env]: labels.env,
    [LABEL.release]: String(labels.release),
    [LABEL.deployment]: labels.deployment,
    ...(labels.slot !== undefined ? { [LABEL.slot]: String(labels.slot) } : {}),
    // Workers listen on no port: no label, read back as 0.
    ...(port > 0 ? { [LABEL.port]: String(port) } : {}),
  };
}

/** The replica labels of a container, or null when it is not a (complete) Slipway replica. */
export function fromDockerLabels(labels: Record<string, string>): ReplicaLabels | null {
  const project = labels[LABEL.project];
  const service = labels[LABEL.service];
  const env = labels[LABEL.env];
  const releaseText = labels[LABEL.release] ?? '';
  const release = Number(releaseText);
  const deployment = labels[LABEL.deployment];
  if (!project || !service || !env || !deployment || !/^\d+$/.test(releaseText) || !Number.isSafeInteger(release)) return null;
  const slotText = labels[LABEL.slot] ?? '';
  const slot = /^\d{1,6}$/.test(slotText) ? Number(slotText) : undefined;
  return { project, service, env, release, deployment, ...(slot !== undefined ? { slot } : {}) };
}

/** The port label as a number (0 when absent or invalid). */
export function portFromDockerLabels(labels: Record<string, string>): number {
  const port = Number(labels[LABEL.port]);
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : 0;
}

/** Docker `label=` filters for a ReplicaFilter (always restricted to Slipway replicas). */
export function labelFilters(filter: ReplicaFilter): string[] {
  const out = [LABEL.project + (filter.project ? `=${filter.project}` : '')];
  if (filter.service) out.push(`${LABEL.service}=${filter.service}`);
  if (filter.env) out.push(`${LABEL.env}=${filter.env}`);
  if (filter.release !== undefined) out.push(`${LABEL.release}=${filter.release}`);
  if (filter.deployment) out.push(`${LABEL.deployment}=${filter.deployment}`);
  return out;
}

/** One-off containers (release commands, jobs) use their own label namespace so they never count as replicas. */
export function oneOffLabels(labels: ReplicaLabels, kind: string): Record<string, string> {
  return {
    'slipway.run.kind': kind,
    'slipway.run.project': labels.project,
    'slipway.run.service': labels.service,
    'slipway.run.env': labels.env,
    'slipway.run.release': String(labels.release),
    'slipway.run.deployment': labels.deployment,
  };
}
