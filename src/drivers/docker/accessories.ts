/**
 * Accessory containers (Postgres, Redis, NATS, any container with a volume): singletons on
 * their environment's network with their name as DNS alias, their volumes mounted, Docker's
 * init as PID 1, bounded logs, optional limits. Restart policy `no`: the reconciler restarts
 * them, so a crash is seen and reported. Labelled in their own namespace, never as replicas.
 */
import type Docker from 'dockerode';
import { SlipwayError } from '../../core/errors';
import type { AccessoryContainer, AccessoryFilter, AccessoryLabels, AccessorySpec, ReplicaState } from '../../core/ports/runtime';
import { envArray } from './container-env';
import { resourceHostConfig, resourcesOf } from './container-resources';
import { dockerCall, dockerCallTolerating, dockerMessage } from './docker-errors';
import { containerAddress, envNetworkName } from './env-network';
import { ACCESSORY_LABEL, BASE_LABEL } from './labels';
import type { DockerScope } from './docker-scope';

const STATES: readonly ReplicaState[] = ['created', 'running', 'restarting', 'paused', 'exited', 'dead', 'removing'];

export function accessoryDockerLabels(labels: AccessoryLabels, base: string): Record<string, string> {
  return {
    [ACCESSORY_LABEL.project]: labels.project,
    [ACCESSORY_LABEL.env]: labels.env,
    [ACCESSORY_LABEL.name]: labels.accessory,
    [ACCESSORY_LABEL.spec]: labels.spec,
    [BASE_LABEL]: base,
  };
}

/** The accessory labels of a container, or null when it is not (completely) an accessory. */
export function fromAccessoryLabels(raw: Record<string, string>): AccessoryLabels | null {
  const project = raw[ACCESSORY_LABEL.project];
  const env = raw[ACCESSORY_LABEL.env];
  const accessory = raw[ACCESSORY_LABEL.name];
  const spec = raw[ACCESSORY_LABEL.spec] ?? '';
  return project && env && accessory ? { project, env, accessory, spec } : null;
}

/** Docker `label=` filters: this Slipway's accessories matching every field of the filter. */
export function accessoryLabelFilters(base: string, filter: AccessoryFilter): string[] {
  const out = [`${BASE_LABEL}=${base}`, ACCESSORY_LABEL.project + (filter.project ? `=${filter.project}` : '')];
  if (filter.env) out.push(`${ACCESSORY_LABEL.env}=${filter.env}`);
  if (filter.accessory) out.push(`${ACCESSORY_LABEL.name}=${filter.accessory}`);
  return out;
}

/** The create-container request: `network` is its environment's, `mounts` its (created) volumes. */
export function accessoryContainerOptions(spec: AccessorySpec, base: string, network: string, mounts: Docker.MountSettings[]): Docker.ContainerCreateOptions {
  return {
    name: spec.name,
    Image: spec.image,
    Env: envArray(spec.env),
    ...(spec.command && spec.command.length > 0 ? { Cmd: spec.command } : {}),
    Labels: accessoryDockerLabels(spec.labels, base),
    HostConfig: {
      NetworkMode: network,
      RestartPolicy: { Name: 'no' },
      Init: true,
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
      Mounts: mounts,
      ...resourceHostConfig(spec.resources),
      ...(spec.shmBytes ? { ShmSize: spec.shmBytes } : {}),
    },
    NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [spec.labels.accessory] } } },
  };
}

export function toAccessory(c: Docker.ContainerInspectInfo, { base, server }: DockerScope): AccessoryContainer | null {
  const labels = fromAccessoryLabels(c.Config.Labels ?? {});
  if (!labels) return null;
  const started = c.State.StartedAt && !c.State.StartedAt.startsWith('0001-') ? c.State.StartedAt : null;
  const status = c.State.Status as ReplicaState;
  const ip = containerAddress(c.NetworkSettings.Networks, [envNetworkName(base, labels.project, labels.env)]);
  return {
    id: c.Id,
    server,
    name: c.Name.replace(/^\//, ''),
    labels,
    state: STATES.includes(status) ? status : 'dead',
    address: c.State.Running && ip ? ip : null,
    image: c.Image,
    startedAt: started,
    exitCode: c.State.Running || !started ? null : c.State.ExitCode,
    oomKilled: c.State.OOMKilled === true,
    resources: resourcesOf(c.HostConfig),
  };
}

export async function inspectAccessory(docker: Docker, scope: DockerScope, id: string): Promise<AccessoryContainer | null> {
  const info = await dockerCallTolerating(`inspect container ${id.slice(0, 12)}`, [404], () => docker.getContainer(id).inspect());
  return info ? toAccessory(info, scope) : null;
}

export async function startAccessory(docker: Docker, scope: DockerScope, network: string, spec: AccessorySpec, mounts: Docker.MountSettings[]): Promise<AccessoryContainer> {
  const container = await dockerCall(`create container ${spec.name}`, () => docker.createContainer(accessoryContainerOptions(spec, scope.base, network, mounts)));
  try {
    await container.start();
  } catch (err) {
    await container.remove({ force: true }).catch(() => undefined);
    throw new SlipwayError('SLW_RUNTIME', `docker: start accessory ${spec.name}: ${dockerMessage(err)}`);
  }
  const started = await inspectAccessory(docker, scope, container.id);
  if (!started) throw new SlipwayError('SLW_RUNTIME', `docker: accessory ${spec.name} vanished right after starting`);
  return started;
}

/** Accessories matching every field of the filter (running or not), sorted by name. */
export async function listAccessories(docker: Docker, scope: DockerScope, filter: AccessoryFilter): Promise<AccessoryContainer[]> {
  if (filter.server !== undefined && filter.server !== scope.server) return [];
  const list = await dockerCall('list containers', () => docker.listContainers({ all: true, filters: { label: accessoryLabelFilters(scope.base, filter) } }));
  const found = await Promise.all(list.map((c) => inspectAccessory(docker, scope, c.Id)));
  return found.filter((a): a is AccessoryContainer => a !== null).sort((a, b) => a.name.localeCompare(b.name));
}
