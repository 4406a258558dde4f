/**
 * The Runtime port over the Docker Engine API (dockerode). Replicas, one-offs and accessories
 * join their project environment's bridge network and publish no ports: the edge reaches
 * them by IP, siblings by name. Everything goes
 * through API objects (argv and env arrays), never shell strings. Each concern lives in
 * its own file; this class only wires them to one engine connection and network.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import Docker from 'dockerode';
import type { Logger } from 'pino';
import type {
  AccessoryContainer,
  AccessoryFilter,
  AccessorySpec,
  BuildRequest,
  EngineInfo,
  ExecOptions,
  ExecResult,
  ImageFile,
  ImageInfo,
  LogEntry,
  LogOptions,
  OneOffResult,
  OneOffSpec,
  Replica,
  ReplicaFilter,
  ReplicaSpec,
  ReplicaStats,
  Runtime,
  VolumeInfo,
  VolumeRef,
} from '../../core/ports/runtime';
import { SlipwayError, errorMessage } from '../../core/errors';
import { LOCAL_SERVER } from '../../core/servers';
import { listAccessories, startAccessory } from './accessories';
import { EnvNetworks } from './env-network';
import { execInContainer } from './exec';
import { DEFAULT_SUBNET_POOL, parseSubnetPool } from './subnet-pool';
import { ensureVolumes, listVolumes, removeVolume } from './volumes';
import { exportVolume, importVolume } from './volume-archive';
import { readContainerStats } from './container-stats';
import { runBuild } from './build';
import { normalizeDockerfilePath } from '../../source/build-context';
import { inspectImage, pruneBuildLeftovers, removeImage, removeRepositories, tagImage } from './images';
import { readImageFiles } from './image-files';
import { BASE_LABEL, MANAGED_LABELS } from './labels';
import type { DockerScope } from './docker-scope';
import { replicaLogs } from './logs';
import { ensureBridgeNetwork } from './network';
import { runOneOff } from './one-off';
import { pingEngine } from './ping';
import { engineInfo } from './engine-info';
import { InspectCache, inspectReplica, listReplicas, startReplica, stopReplica } from './replicas';
import { ReplicaIndex } from './replica-index';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';
export const DEFAULT_NETWORK = 'slipway';

export interface DockerRuntimeOptions {
  /** Docker engine socket; default /var/run/docker.sock. */
  socketPath?: string;
  /** Base network (default `slipway`): environment networks are named `<network>-<project>-<env>`. */
  network?: string;
  /** IPv4 range environment networks take their /24 subnets from (SLIPWAY_SUBNET_POOL); default 10.213.0.0/16. */
  subnetPool?: string;
  /** The server this engine runs on, named in everything it reports (default `local`: the control plane's host). */
  server?: string;
  logger: Logger;
}

export class DockerRuntime implements Runtime {
  /** The engine connection (also used by the offline base image builders). */
  readonly docker: Docker;
  readonly network: string;
  readonly socketPath: string;
  readonly servers: readonly string[];
  private readonly scope: DockerScope;
  private readonly logger: Logger;
  private readonly inspections = new InspectCache();
  private readonly index: ReplicaIndex;
  private readonly envNetworks: EnvNetworks;

  constructor(opts: DockerRuntimeOptions) {
    this.socketPath = opts.socketPath ?? DEFAULT_DOCKER_SOCKET;
    this.docker = new Docker({ socketPath: this.socketPath });
    this.network = opts.network ?? DEFAULT_NETWORK;
    this.scope = { base: this.network, server: opts.server ?? LOCAL_SERVER };
    this.servers = [this.scope.server];
    this.logger = opts.logger;
    const pool = parseSubnetPool(opts.subnetPool ?? DEFAULT_SUBNET_POOL);
    this.envNetworks = new EnvNetworks({ docker: this.docker, base: this.network, pool, logger: this.logger });
    this.index = new ReplicaIndex({ docker: this.docker, network: this.network, listAll: () => this.listReplicas({}), logger: this.logger });
  }

