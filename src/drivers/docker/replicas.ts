/**
 * Replicas as containers: created from API objects (env array, labels), joined to their
 * project environment's network (their service name as DNS alias there) with no published
 * ports, never restarted by Docker (the engine
 * decides), and with Docker's init (tini, bind-mounted from the host, so it works in
 * FROM-scratch images) as PID 1: it forwards SIGTERM to the app and reaps zombies.
 */
import type Docker from 'dockerode';
import { SlipwayError } from '../../core/errors';
import type { Replica, ReplicaFilter, ReplicaHealth, ReplicaSpec, ReplicaState } from '../../core/ports/runtime';
import { envArray } from './container-env';
import { dockerCall, dockerCallTolerating, dockerMessage } from './docker-errors';
import { REPLICA_BASE_LABEL, fromDockerLabels, labelFilters, portFromDockerLabels, toDockerLabels } from './labels';
import { resourceHostConfig, resourcesOf } from './container-resources';
import { containerAddress, envNetworkName } from './env-network';
import type { DockerScope } from './docker-scope';

const STATES: readonly ReplicaState[] = ['created', 'running', 'restarting', 'paused', 'exited', 'dead', 'removing'];

/** The create-container request for a replica of the Slipway of base network `base`: `network` is its environment's, `mounts` its (created) volumes. */
export function replicaContainerOptions(spec: ReplicaSpec, base: string, network: string, mounts: Docker.MountSettings[] = []): Docker.ContainerCreateOptions {
  return {
    name: spec.name,
    Image: spec.image,
    Env: envArray(spec.env),
    ...(spec.command ? { Cmd: spec.command } : {}),
    Labels: { ...toDockerLabels(spec.labels, spec.port), [REPLICA_BASE_LABEL]: base },
    HostConfig: {
      NetworkMode: network,
      RestartPolicy: { Name: 'no' },
      Init: true,
      // Bounded logs: a chatty replica must not fill the host's disk.
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
      ...(mounts.length > 0 ? { Mounts: mounts } : {}),
      ...resourceHostConfig(spec.resources),
    },
    // Siblings reach the service by its name; several replicas share it (DNS round robin).
    NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [spec.labels.service] } } },
  };
}

/** The image's HEALTHCHECK verdict; `none` when the image defines none. */
function dockerHealth(status: string | undefined): ReplicaHealth {
  return status === 'starting' || status === 'healthy' || status === 'unhealthy' ? status : 'none';
}

