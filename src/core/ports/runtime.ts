/**
 * Runtime port: what the engine needs from a container runtime.
 * Implemented by src/drivers/docker over the Docker Engine API.
 */
import type { Readable } from 'node:stream';
import type { ContainerCpuCounters } from '../resource-stats';
import type { ResourceLimits, VolumeMount } from '../config';
import type { OnServer } from '../servers';

/** Labels every replica carries (`slipway.project`, `slipway.service`, …). */
export interface ReplicaLabels {
  project: string;
  service: string;
  env: string;
  release: number;
  deployment: string;
  /**
   * The replica's ordinal in its release (0, 1, …; `slipway.slot`), given by the engine and
   * inherited by the replacement a repair starts (core/replica-restarts.ts). Absent on one-offs
   * and on replicas started before slots existed.
   */
  slot?: number;
}

/** `server`: where it is started (an implementation refuses a server it does not run). */
export interface ReplicaSpec extends OnServer {
  /** Container name; unique on the host. */
  name: string;
  image: string;
  env: Record<string, string>;
  labels: ReplicaLabels;
  /** Port the app listens on inside the container (not published; reached on the bridge network); 0 for workers. */
  port: number;
  /** Replaces the image's CMD. */
  command?: string[];
  /** Named volumes of the service (`owner` = the service), created on first use and kept. */
  volumes?: VolumeMount[];
  resources?: ResourceLimits;
}

/** Docker HEALTHCHECK status; `none` when the image has no HEALTHCHECK. */
export type ReplicaHealth = 'none' | 'starting' | 'healthy' | 'unhealthy';

export type ReplicaState = 'created' | 'running' | 'restarting' | 'paused' | 'exited' | 'dead' | 'removing';

/** `server`: where it runs. */
export interface Replica extends OnServer {
  id: string;
  name: string;
  labels: ReplicaLabels;
  state: ReplicaState;
  /** IP on the Slipway bridge network, null when not running. */
  address: string | null;
  port: number;
  image: string;
  /** ISO time the container started, null if never. */
  startedAt: string | null;
  exitCode: number | null;
  health: ReplicaHealth;
  /** Times the runtime restarted the container (Docker's RestartCount; 0 under Slipway's `no` restart policy unless changed by hand). */
  restartCount: number;
  /** The kernel's OOM killer ended it (its memory limit, or the host's memory). (Absent: false.) */
  oomKilled?: boolean;
  /** Its Docker limits (absent or nulls: none). */
  resources?: ResourceLimits;
}

/** One reading of a running replica's resources (the CPU counters are cumulative: compare two readings). */
export interface ReplicaStats {
  /** Epoch ms of the reading. */
  at: number;
  cpu: ContainerCpuCounters;
  /** Memory in use without the reclaimable page cache, as `docker stats` shows it. */
  memoryUsedBytes: number;
  /** The container's memory limit, or the host's memory when it has none. */
  memoryLimitBytes: number;
}

export interface ReplicaFilter {
  /** Only the replicas of this server. */
  server?: string;
  project?: string;
  service?: string;
  env?: string;
  release?: number;
  deployment?: string;
}

/**
 * Put on every image Slipway builds: the project it was built for. Not `slipway.project`:
 * containers inherit image labels, and that one marks replicas. The legacy builder writes a
 * build's labels in its last step only, so its intermediate images never carry it.
 */
export const IMAGE_PROJECT_LABEL = 'slipway.image.project';

export interface BuildRequest {
  /** Path of the build context as a tar archive (already filtered by `.dockerignore`). */
  contextArchive: string;
  /** Dockerfile path relative to the context. */
  dockerfile: string;
  /** Tags to apply, e.g. `slipway/hello-web:src-1a2b3c4d`. */
  tags: string[];
  buildArgs?: Record<string, string>;
  /** Labels set on the image (they override a Dockerfile's LABEL of the same key). */
  labels?: Record<string, string>;
  /** Receives build output line by line as it is produced. */
  onOutput?: (line: string) => void;
}

export interface ImageInfo {
  /** Content address: `sha256:…` image ID. */
  id: string;
  tags: string[];
  /** Registry digests (`name@sha256:…`) when the image came from a registry. */
  repoDigests: string[];
  sizeBytes: number;
  /** The image's labels (e.g. the project Slipway built it for). */
  labels?: Record<string, string>;
}

export interface LogEntry {
  replica: string;
  stream: 'stdout' | 'stderr';
  at: string;
  line: string;
}

export interface LogOptions {
  /** Last lines per replica (default 100); `all` for every line (within `since`). */
  tail?: number | 'all';
  follow?: boolean;
  /** Only lines written at or after this ISO time (nanoseconds kept: a resume point). */
  since?: string;
  signal?: AbortSignal;
}