  /** Stops watching Docker's events. */
  close(): void {
    this.index.close();
  }

  ping(): Promise<void> {
    return pingEngine(this.docker, this.socketPath);
  }

  engineInfo(): Promise<EngineInfo> {
    return engineInfo(this.docker, this.socketPath);
  }

  ensureNetwork(): Promise<void> {
    return ensureBridgeNetwork(this.docker, this.network, this.logger);
  }

  async build(req: BuildRequest): Promise<ImageInfo> {
    const [tag, ...moreTags] = req.tags;
    if (!tag) throw new SlipwayError('SLW_BUILD_FAILED', 'a build needs at least one tag');
    const dockerfile = normalizeDockerfilePath(req.dockerfile);
    const started = Date.now();
    const context = createReadStream(req.contextArchive);
    await runBuild(this.docker, context, { tag, dockerfile, buildArgs: req.buildArgs, labels: req.labels, onOutput: req.onOutput });
    for (const t of moreTags) await tagImage(this.docker, tag, t);
    const info = await inspectImage(this.docker, tag);
    if (!info) throw new SlipwayError('SLW_BUILD_FAILED', `docker build reported success but ${tag} does not exist`);
    this.logger.info({ tags: req.tags, image: info.id, ms: Date.now() - started }, 'image built');
    return info;
  }

  inspectImage(ref: string): Promise<ImageInfo | null> {
    return inspectImage(this.docker, ref);
  }

  tagImage(ref: string, tag: string): Promise<void> {
    return tagImage(this.docker, ref, tag);
  }

  async removeRepositories(repositories: string[]): Promise<{ removed: string[]; kept: Array<{ tag: string; reason: string }> }> {
    const result = await removeRepositories(this.docker, repositories);
    if (result.removed.length || result.kept.length) this.logger.info({ repositories, removed: result.removed.length, kept: result.kept.length }, 'images removed');
    return result;
  }

  async removeImage(digest: string): Promise<{ removed: boolean; untagged: string[]; reason?: string }> {
    const result = await removeImage(this.docker, digest);
    if (result.removed && result.untagged.length > 0) this.logger.info({ image: digest, untagged: result.untagged }, 'image removed');
    return result;
  }

  pruneBuildLeftovers(keepBuildCacheBytes: number): Promise<{ reclaimedBytes: number }> {
    return pruneBuildLeftovers(this.docker, keepBuildCacheBytes);
  }

  /** A start on another server is a bug in the caller: this engine runs one. */
  private assertServer(server: string, what: string): void {
    if (server !== this.scope.server) throw new SlipwayError('SLW_INTERNAL', `${what}: server "${server}" is not run by this Docker engine (it runs "${this.scope.server}")`);
  }

  async startReplica(spec: ReplicaSpec): Promise<Replica> {
    this.assertServer(spec.server, `start replica ${spec.name}`);
    const { project, env, service } = spec.labels;
    const mounts = await ensureVolumes(this.docker, this.network, { project, env, owner: service }, spec.volumes ?? []);
    const replica = await this.onEnvNetwork(project, env, (network) => startReplica(this.docker, this.scope, network, spec, mounts));
    this.logger.debug({ replica: replica.name, address: replica.address, image: spec.image }, 'replica started');
    return replica;
  }

  inspectReplica(id: string): Promise<Replica | null> {
    return inspectReplica(this.docker, this.scope, id);
  }

  listReplicas(filter: ReplicaFilter): Promise<Replica[]> {
    return listReplicas(this.docker, this.scope, filter, this.inspections);
  }

  listReplicasRecent(filter: ReplicaFilter): Promise<Replica[]> {
    return this.index.list(filter);
  }

  async stopReplica(id: string, stopTimeoutMs: number): Promise<void> {
    const started = Date.now();
    await stopReplica(this.docker, id, stopTimeoutMs);
    this.logger.debug({ replica: id.slice(0, 12), ms: Date.now() - started }, 'replica stopped and removed');
  }