/** A Replica from `docker inspect`, or null for a container that is not a Slipway replica. */
export function toReplica(c: Docker.ContainerInspectInfo, { base, server }: DockerScope): Replica | null {
  const rawLabels = c.Config.Labels ?? {};
  const labels = fromDockerLabels(rawLabels);
  if (!labels) return null;
  const ip = containerAddress(c.NetworkSettings.Networks, [envNetworkName(base, labels.project, labels.env), base]);
  const started = c.State.StartedAt && !c.State.StartedAt.startsWith('0001-') ? c.State.StartedAt : null;
  const status = c.State.Status as ReplicaState;
  return {
    id: c.Id,
    server,
    name: c.Name.replace(/^\//, ''),
    labels,
    state: STATES.includes(status) ? status : 'dead',
    address: c.State.Running && ip ? ip : null,
    port: portFromDockerLabels(rawLabels),
    image: c.Image,
    startedAt: started,
    exitCode: c.State.Running || !started ? null : c.State.ExitCode,
    health: dockerHealth(c.State.Health?.Status),
    restartCount: c.RestartCount ?? 0,
    oomKilled: c.State.OOMKilled === true,
    resources: resourcesOf(c.HostConfig),
  };
}

/** Creates and starts it on `network` (its environment's, already ensured) with its volumes' `mounts` (created). */
export async function startReplica(docker: Docker, scope: DockerScope, network: string, spec: ReplicaSpec, mounts: Docker.MountSettings[] = []): Promise<Replica> {
  const container = await dockerCall(`create container ${spec.name}`, () => docker.createContainer(replicaContainerOptions(spec, scope.base, network, mounts)));
  try {
    await container.start();
  } catch (err) {
    await container.remove({ force: true }).catch(() => undefined);
    throw new SlipwayError('SLW_RUNTIME', `docker: start container ${spec.name}: ${dockerMessage(err)}`);
  }
  const replica = await inspectReplica(docker, scope, container.id);
  if (!replica) throw new SlipwayError('SLW_RUNTIME', `docker: container ${spec.name} vanished right after starting`);
  return replica;
}

export async function inspectReplica(docker: Docker, scope: DockerScope, id: string): Promise<Replica | null> {
  const info = await dockerCallTolerating(`inspect container ${id.slice(0, 12)}`, [404], () => docker.getContainer(id).inspect());
  return info ? toReplica(info, scope) : null;
}

/**
 * What `docker inspect` said of running replicas. While a container keeps running (restart
 * policy `no`: Docker never restarts it behind our back) its start time, address and exit
 * code cannot change; only its HEALTHCHECK verdict can, and the listing shows that. So a
 * listing that still says running with the same health reuses the inspection: a status
 * page of 50 services costs one listing instead of 50 inspections. Entries expire anyway.
 */
export class InspectCache {
  private readonly entries = new Map<string, { key: string; replica: Replica; at: number }>();

  constructor(private readonly ttlMs = 30_000) {}

  get(c: Docker.ContainerInfo, now = Date.now()): Replica | null {
    const hit = this.entries.get(c.Id);
    if (!hit || hit.key !== keyOf(c) || now - hit.at > this.ttlMs) return null;
    return hit.replica;
  }

  put(c: Docker.ContainerInfo, replica: Replica | null, now = Date.now()): void {
    if (replica && c.State === 'running' && replica.state === 'running') this.entries.set(c.Id, { key: keyOf(c), replica, at: now });
    else this.entries.delete(c.Id);
    // Removed containers are never listed again: drop what expired now and then.
    if (this.entries.size > 256) for (const [id, e] of this.entries) if (now - e.at > this.ttlMs) this.entries.delete(id);
  }
}

function keyOf(c: Docker.ContainerInfo): string {
  return `${c.State}|${/\((healthy|unhealthy|health: starting)\)/.exec(c.Status ?? '')?.[1] ?? ''}`;
}

/** Replicas matching every field of the filter, sorted by name. */
export async function listReplicas(docker: Docker, scope: DockerScope, filter: ReplicaFilter, cache?: InspectCache): Promise<Replica[]> {
  if (filter.server !== undefined && filter.server !== scope.server) return [];
  const listed = await dockerCall('list containers', () => docker.listContainers({ all: true, filters: { label: labelFilters(filter) } }));
  const list = listed.filter((c) => isOurs(c, scope.base));
  // Inspect each (unless cached): the listing lacks start time, exit code and per-network addresses are not always filled in.
  const replicas = await Promise.all(
    list.map(async (c) => {
      const cached = cache?.get(c);
      if (cached) return cached;
      const r = await inspectReplica(docker, scope, c.Id);
      cache?.put(c, r);
      return r;
    }),
  );
  return replicas.filter((r): r is Replica => r !== null).sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * A replica of this Slipway (several can share a host: two installs, tests side by side), by its
 * base label; one started before replicas carried it, by its networks (the base network or an
 * environment network of ours).
 */
export function isOurs(c: Pick<Docker.ContainerInfo, 'Labels' | 'NetworkSettings'>, base: string): boolean {
  const label = c.Labels?.[REPLICA_BASE_LABEL];
  if (label !== undefined) return label === base;
  const labels = fromDockerLabels(c.Labels ?? {});
  const networks = Object.keys(c.NetworkSettings?.Networks ?? {});
  return networks.includes(base) || (labels !== null && networks.includes(envNetworkName(base, labels.project, labels.env)));
}

/**
 * `docker stop` (the image's stop signal, SIGTERM by default; SIGKILL after the timeout),
 * then remove. A container that is already stopped or gone is not an error.
 */
export async function stopReplica(docker: Docker, id: string, stopTimeoutMs: number): Promise<void> {
  const container = docker.getContainer(id);
  const seconds = Math.max(0, Math.ceil(stopTimeoutMs / 1000));
  await dockerCallTolerating(`stop container ${id.slice(0, 12)}`, [304, 404], () => container.stop({ t: seconds }));
  // 409: a removal is already in progress.
  await dockerCallTolerating(`remove container ${id.slice(0, 12)}`, [404, 409], () => container.remove({ force: true }));
}
