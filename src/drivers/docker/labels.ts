/** The labels that mark a container as a Slipway replica, and their conversions. */
import type { ReplicaFilter, ReplicaLabels } from '../../core/ports/runtime';

export const LABEL = {
  project: 'slipway.project',
  service: 'slipway.service',
  env: 'slipway.env',
  release: 'slipway.release',
  deployment: 'slipway.deployment',
  port: 'slipway.port',
} as const;

export function toDockerLabels(labels: ReplicaLabels, port: number): Record<string, string> {
  return {
    [LABEL.project]: labels.project,
    [LABEL.service]: labels.service,
    [LABEL.env]: labels.env,
    [LABEL.release]: String(labels.release),
    [LABEL.deployment]: labels.deployment,
    [LABEL.port]: String(port),
  };
}

export function fromDockerLabels(labels: Record<string, string>): ReplicaLabels | null {
  const project = labels[LABEL.project];
  const service = labels[LABEL.service];
  const env = labels[LABEL.env];
  const release = Number(labels[LABEL.release]);
  const deployment = labels[LABEL.deployment];
  if (!project || !service || !env || !Number.isInteger(release) || !deployment) return null;
  return { project, service, env, release, deployment };
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