export interface OneOffSpec {
  /** What the one-off is for: the release phase, `slipway run`, or a scheduled job. */
  kind: 'release' | 'run' | 'job';
  /** Where it runs. */
  server: string;
  name: string;
  image: string;
  env: Record<string, string>;
  labels: ReplicaLabels;
  /** What the container runs (replaces the image's CMD; empty keeps it); an argv array, never a shell string. */
  argv: string[];
  /** The container is killed and the run fails after this long. */
  timeoutMs: number;
  onOutput?: (line: string, stream: 'stdout' | 'stderr') => void;
}

export interface OneOffResult {
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
}

/** The container engine and its host, as the engine reports them. */
export interface EngineInfo {
  version: string;
  os: string;
  kernel: string;
  cpus: number;
  memoryBytes: number;
  containers: number;
  containersRunning: number;
  images: number;
  /** Containers keep running while the engine restarts. */
  liveRestore: boolean;
  /** Where the engine keeps images and containers (`DockerRootDir`): the disk the low-disk guard watches. */
  rootDir: string;
}

/** Labels of an accessory container (their own namespace: an accessory is never a replica). */
export interface AccessoryLabels {
  project: string;
  env: string;
  accessory: string;
  /** Hash of the desired container (image digest, env, command, volumes, limits, credentials version): a different one means recreate. */
  spec: string;
}

/** `server`: where it is started. */
export interface AccessorySpec extends OnServer {
  /** Container name; unique on the host. */
  name: string;
  image: string;
  env: Record<string, string>;
  /** Replaces the image's CMD. */
  command?: string[];
  labels: AccessoryLabels;
  /** Named volumes (`owner` = the accessory), created on first use and kept. */
  volumes: VolumeMount[];
  resources?: ResourceLimits;
  /** Size of /dev/shm (absent: the engine's default, 64 MiB). */
  shmBytes?: number;
}

/** `server`: where it runs. */
export interface AccessoryContainer extends OnServer {
  id: string;
  name: string;
  labels: AccessoryLabels;
  state: ReplicaState;
  /** IP on the project network, null when not running. */
  address: string | null;
  image: string;
  startedAt: string | null;
  exitCode: number | null;
  oomKilled: boolean;
  resources: ResourceLimits;
}

export interface AccessoryFilter {
  server?: string;
  project?: string;
  env?: string;
  accessory?: string;
}

/** One named volume of a service or accessory, as slipway.yml names it. */
export interface VolumeRef {
  project: string;
  env: string;
  /** The service or accessory it belongs to. */
  owner: string;
  /** Its name in slipway.yml (`data`). */
  volume: string;
}

/** A named volume Slipway created for a service or an accessory. */
export interface VolumeInfo {
  /** Docker's name of the volume. */
  name: string;
  project: string;
  env: string;
  /** The service or accessory it belongs to. */
  owner: string;
  /** Its name in slipway.yml (`data`). */
  volume: string;
  /** Bytes used (from Docker's disk usage), null when Docker does not say. */
  sizeBytes: number | null;
  createdAt: string | null;
  /** Names of the containers mounting it now. */
  usedBy: string[];
}

export interface ExecResult {
  exitCode: number | null;
  timedOut: boolean;
  /** stdout and stderr, interleaved, at most the last 64 KiB. */
  output: string;
}

/** A file read out of an image (readImageFiles). */
export interface ImageFile {
  /** Its name in the directory (no path). */
  name: string;
  /** Its bytes as UTF-8 text. */
  content: string;
}

export interface ExecOptions {
  env?: Record<string, string>;
  timeoutMs: number;
  /** Each line of output as it arrives (long commands: backups, restores). */
  onOutput?: (line: string) => void;
}

/**
 * The container runtime of the servers this implementation runs (Docker: one engine, one
 * server). Starts name their server in the spec; listings say where each container runs and
 * take a `server` filter; an operation on an existing container names it by ID, which names
 * its server too.
 */