  async *logs(filter: ReplicaFilter, opts: LogOptions): AsyncGenerator<LogEntry> {
    const replicas = await this.listReplicas(filter);
    yield* replicaLogs(this.docker, replicas, opts);
  }

  replicaLogs(replica: Pick<Replica, 'id' | 'name'>, opts: LogOptions): AsyncGenerator<LogEntry> {
    return replicaLogs(this.docker, [replica], opts);
  }

  replicaStats(id: string, timeoutMs: number): Promise<ReplicaStats | null> {
    return readContainerStats(this.docker, id, timeoutMs);
  }

  async runOnce(spec: OneOffSpec): Promise<OneOffResult> {
    this.assertServer(spec.server, `run ${spec.name}`);
    return this.onEnvNetwork(spec.labels.project, spec.labels.env, (network) => runOneOff(this.docker, network, spec));
  }

  readImageFiles(image: string, dir: string, opts: { maxBytes: number }): Promise<ImageFile[]> {
    return readImageFiles(this.docker, image, dir, { maxBytes: opts.maxBytes, labels: { ...MANAGED_LABELS, [BASE_LABEL]: this.network } });
  }

  ensureEnvNetwork(project: string, env: string): Promise<string> {
    return this.envNetworks.ensure(project, env);
  }

  removeEnvNetwork(project: string, env: string): Promise<void> {
    return this.envNetworks.remove(project, env);
  }

  async startAccessory(spec: AccessorySpec): Promise<AccessoryContainer> {
    this.assertServer(spec.server, `start accessory ${spec.name}`);
    const { project, env, accessory } = spec.labels;
    const mounts = await ensureVolumes(this.docker, this.network, { project, env, owner: accessory }, spec.volumes);
    const started = await this.onEnvNetwork(project, env, (network) => startAccessory(this.docker, this.scope, network, spec, mounts));
    this.logger.info({ accessory: started.name, address: started.address, image: spec.image }, 'accessory started');
    return started;
  }

  listAccessories(filter: AccessoryFilter): Promise<AccessoryContainer[]> {
    return listAccessories(this.docker, this.scope, filter);
  }

  async stopAccessory(id: string, stopTimeoutMs: number): Promise<void> {
    const started = Date.now();
    await stopReplica(this.docker, id, stopTimeoutMs); // the same stop-then-remove; volumes are never removed with it
    this.logger.info({ accessory: id.slice(0, 12), ms: Date.now() - started }, 'accessory stopped and removed');
  }

  exec(containerId: string, argv: string[], opts: ExecOptions): Promise<ExecResult> {
    return execInContainer(this.docker, containerId, argv, opts);
  }

  listVolumes(filter: { project?: string; env?: string; sizes?: boolean }): Promise<VolumeInfo[]> {
    return listVolumes(this.docker, this.network, filter);
  }

  async removeVolume(name: string): Promise<{ removed: boolean; reason?: string }> {
    const result = await removeVolume(this.docker, this.network, name);
    this.logger.info({ volume: name, ...result }, result.removed ? 'volume removed' : 'volume kept');
    return result;
  }

  exportVolume(ref: VolumeRef, opts: { image: string; path?: string }): Promise<Readable> {
    return exportVolume(this.docker, this.network, ref, opts);
  }

  importVolume(ref: VolumeRef, tar: Readable, opts: { image: string; replace?: boolean }): Promise<void> {
    return importVolume(this.docker, this.network, ref, tar, opts);
  }

  /**
   * Runs `fn` with the environment's network, ensured. A network removed behind our back
   * (cached as present) makes Docker answer "network … not found": create it again, once.
   */
  private async onEnvNetwork<T>(project: string, env: string, fn: (network: string) => Promise<T>): Promise<T> {
    const network = await this.envNetworks.ensure(project, env);
    try {
      return await fn(network);
    } catch (err) {
      if (!/network .* not found/i.test(errorMessage(err))) throw err;
      this.envNetworks.forget(network);
      return fn(await this.envNetworks.ensure(project, env));
    }
  }
}