export interface Runtime {
  /** The servers this runtime starts containers on. */
  readonly servers: readonly string[];
  /** Checks the engine answers; throws SLW_HOST_MISSING with a clear message if not. */
  ping(): Promise<void>;
  /** The engine's version and host facts; throws SLW_HOST_MISSING when it does not answer. */
  engineInfo(): Promise<EngineInfo>;
  /** Creates the bridge network replicas join, if missing. */
  ensureNetwork(): Promise<void>;
  build(req: BuildRequest): Promise<ImageInfo>;
  inspectImage(ref: string): Promise<ImageInfo | null>;
  tagImage(ref: string, tag: string): Promise<void>;
  /**
   * Removes every tag of these repositories (`slipway/shop-web`), never forcing: an image goes
   * once its last tag does, and a tag whose image a container still uses is kept and reported.
   */
  removeRepositories(repositories: string[]): Promise<{ removed: string[]; kept: Array<{ tag: string; reason: string }> }>;
  /**
   * Removes one image by content address (`sha256:…`) with every tag it has, never forcing: an
   * image a container (running or stopped) was created from, or a base image builds start from,
   * is kept and the reason reported. A missing image counts as removed.
   */
  removeImage(digest: string): Promise<{ removed: boolean; untagged: string[]; reason?: string }>;
  /**
   * Removes dangling images Slipway built (IMAGE_PROJECT_LABEL; untagged when a newer build took
   * their tag) and build cache beyond `keepBuildCacheBytes`. Never an unlabelled dangling image:
   * the layers of a build in progress (ours, another Slipway's, anyone's) can be dangling for a while.
   */
  pruneBuildLeftovers(keepBuildCacheBytes: number): Promise<{ reclaimedBytes: number }>;
  /** Creates and starts a replica on the network; resolves once it is running (not ready). */
  startReplica(spec: ReplicaSpec): Promise<Replica>;
  inspectReplica(id: string): Promise<Replica | null>;
  listReplicas(filter: ReplicaFilter): Promise<Replica[]>;
  /**
   * The same for read-only views (status, dashboard, stats): may lag behind the engine by the
   * delivery of its change events (milliseconds). Never for deploy decisions.
   */
  listReplicasRecent(filter: ReplicaFilter): Promise<Replica[]>;
  /** SIGTERM, SIGKILL after stopTimeoutMs, then remove the container. Missing container is not an error. */
  stopReplica(id: string, stopTimeoutMs: number): Promise<void>;
  logs(filter: ReplicaFilter, opts: LogOptions): AsyncIterable<LogEntry>;
  /** Log lines of one replica (with `follow`, until it stops or the signal fires): the engine merges replicas that come and go. */
  replicaLogs(replica: Pick<Replica, 'id' | 'name'>, opts: LogOptions): AsyncIterable<LogEntry>;
  /** One reading of a replica's CPU and memory; null when it is gone or not running. Fails after timeoutMs. */
  replicaStats(id: string, timeoutMs: number): Promise<ReplicaStats | null>;
  /** Runs a one-off container to completion (release commands, jobs), streaming its output; removes it afterwards. */
  runOnce(spec: OneOffSpec): Promise<OneOffResult>;
  /**
   * The `.sql` files directly in `dir` of an image (regular files, sorted by name), read without
   * running the image. A missing `dir` (or one that is not a directory) is SLW_NOT_FOUND; more
   * than `maxBytes` of them in all is SLW_TOO_LARGE.
   */
  readImageFiles(image: string, dir: string, opts: { maxBytes: number }): Promise<ImageFile[]>;

  /**
   * The private network of a project's environment (created if missing): every replica,
   * one-off and accessory of it joins it, and reaches the others by name (service and
   * accessory names are DNS aliases there). Other projects and environments cannot reach it.
   */
  ensureEnvNetwork(project: string, env: string): Promise<string>;
  /** Removes that network (environment destroyed, project deleted); a missing one is fine; containers still on it are an error. */
  removeEnvNetwork(project: string, env: string): Promise<void>;
  /** Creates and starts an accessory on its project network (alias: its name), creating its volumes; resolves once it runs. */
  startAccessory(spec: AccessorySpec): Promise<AccessoryContainer>;
  listAccessories(filter: AccessoryFilter): Promise<AccessoryContainer[]>;
  /** Stops (SIGTERM, SIGKILL after the timeout) and removes an accessory container; its volumes stay. Missing is fine. */
  stopAccessory(id: string, stopTimeoutMs: number): Promise<void>;
  /** Runs argv inside a running container (readiness checks); never a shell string. */
  exec(containerId: string, argv: string[], opts: ExecOptions): Promise<ExecResult>;
  /** Volumes Slipway created, with their sizes (`sizes: false`: sizeBytes null, without Docker's disk-usage scan). */
  listVolumes(filter: { project?: string; env?: string; sizes?: boolean }): Promise<VolumeInfo[]>;
  /** Removes one volume by Docker name; refused (removed: false, reason) while a container uses it. Missing counts as removed. */
  removeVolume(name: string): Promise<{ removed: boolean; reason?: string }>;
  /**
   * A volume's content (or one path in it) as a tar stream, read through a container of `image`
   * that is never started (backups of redis, nats and container accessories).
   */
  exportVolume(ref: VolumeRef, opts: { image: string; path?: string }): Promise<Readable>;
  /** Extracts a tar stream into a volume (created when missing; `replace`: emptied first, refused while mounted). */
  importVolume(ref: VolumeRef, tar: Readable, opts: { image: string; replace?: boolean }): Promise<void>;
}
