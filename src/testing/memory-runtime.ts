/**
 * An in-memory container engine (the Runtime port) and readiness probes answering from it, for
 * unit tests of the engine (issue 22). It follows the Docker driver's semantics
 * (src/drivers/docker): runtime-contract.ts holds both to the same cases. Nothing happens by
 * itself except what a test scheduled (`dieAfter`, a scripted one-off's `durationMs`); every
 * call is recorded in `calls` (method and key arguments; containers by name) so a test can
 * assert order, and failures can be injected: starts that fail, replicas that never pass
 * readiness, containers that die, a daemon that does not answer.
 *
 * Docker behaviours it copies that an engine test might not expect:
 * - Replica.image is the image ID (`sha256:…`), not the reference the spec named; a container
 *   of an image the engine does not have fails SLW_RUNTIME (nothing is pulled): `addImage` first.
 * - A replica whose process ended stays listed (`exited`, its exit code, no address) until
 *   stopReplica removes it. stopReplica/stopAccessory take any container (replica or accessory)
 *   by ID, name or unique ID prefix; inspectReplica of an accessory or one-off is null.
 * - Container names are unique among existing containers (an exited one and a running one-off
 *   included): a second create is refused SLW_RUNTIME.
 * - With the daemon down only ping and engineInfo fail SLW_HOST_MISSING; every other call fails
 *   SLW_RUNTIME (`docker: <what>: connect ENOENT …`), as dockerode's errors become through
 *   dockerCall, except ensureEnvNetwork of a network this runtime already ensured (cached).
 * - removeVolume and importVolume(replace) are refused while any container, running or exited
 *   (not yet removed), mounts the volume; exportVolume and importVolume create a missing volume
 *   with the owner's labels. A whole-volume export has a `./` entry and `./…` entries; one of
 *   `path` is named by its last segment.
 * - removeEnvNetwork is refused while a running container is on the network (a stopped one no
 *   longer has an endpoint there).
 * - An export reads through a never-started container that mounts the volume until the stream
 *   closes, and a moment longer (the driver removes it without waiting): a removeVolume or
 *   importVolume(replace) right after an export can be refused. `transientLingerMs` widens that.
 *
 * Where it differs from Docker:
 * - listReplicas sees only this runtime's replicas; Docker's is host-wide (replicas carry no
 *   `slipway.base` label), so another Slipway's replicas of the same project name are listed
 *   there. Accessories and volumes are scoped to one Slipway in both.
 * - listReplicasRecent never lags (Docker's follows events: milliseconds behind).
 * - Addresses are 10.0.0.N, never reused; Docker's come from the environment's /24 and are.
 * - Volumes start empty: Docker copies the image's files at the mount path into an empty volume
 *   on its first mount. Stops are instant (Docker waits up to the stop timeout for the app).
 * - Probes of a gone address answer ECONNREFUSED at once; the real ones may time out or get
 *   EHOSTUNREACH. down() keeps containers running, as Docker with live-restore does (without
 *   it, stopping dockerd stops them).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { SlipwayError, errorMessage } from '../core/errors';
import type { ResourceLimits, VolumeMount } from '../core/config';
import { LOCAL_SERVER } from '../core/servers';
import type { HttpProbe, ProbeResult, TcpProbe } from '../core/ports/probe';
import type {
  AccessoryContainer,
  AccessoryFilter,
  AccessoryLabels,
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
  ReplicaHealth,
  ReplicaLabels,
  ReplicaSpec,
  ReplicaState,
  ReplicaStats,
  Runtime,
  VolumeInfo,
  VolumeRef,
} from '../core/ports/runtime';
import { IMAGE_PROJECT_LABEL } from '../core/ports/runtime';

/** What a started container was asked to be. */
export type StartSpec = ReplicaSpec | AccessorySpec;

/** A scripted command (one-off or exec): its exit code, its output, how long it takes. */
export interface ScriptedCommand {
  exitCode: number | null;
  /** stdout lines, in order. */
  output?: string[];
  /** stderr lines, after the stdout ones. */
  stderr?: string[];
  /** Real milliseconds it runs (Infinity: until its timeout); beyond the timeout it is timed out. */
  durationMs?: number;
}

/** A container as the memory engine keeps it, for tests to look at (env, command, mounts…). */
export interface MemoryContainerView {
  id: string;
  name: string;
  /** `transient`: the never-started container an export reads the volume through. */
  kind: 'replica' | 'accessory' | 'one-off' | 'transient';
  image: string;
  env: Record<string, string>;
  command: string[] | undefined;
  state: ReplicaState;
  address: string | null;
  network: string;
  mounts: Array<{ volume: string; path: string; readOnly: boolean }>;
  healthy: boolean;
}

export interface MemoryImageOptions {
  /** Content address; default: derived from the reference. */
  id?: string;
  sizeBytes?: number;
  labels?: Record<string, string>;
  repoDigests?: string[];
  /** Files in the image (absolute path → text), for readImageFiles. */
  files?: Record<string, string>;
}

export interface MemoryRuntimeOptions {
  /** The base network name (default `slipway`): volume and network names start with it. */
  base?: string;
  /** The server it plays (default `local`). */
  server?: string;
  /** What engineInfo reports (containers and images are counted). */
  engine?: Partial<Omit<EngineInfo, 'containers' | 'containersRunning' | 'images'>>;
  /** Every call waits this long first (real ms; default 0: a macrotask), so races show as with Docker. */
  latencyMs?: number;
  /** How long an export's never-started container outlives its stream (real ms; default 0: a macrotask). */
  transientLingerMs?: number;
}

interface VolumeEntry {
  type: 'file' | 'directory' | 'symlink';
  content: Buffer;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  linkname?: string;
}

interface MemoryVolume {
  name: string;
  ref: VolumeRef;
  createdAt: string;
  rootMode: number;
  /** Path in the volume (`sub/file`, no leading `./`) → entry. */
  files: Map<string, VolumeEntry>;
}

interface MemoryImage {
  id: string;
  sizeBytes: number;
  labels: Record<string, string>;
  repoDigests: string[];
  files: Map<string, string>;
}

interface MemoryContainer {
  id: string;
  name: string;
  kind: MemoryContainerView['kind'];
  image: string;
  env: Record<string, string>;
  command: string[] | undefined;
  replicaLabels?: ReplicaLabels;
  accessoryLabels?: AccessoryLabels;
  port: number;
  network: string;
  address: string | null;
  state: ReplicaState;
  startedAt: string | null;
  exitCode: number | null;
  oomKilled: boolean;
  resources: ResourceLimits;
  mounts: Array<{ volume: string; path: string; readOnly: boolean }>;
  healthy: boolean;
  health: ReplicaHealth;
  logs: LogEntry[];
  timers: NodeJS.Timeout[];
  usageNs: number;
  memoryUsedBytes: number;
  removed: boolean;
}

interface Rule<P, R> {
  matches: P;
  result: R;
  times: number;
}

const BASE_IMAGE_REPOS = ['slipway/node', 'slipway/static', 'slipway/debian'];
const EXEC_OUTPUT_LIMIT = 64 * 1024;
const DEFAULT_TAIL = 100;
const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const noResources = (): ResourceLimits => ({ memoryBytes: null, cpus: null });

/** `repo` → `repo:latest`; a registry port (`host:5000/app`) is not a tag. */
export function normalizeTag(ref: string): string {
  return ref.lastIndexOf(':') > ref.lastIndexOf('/') ? ref : `${ref}:latest`;
}

const repoOf = (tag: string) => tag.slice(0, tag.lastIndexOf(':'));

/** Docker's envArray checks (src/drivers/docker/container-env.ts): refused before any container exists. */
function checkEnv(env: Record<string, string>): void {
  for (const [key, value] of Object.entries(env)) {
    if (key === '' || key.includes('=') || key.includes('\0')) {
      throw new SlipwayError('SLW_RUNTIME', `environment variable name ${JSON.stringify(key)} is invalid (empty, or contains "=" or NUL)`);
    }
    if (value.includes('\0')) throw new SlipwayError('SLW_RUNTIME', `environment variable ${key} contains a NUL character`);
  }
}

/** A comparable key of an RFC 3339 time with up to nine fraction digits (Docker's `since`). */
function timeKey(iso: string): string {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(iso);
  const seconds = m ? Date.parse(`${m[1]}${m[3]}`) / 1000 : NaN;
  if (!m || Number.isNaN(seconds)) throw new SlipwayError('SLW_BAD_REQUEST', `not an ISO time: "${iso}"`);
  return `${String(seconds).padStart(12, '0')}.${(m[2] ?? '').padEnd(9, '0')}`;
}

function filterText(filter: object): string {
  return Object.entries(filter)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
}

function matchesReplica(l: ReplicaLabels, f: ReplicaFilter, server: string): boolean {
  return (
    (f.server === undefined || f.server === server) &&
    (f.project === undefined || l.project === f.project) &&
    (f.service === undefined || l.service === f.service) &&
    (f.env === undefined || l.env === f.env) &&
    (f.release === undefined || l.release === f.release) &&
    (f.deployment === undefined || l.deployment === f.deployment)
  );
}

/** Tar entries sort as Docker walks a directory: parents first, names lexically. */
function walkOrder(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return x.length - y.length;
}

export class MemoryRuntime implements Runtime {
  /** Every call, in order: method and key arguments (containers by name when known). */
  readonly calls: string[] = [];
  /** Every one-off spec run (its container is gone afterwards, as with Docker). */
  readonly oneOffs: OneOffSpec[] = [];
  readonly base: string;
  /** The server it plays, named in every replica and accessory it reports. */
  readonly server: string;
  readonly servers: readonly string[];
  private readonly socketPath = 'memory://docker.sock';
  private readonly latencyMs: number;
  private readonly transientLingerMs: number;
  private readonly engine: Omit<EngineInfo, 'containers' | 'containersRunning' | 'images'>;
  private readonly images = new Map<string, MemoryImage>();
  private readonly tags = new Map<string, string>();
  private readonly containers = new Map<string, MemoryContainer>();
  private readonly volumes = new Map<string, MemoryVolume>();
  private readonly networks = new Map<string, { project: string; env: string }>();
  /** Networks ensured by this runtime: the Docker driver answers them from its cache. */
  private readonly ensured = new Set<string>();
  private readonly startFailures: Array<Rule<(spec: StartSpec) => boolean, Error | undefined>> = [];
  private readonly unhealthyStarts: Array<(spec: StartSpec) => boolean> = [];
  private readonly deaths: Array<{ matches: (spec: StartSpec) => boolean; ms: number; exitCode: (spec: StartSpec) => number; output: (spec: StartSpec) => string[]; oomKilled: boolean }> = [];
  private readonly runScripts: Array<Rule<(spec: OneOffSpec) => boolean, ScriptedCommand | ((spec: OneOffSpec) => ScriptedCommand)>> = [];
  private readonly execScripts: Array<Rule<(argv: string[], container: MemoryContainerView) => boolean, ScriptedCommand | ((argv: string[], container: MemoryContainerView) => ScriptedCommand)>> = [];
  private readonly buildFailures: Array<Rule<(req: BuildRequest) => boolean, string>> = [];
  private readonly changeWaiters = new Set<() => void>();
  private baseNetwork = false;
  private isDown = false;
  private seq = 0;
  private addressSeq = 1;
  private lastLogMs = 0;
  private logSubMs = 0;
  private readonly bootAt = Date.now();

  constructor(opts: MemoryRuntimeOptions = {}) {
    this.base = opts.base ?? 'slipway';
    this.server = opts.server ?? LOCAL_SERVER;
    this.servers = [this.server];
    this.latencyMs = opts.latencyMs ?? 0;
    this.transientLingerMs = opts.transientLingerMs ?? 0;
    this.engine = { version: 'memory-27.0', os: 'Memory Linux', kernel: '6.1.0-memory', cpus: 4, memoryBytes: 8 * 1024 ** 3, liveRestore: true, rootDir: '/var/lib/docker', ...opts.engine };
  }

  /** As Docker's driver: a start on a server this runtime does not play is the caller's bug. */
  private assertServer(server: string, what: string): void {
    if (server !== this.server) throw new SlipwayError('SLW_INTERNAL', `${what}: server "${server}" is not run by this runtime (it runs "${this.server}")`);
  }

  // ---- test helpers -------------------------------------------------------------------

  /** Registers an image under `ref` (a tag moves to it, as with Docker). */
  addImage(ref: string, opts: MemoryImageOptions = {}): ImageInfo {
    const id = opts.id ?? `sha256:${sha256(`image:${ref}`)}`;
    const known = this.images.get(id);
    const image: MemoryImage = known ?? { id, sizeBytes: opts.sizeBytes ?? 1024 * 1024, labels: opts.labels ?? {}, repoDigests: opts.repoDigests ?? [], files: new Map(Object.entries(opts.files ?? {})) };
    this.images.set(id, image);
    if (!ref.startsWith('sha256:')) this.tags.set(normalizeTag(ref), id);
    return this.imageInfo(image);
  }

  /** Starts of matching replicas/accessories fail (`times` of them; default all) with `error` (default Docker's start failure). */
  failStartsOf(matches: (spec: StartSpec) => boolean, error?: Error, opts: { times?: number } = {}): void {
    this.startFailures.push({ matches, result: error, times: opts.times ?? Infinity });
  }

  /** Matching replicas/accessories start unhealthy: MemoryProbe answers 503 (HTTP) or refuses (TCP) until setHealthy. */
  unhealthyStartsOf(matches: (spec: StartSpec) => boolean): void {
    this.unhealthyStarts.push(matches);
  }

  /** Matching containers die `ms` (real time) after they start, with `exitCode` (default 1), having written `output` (stdout lines). */
  dieAfter(matches: (spec: StartSpec) => boolean, ms: number, opts: { exitCode?: number | ((spec: StartSpec) => number); output?: (spec: StartSpec) => string[]; oomKilled?: boolean } = {}): void {
    const code = opts.exitCode ?? 1;
    this.deaths.push({ matches, ms, exitCode: typeof code === 'number' ? () => code : code, output: opts.output ?? (() => []), oomKilled: opts.oomKilled ?? false });
  }

  /** The container's process ends now (137 = killed); it stays listed as exited until removed. */
  kill(ref: string, exitCode = 137, opts: { oomKilled?: boolean } = {}): void {
    const c = this.mustFind(ref);
    if (c.state !== 'running') return;
    c.state = 'exited';
    c.exitCode = exitCode;
    c.oomKilled = opts.oomKilled ?? false;
    c.address = null;
    this.clearTimers(c);
    this.changed();
  }

  /** What MemoryProbe answers for this container: healthy (200 / open) or not (503 / refused). */
  setHealthy(ref: string, healthy: boolean): void {
    this.mustFind(ref).healthy = healthy;
  }

  /** The image HEALTHCHECK verdict Docker would report (Replica.health; default `none`). */
  setHealthcheck(ref: string, health: ReplicaHealth): void {
    this.mustFind(ref).health = health;
    this.changed();
  }

  /** One-offs matching run this script (first match wins; `times` of them); unmatched ones exit 0 at once. */
  scriptRun(matches: (spec: OneOffSpec) => boolean, result: ScriptedCommand | ((spec: OneOffSpec) => ScriptedCommand), opts: { times?: number } = {}): void {
    this.runScripts.push({ matches, result, times: opts.times ?? Infinity });
  }

  /** Execs matching run this script; unmatched ones exit 0 with no output. */
  scriptExec(matches: (argv: string[], container: MemoryContainerView) => boolean, result: ScriptedCommand | ((argv: string[], container: MemoryContainerView) => ScriptedCommand), opts: { times?: number } = {}): void {
    this.execScripts.push({ matches, result, times: opts.times ?? Infinity });
  }

  /** Builds matching fail SLW_BUILD_FAILED with `message`. */
  failBuildsOf(matches: (req: BuildRequest) => boolean, message: string, opts: { times?: number } = {}): void {
    this.buildFailures.push({ matches, result: message, times: opts.times ?? Infinity });
  }

  /** The daemon stops answering (containers keep running, as with live-restore). */
  down(): void {
    this.isDown = true;
  }

  up(): void {
    this.isDown = false;
  }

  /** A line the container writes (followers see it at once). */
  pushLog(ref: string, line: string, stream: 'stdout' | 'stderr' = 'stdout'): LogEntry {
    const c = this.mustFind(ref);
    const entry: LogEntry = { replica: c.name, stream, at: this.logTime(), line };
    c.logs.push(entry);
    this.changed();
    return entry;
  }

  /** What replicaStats reads next: cumulative CPU ns, memory in use. */
  setStats(ref: string, stats: { usageNs?: number; memoryUsedBytes?: number }): void {
    const c = this.mustFind(ref);
    c.usageNs = stats.usageNs ?? c.usageNs;
    c.memoryUsedBytes = stats.memoryUsedBytes ?? c.memoryUsedBytes;
  }

  /** Writes a file at an absolute path inside the container, into the volume mounted there (as a process of it would). */
  writeFile(ref: string, path: string, content: string | Buffer, mode = 0o644): void {
    const { volume, inVolume } = this.volumeAt(this.mustFind(ref), path);
    const parts = inVolume.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!volume.files.has(dir)) volume.files.set(dir, { type: 'directory', content: Buffer.alloc(0), mode: 0o755, uid: 0, gid: 0, mtime: new Date() });
    }
    volume.files.set(inVolume, { type: 'file', content: Buffer.from(content), mode, uid: 0, gid: 0, mtime: new Date() });
  }

  /** A volume's files (path in the volume → bytes), or null when it does not exist. */
  volumeFiles(name: string): Map<string, Buffer> | null {
    const v = this.volumes.get(name);
    if (!v) return null;
    return new Map([...v.files].filter(([, e]) => e.type === 'file').map(([p, e]) => [p, Buffer.from(e.content)]));
  }

  /** A container by ID, name or unique ID prefix (removed ones: null). */
  containerInfo(ref: string): MemoryContainerView | null {
    const c = this.find(ref);
    return c ? this.view(c) : null;
  }

  /** Used by MemoryProbe: who listens at host:port. Accessories answer on every port (their spec names none). */
  answerAt(host: string, port: number): 'healthy' | 'unhealthy' | 'refused' {
    const c = [...this.containers.values()].find((x) => x.state === 'running' && x.address === host && x.kind !== 'one-off');
    if (!c || (c.kind === 'replica' && (c.port === 0 || c.port !== port))) return 'refused';
    return c.healthy ? 'healthy' : 'unhealthy';
  }

  /** Cancels scheduled deaths (call it in a test's `after`). */
  close(): void {
    for (const c of this.containers.values()) this.clearTimers(c);
  }

  // ---- engine -------------------------------------------------------------------------

  async ping(): Promise<void> {
    await this.enter('ping', [], true);
  }

  async engineInfo(): Promise<EngineInfo> {
    await this.enter('engineInfo', [], true);
    const all = [...this.containers.values()];
    return { ...this.engine, containers: all.length, containersRunning: all.filter((c) => c.state === 'running').length, images: this.images.size };
  }

  async ensureNetwork(): Promise<void> {
    await this.enter('ensureNetwork', []);
    this.baseNetwork = true;
  }

  // ---- images -------------------------------------------------------------------------

  async build(req: BuildRequest): Promise<ImageInfo> {
    await this.enter('build', [req.tags[0] ?? '']);
    const [tag] = req.tags;
    if (!tag) throw new SlipwayError('SLW_BUILD_FAILED', 'a build needs at least one tag');
    const failure = this.take(this.buildFailures, (m) => m(req));
    if (failure !== undefined) throw new SlipwayError('SLW_BUILD_FAILED', `docker build of ${tag} failed: ${failure}`);
    let context: Buffer;
    try {
      context = await readFile(req.contextArchive);
    } catch (err) {
      throw new SlipwayError('SLW_BUILD_FAILED', `docker build of ${tag} failed: could not read the build context: ${errorMessage(err)}`);
    }
    // The same context and options give the same image, as Docker's layer cache does.
    const id = `sha256:${sha256(Buffer.concat([context, Buffer.from(JSON.stringify([req.dockerfile, req.buildArgs ?? {}, req.labels ?? {}]))]))}`;
    this.images.set(id, this.images.get(id) ?? { id, sizeBytes: context.length, labels: { ...req.labels }, repoDigests: [], files: new Map() });
    for (const t of req.tags) this.tags.set(normalizeTag(t), id);
    for (const line of [`Step 1/1 : FROM memory (${req.dockerfile})`, `Successfully built ${id.slice(7, 19)}`, ...req.tags.map((t) => `Successfully tagged ${normalizeTag(t)}`)]) req.onOutput?.(line);
    return this.imageInfo(this.images.get(id)!);
  }

  async inspectImage(ref: string): Promise<ImageInfo | null> {
    await this.enter('inspectImage', [ref]);
    const image = this.resolveImage(ref);
    return image ? this.imageInfo(image) : null;
  }

  async tagImage(ref: string, tag: string): Promise<void> {
    await this.enter('tagImage', [ref, tag]);
    if (tag.includes('@')) throw new SlipwayError('SLW_RUNTIME', `cannot tag with a digest reference: ${tag}`);
    const image = this.resolveImage(ref);
    if (!image) throw new SlipwayError('SLW_RUNTIME', `docker: tag ${ref} as ${tag}: No such image: ${ref}`);
    this.tags.set(normalizeTag(tag), image.id);
  }

  async removeRepositories(repositories: string[]): Promise<{ removed: string[]; kept: Array<{ tag: string; reason: string }> }> {
    await this.enter('removeRepositories', [repositories.join(',')]);
    const removed: string[] = [];
    const kept: Array<{ tag: string; reason: string }> = [];
    for (const repo of new Set(repositories)) {
      for (const tag of [...this.tags.keys()].filter((t) => repoOf(t) === repo).sort()) {
        const id = this.tags.get(tag)!;
        const user = this.userOf(id);
        // Docker untags freely while other tags remain; the last reference of a used image needs force.
        if (user && this.tagsOf(id).length === 1) {
          kept.push({ tag, reason: `conflict: unable to remove repository reference "${tag}" (must force) - container ${user.id.slice(0, 12)} is using its referenced image ${id.slice(7, 19)}` });
          continue;
        }
        this.tags.delete(tag);
        if (this.tagsOf(id).length === 0 && !user) this.images.delete(id);
        removed.push(tag);
      }
    }
    return { removed, kept };
  }

  async removeImage(digest: string): Promise<{ removed: boolean; untagged: string[]; reason?: string }> {
    await this.enter('removeImage', [digest]);
    const image = this.resolveImage(digest);
    if (!image) return { removed: true, untagged: [] };
    const tags = this.tagsOf(image.id);
    if (tags.some((t) => BASE_IMAGE_REPOS.includes(repoOf(t)))) return { removed: false, untagged: [], reason: 'a base image builds start from' };
    const user = this.userOf(image.id);
    if (user) return { removed: false, untagged: [], reason: `used by container ${user.name}` };
    for (const t of tags) this.tags.delete(t);
    this.images.delete(image.id);
    return { removed: true, untagged: tags };
  }

  async pruneBuildLeftovers(keepBuildCacheBytes: number): Promise<{ reclaimedBytes: number }> {
    await this.enter('pruneBuildLeftovers', [String(keepBuildCacheBytes)]);
    let reclaimedBytes = 0;
    for (const image of [...this.images.values()]) {
      // As Docker's driver: only images Slipway built (never a build's unlabelled layers).
      if (this.tagsOf(image.id).length > 0 || this.userOf(image.id) || image.labels[IMAGE_PROJECT_LABEL] === undefined) continue;
      this.images.delete(image.id);
      reclaimedBytes += image.sizeBytes;
    }
    return { reclaimedBytes };
  }

  async readImageFiles(image: string, dir: string, opts: { maxBytes: number }): Promise<ImageFile[]> {
    await this.enter('readImageFiles', [image, dir]);
    const found = this.resolveImage(image);
    if (!found) throw new SlipwayError('SLW_RUNTIME', `docker: create a container of ${image} to read ${dir}: No such image: ${image}`);
    const prefix = `${dir.replace(/\/+$/, '')}/`;
    if (found.files.has(prefix.slice(0, -1))) throw new SlipwayError('SLW_NOT_FOUND', `${dir} in the image is not a directory`);
    const inDir = [...found.files].filter(([p]) => p.startsWith(prefix));
    if (inDir.length === 0) throw new SlipwayError('SLW_NOT_FOUND', `the image has no directory ${dir}`);
    const files = inDir.map(([p, content]) => ({ name: p.slice(prefix.length), content })).filter((f) => f.name.endsWith('.sql') && !f.name.includes('/'));
    const total = files.reduce((n, f) => n + Buffer.byteLength(f.content), 0);
    if (total > opts.maxBytes) throw new SlipwayError('SLW_TOO_LARGE', `the .sql files in ${dir} of the image hold more than ${opts.maxBytes} bytes; the migration lint reads at most that`);
    return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  // ---- replicas -----------------------------------------------------------------------

  async startReplica(spec: ReplicaSpec): Promise<Replica> {
    await this.enter('startReplica', [spec.name]);
    this.assertServer(spec.server, `start container ${spec.name}`);
    const { project, env, service } = spec.labels;
    const mounts = this.ensureVolumes({ project, env, owner: service }, spec.volumes ?? []);
    const network = this.ensureEnvNet(project, env);
    const c = this.create({ kind: 'replica', name: spec.name, image: spec.image, env: spec.env, command: spec.command, network, mounts, resources: spec.resources, port: spec.port, replicaLabels: { ...spec.labels } });
    this.start(c, spec, `start container ${spec.name}`);
    return this.toReplica(c);
  }

  async inspectReplica(id: string): Promise<Replica | null> {
    await this.enter('inspectReplica', [this.nameOf(id)]);
    const c = this.find(id);
    return c?.kind === 'replica' ? this.toReplica(c) : null;
  }

  async listReplicas(filter: ReplicaFilter): Promise<Replica[]> {
    await this.enter('listReplicas', [filterText(filter)]);
    return this.replicas(filter);
  }

  async listReplicasRecent(filter: ReplicaFilter): Promise<Replica[]> {
    await this.enter('listReplicasRecent', [filterText(filter)]);
    return this.replicas(filter);
  }

  async stopReplica(id: string, _stopTimeoutMs: number): Promise<void> {
    await this.enter('stopReplica', [this.nameOf(id)]);
    this.remove(id);
  }

  async *logs(filter: ReplicaFilter, opts: LogOptions): AsyncGenerator<LogEntry> {
    await this.enter('logs', [filterText(filter)]);
    yield* this.follow(this.replicas(filter), opts);
  }

  async *replicaLogs(replica: Pick<Replica, 'id' | 'name'>, opts: LogOptions): AsyncGenerator<LogEntry> {
    await this.enter('replicaLogs', [replica.name]);
    yield* this.follow([replica], opts);
  }

  async replicaStats(id: string, _timeoutMs: number): Promise<ReplicaStats | null> {
    await this.enter('replicaStats', [this.nameOf(id)]);
    const c = this.find(id);
    if (!c || c.state !== 'running') return null;
    const systemNs = (Date.now() - this.bootAt + 1) * 1e6 * this.engine.cpus;
    return { at: Date.now(), cpu: { usageNs: c.usageNs, systemNs, onlineCpus: this.engine.cpus }, memoryUsedBytes: c.memoryUsedBytes, memoryLimitBytes: c.resources.memoryBytes ?? this.engine.memoryBytes };
  }

  async runOnce(spec: OneOffSpec): Promise<OneOffResult> {
    await this.enter('runOnce', [spec.kind, spec.name]);
    this.assertServer(spec.server, `run ${spec.name}`);
    const network = this.ensureEnvNet(spec.labels.project, spec.labels.env);
    const c = this.create({ kind: 'one-off', name: spec.name, image: spec.image, env: spec.env, command: spec.argv.length > 0 ? spec.argv : undefined, network, mounts: [], port: 0 });
    this.oneOffs.push(spec);
    const started = Date.now();
    this.run(c);
    try {
      const script = this.take(this.runScripts, (m) => m(spec));
      const result = typeof script === 'function' ? script(spec) : (script ?? { exitCode: 0 });
      for (const line of result.output ?? []) spec.onOutput?.(line, 'stdout');
      for (const line of result.stderr ?? []) spec.onOutput?.(line, 'stderr');
      const duration = result.durationMs ?? 0;
      if (duration >= spec.timeoutMs) {
        await sleep(spec.timeoutMs);
        return { exitCode: null, timedOut: true, durationMs: Date.now() - started };
      }
      if (duration > 0) await sleep(duration);
      return { exitCode: result.exitCode, timedOut: false, durationMs: Date.now() - started };
    } finally {
      this.remove(c.id); // always removed afterwards, as the driver does
    }
  }

  // ---- environment networks, accessories, exec ----------------------------------------

  async ensureEnvNetwork(project: string, env: string): Promise<string> {
    const name = this.envNetworkName(project, env);
    await this.enter('ensureEnvNetwork', [project, env], false, this.ensured.has(name));
    return this.ensureEnvNet(project, env);
  }

  async removeEnvNetwork(project: string, env: string): Promise<void> {
    await this.enter('removeEnvNetwork', [project, env]);
    const name = this.envNetworkName(project, env);
    this.ensured.delete(name);
    if (!this.networks.has(name)) return;
    const users = [...this.containers.values()].filter((c) => c.network === name && c.state === 'running').map((c) => c.name);
    if (users.length > 0) throw new SlipwayError('SLW_RUNTIME', `docker: network ${name} is still used by ${users.join(', ')}: stop them first`);
    this.networks.delete(name);
  }

  async startAccessory(spec: AccessorySpec): Promise<AccessoryContainer> {
    await this.enter('startAccessory', [spec.name]);
    this.assertServer(spec.server, `start accessory ${spec.name}`);
    const { project, env, accessory } = spec.labels;
    const mounts = this.ensureVolumes({ project, env, owner: accessory }, spec.volumes);
    const network = this.ensureEnvNet(project, env);
    const command = spec.command && spec.command.length > 0 ? spec.command : undefined;
    const c = this.create({ kind: 'accessory', name: spec.name, image: spec.image, env: spec.env, command, network, mounts, resources: spec.resources, port: 0, accessoryLabels: { ...spec.labels } });
    this.start(c, spec, `start accessory ${spec.name}`);
    return this.toAccessory(c);
  }

  async listAccessories(filter: AccessoryFilter): Promise<AccessoryContainer[]> {
    await this.enter('listAccessories', [filterText(filter)]);
    return [...this.containers.values()]
      .filter((c) => c.accessoryLabels && (filter.server === undefined || filter.server === this.server) && (!filter.project || c.accessoryLabels.project === filter.project) && (!filter.env || c.accessoryLabels.env === filter.env) && (!filter.accessory || c.accessoryLabels.accessory === filter.accessory))
      .map((c) => this.toAccessory(c))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async stopAccessory(id: string, _stopTimeoutMs: number): Promise<void> {
    await this.enter('stopAccessory', [this.nameOf(id)]);
    this.remove(id); // the same stop-then-remove as a replica; volumes stay
  }

  async exec(containerId: string, argv: string[], opts: ExecOptions): Promise<ExecResult> {
    await this.enter('exec', [this.nameOf(containerId), ...argv]);
    if (argv.length === 0) throw new SlipwayError('SLW_RUNTIME', 'exec: the command is empty');
    checkEnv(opts.env ?? {});
    const c = this.find(containerId);
    const short = containerId.slice(0, 12);
    if (!c) throw new SlipwayError('SLW_RUNTIME', `docker: exec in ${short}: No such container: ${containerId}`);
    if (c.state !== 'running') throw new SlipwayError('SLW_RUNTIME', `docker: exec in ${short}: container ${c.id} is not running`);
    const view = this.view(c);
    const script = this.take(this.execScripts, (m) => m(argv, view));
    const result = typeof script === 'function' ? script(argv, view) : (script ?? { exitCode: 0 });
    const lines = [...(result.output ?? []), ...(result.stderr ?? [])];
    for (const line of lines) opts.onOutput?.(line);
    const output = lines.join('\n').slice(-EXEC_OUTPUT_LIMIT);
    const duration = result.durationMs ?? 0;
    if (duration >= opts.timeoutMs) {
      await sleep(opts.timeoutMs);
      return { exitCode: null, timedOut: true, output };
    }
    if (duration > 0) await sleep(duration);
    return { exitCode: result.exitCode, timedOut: false, output };
  }

  // ---- volumes ------------------------------------------------------------------------

  async listVolumes(filter: { project?: string; env?: string; sizes?: boolean }): Promise<VolumeInfo[]> {
    await this.enter('listVolumes', [filterText({ project: filter.project, env: filter.env })]);
    return [...this.volumes.values()]
      .filter((v) => (!filter.project || v.ref.project === filter.project) && (!filter.env || v.ref.env === filter.env))
      .map((v) => ({
        name: v.name,
        project: v.ref.project,
        env: v.ref.env,
        owner: v.ref.owner,
        volume: v.ref.volume,
        sizeBytes: filter.sizes === false ? null : [...v.files.values()].reduce((n, e) => n + e.content.length, 0),
        createdAt: v.createdAt,
        usedBy: this.usersOf(v.name).map((c) => c.name).sort(),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async removeVolume(name: string): Promise<{ removed: boolean; reason?: string }> {
    await this.enter('removeVolume', [name]);
    if (!this.volumes.has(name)) return { removed: true };
    const users = this.usersOf(name).map((c) => c.name);
    if (users.length > 0) return { removed: false, reason: `volume ${name} is in use by container ${users.join(', ')}` };
    this.volumes.delete(name);
    return { removed: true };
  }

  async exportVolume(ref: VolumeRef, opts: { image: string; path?: string }): Promise<Readable> {
    await this.enter('exportVolume', [`${ref.owner}/${ref.volume}`, ...(opts.path ? [opts.path] : [])]);
    const [mount] = this.ensureVolumes(ref, [{ volume: ref.volume, path: '/slipway-volume', readOnly: false }]);
    this.mustHaveImage(opts.image, `create a container of ${opts.image} to copy volume ${mount!.volume}`);
    const volume = this.volumes.get(mount!.volume)!;
    const entries = this.exportEntries(volume, opts.path);
    const transient = this.create({ kind: 'transient', name: `transient-${this.seq + 1}`, image: opts.image, env: {}, command: ['/slipway-never-started'], network: 'none', mounts: [mount!], port: 0 });
    const pack = tarStream.pack();
    for (const [name, entry] of entries) pack.entry({ name, type: entry.type, mode: entry.mode, uid: entry.uid, gid: entry.gid, mtime: entry.mtime, linkname: entry.linkname }, entry.type === 'file' ? entry.content : Buffer.alloc(0));
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
    const stream = Readable.from([Buffer.concat(chunks)], { objectMode: false });
    stream.once('close', () => setTimeout(() => this.remove(transient.id), this.transientLingerMs));
    return stream;
  }

  async importVolume(ref: VolumeRef, tar: Readable, opts: { image: string; replace?: boolean }): Promise<void> {
    await this.enter('importVolume', [`${ref.owner}/${ref.volume}`, ...(opts.replace ? ['replace'] : [])]);
    const name = this.volumeName(ref, ref.volume);
    if (opts.replace && this.volumes.has(name)) {
      const users = this.usersOf(name);
      if (users.length > 0) throw new SlipwayError('SLW_RUNTIME', `docker: empty volume ${name} before writing it: remove ${name}: volume is in use - [${users.map((c) => c.id).join(', ')}]`);
      this.volumes.delete(name);
    }
    this.ensureVolumes(ref, [{ volume: ref.volume, path: '/slipway-volume', readOnly: false }]);
    this.mustHaveImage(opts.image, `create a container of ${opts.image} to copy volume ${name}`);
    const entries = await this.readTar(tar, name);
    const volume = this.volumes.get(name)!;
    for (const [path, entry] of entries) {
      if (path === '') volume.rootMode = entry.mode;
      else volume.files.set(path, entry);
    }
  }

  // ---- internals ----------------------------------------------------------------------

  /** Records the call, lets the event loop turn, and fails as Docker's driver does when the daemon is down. */
  private async enter(method: string, args: string[], hostMissing = false, cached = false): Promise<void> {
    this.calls.push([method, ...args.filter((a) => a !== '')].join(' '));
    await sleep(this.latencyMs);
    if (!this.isDown || cached) return;
    const reason = `connect ENOENT ${this.socketPath}`;
    if (hostMissing) throw new SlipwayError('SLW_HOST_MISSING', `the Docker engine at ${this.socketPath} does not answer (${reason}): start dockerd or run scripts/bootstrap-host.sh`);
    throw new SlipwayError('SLW_RUNTIME', `docker: ${method}: ${reason}`);
  }

  private changed(): void {
    for (const wake of [...this.changeWaiters]) wake();
    this.changeWaiters.clear();
  }

  private waitForChange(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        signal?.removeEventListener('abort', done);
        this.changeWaiters.delete(done);
        resolve();
      };
      this.changeWaiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Takes the first matching rule's result, counting down its uses. */
  private take<P, R>(rules: Array<Rule<P, R>>, test: (matches: P) => boolean): R | undefined {
    const rule = rules.find((r) => r.times > 0 && test(r.matches));
    if (!rule) return undefined;
    rule.times--;
    return rule.result;
  }

  private imageInfo(image: MemoryImage): ImageInfo {
    return { id: image.id, tags: this.tagsOf(image.id), repoDigests: [...image.repoDigests], sizeBytes: image.sizeBytes, labels: { ...image.labels } };
  }

  private tagsOf(id: string): string[] {
    return [...this.tags].filter(([, i]) => i === id).map(([t]) => t).sort();
  }

  /** A reference as Docker resolves it: full or short ID, `name@digest`, or a tag (`:latest` implied). */
  private resolveImage(ref: string): MemoryImage | undefined {
    if (/^(sha256:)?[0-9a-f]{12,64}$/.test(ref)) {
      const hex = ref.replace(/^sha256:/, '');
      const found = [...this.images.values()].filter((i) => i.id.slice(7).startsWith(hex));
      if (found.length === 1) return found[0];
    }
    if (ref.includes('@')) return [...this.images.values()].find((i) => i.repoDigests.includes(ref));
    const id = this.tags.get(normalizeTag(ref));
    return id ? this.images.get(id) : undefined;
  }

  private mustHaveImage(ref: string, what: string): MemoryImage {
    const image = this.resolveImage(ref);
    if (!image) throw new SlipwayError('SLW_RUNTIME', `docker: ${what}: No such image: ${ref}`);
    return image;
  }

  /** A container created from the image (running or not), which keeps it from being removed. */
  private userOf(imageId: string): MemoryContainer | undefined {
    return [...this.containers.values()].find((c) => c.image === imageId);
  }

  /** By full ID, then name, then unique ID prefix, as Docker resolves container references. */
  private find(ref: string): MemoryContainer | undefined {
    const byId = this.containers.get(ref);
    if (byId) return byId;
    const all = [...this.containers.values()];
    const byName = all.find((c) => c.name === ref.replace(/^\//, ''));
    if (byName) return byName;
    const byPrefix = ref.length > 0 ? all.filter((c) => c.id.startsWith(ref)) : [];
    return byPrefix.length === 1 ? byPrefix[0] : undefined;
  }

  private mustFind(ref: string): MemoryContainer {
    const c = this.find(ref);
    if (!c) throw new Error(`MemoryRuntime: no container ${ref}`);
    return c;
  }

  private nameOf(ref: string): string {
    return this.find(ref)?.name ?? ref;
  }

  private view(c: MemoryContainer): MemoryContainerView {
    return { id: c.id, name: c.name, kind: c.kind, image: c.image, env: { ...c.env }, command: c.command ? [...c.command] : undefined, state: c.state, address: c.address, network: c.network, mounts: c.mounts.map((m) => ({ ...m })), healthy: c.healthy };
  }

  private envNetworkName(project: string, env: string): string {
    return `${this.base}_${project}_${env}`;
  }

  private ensureEnvNet(project: string, env: string): string {
    const name = this.envNetworkName(project, env);
    this.networks.set(name, { project, env });
    this.ensured.add(name);
    return name;
  }

  private volumeName(owner: { project: string; env: string; owner: string }, volume: string): string {
    return `${this.base}_${owner.project}_${owner.env}_${owner.owner}_${volume}`;
  }

  /** Creates missing volumes with their owner (as the driver labels them) and returns the mounts. */
  private ensureVolumes(owner: { project: string; env: string; owner: string }, mounts: VolumeMount[]): MemoryContainer['mounts'] {
    return mounts.map((m) => {
      const o = m.owner ? { ...owner, owner: m.owner } : owner;
      const name = this.volumeName(o, m.volume);
      if (!this.volumes.has(name)) this.volumes.set(name, { name, ref: { project: o.project, env: o.env, owner: o.owner, volume: m.volume }, createdAt: new Date().toISOString(), rootMode: 0o755, files: new Map() });
      return { volume: name, path: m.path, readOnly: m.readOnly };
    });
  }

  private usersOf(volume: string): MemoryContainer[] {
    return [...this.containers.values()].filter((c) => c.mounts.some((m) => m.volume === volume));
  }

  /** The volume mounted at (a parent of) `path` in the container, and the path inside it. */
  private volumeAt(c: MemoryContainer, path: string): { volume: MemoryVolume; inVolume: string } {
    const mount = [...c.mounts].sort((a, b) => b.path.length - a.path.length).find((m) => path.startsWith(`${m.path.replace(/\/+$/, '')}/`));
    if (!mount) throw new Error(`MemoryRuntime: no volume is mounted at ${path} in ${c.name}`);
    if (mount.readOnly) throw new Error(`MemoryRuntime: ${mount.path} is mounted read-only in ${c.name}`);
    return { volume: this.volumes.get(mount.volume)!, inVolume: path.slice(mount.path.replace(/\/+$/, '').length + 1) };
  }

  private create(o: { kind: MemoryContainer['kind']; name: string; image: string; env: Record<string, string>; command: string[] | undefined; network: string; mounts: MemoryContainer['mounts']; resources?: ResourceLimits; port: number; replicaLabels?: ReplicaLabels; accessoryLabels?: AccessoryLabels }): MemoryContainer {
    checkEnv(o.env);
    const image = this.mustHaveImage(o.image, `create container ${o.name}`);
    const taken = [...this.containers.values()].find((c) => c.name === o.name);
    if (taken) {
      throw new SlipwayError('SLW_RUNTIME', `docker: create container ${o.name}: Conflict. The container name "/${o.name}" is already in use by container "${taken.id}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    const id = sha256(`container:${this.base}:${++this.seq}`);
    const c: MemoryContainer = {
      id,
      name: o.name,
      kind: o.kind,
      image: image.id,
      env: { ...o.env },
      command: o.command ? [...o.command] : undefined,
      replicaLabels: o.replicaLabels,
      accessoryLabels: o.accessoryLabels,
      port: o.port,
      network: o.network,
      address: null,
      state: 'created',
      startedAt: null,
      exitCode: null,
      oomKilled: false,
      resources: { ...noResources(), ...o.resources },
      mounts: o.mounts,
      healthy: true,
      health: 'none',
      logs: [],
      timers: [],
      usageNs: 0,
      memoryUsedBytes: 16 * 1024 * 1024,
      removed: false,
    };
    this.containers.set(id, c);
    return c;
  }

  private run(c: MemoryContainer): void {
    const n = ++this.addressSeq;
    c.state = 'running';
    c.address = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
    c.startedAt = new Date().toISOString();
    this.changed();
  }

  /** Starts it, or (failure injected) removes it again and fails as the driver does; then schedules a death. */
  private start(c: MemoryContainer, spec: StartSpec, what: string): void {
    const failure = this.startFailures.find((r) => r.times > 0 && r.matches(spec));
    if (failure) {
      failure.times--;
      this.containers.delete(c.id); // created, failed to start, removed again
      throw failure.result ?? new SlipwayError('SLW_RUNTIME', `docker: ${what}: injected start failure`);
    }
    this.run(c);
    c.healthy = !this.unhealthyStarts.some((m) => m(spec));
    const death = this.deaths.find((d) => d.matches(spec));
    if (!death) return;
    const die = () => {
      for (const line of death.output(spec)) this.pushLog(c.id, line);
      this.kill(c.id, death.exitCode(spec), { oomKilled: death.oomKilled });
    };
    c.timers.push(setTimeout(die, death.ms));
  }

  private remove(ref: string): void {
    const c = this.find(ref);
    if (!c) return; // missing is not an error
    this.clearTimers(c);
    this.containers.delete(c.id);
    c.removed = true;
    c.state = 'removing';
    c.address = null;
    this.changed();
  }

  private clearTimers(c: MemoryContainer): void {
    for (const t of c.timers) clearTimeout(t);
    c.timers = [];
  }

  private replicas(filter: ReplicaFilter): Replica[] {
    return [...this.containers.values()]
      .filter((c) => c.kind === 'replica' && c.replicaLabels && matchesReplica(c.replicaLabels, filter, this.server))
      .map((c) => this.toReplica(c))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  private toReplica(c: MemoryContainer): Replica {
    const running = c.state === 'running';
    return {
      id: c.id,
      server: this.server,
      name: c.name,
      labels: { ...c.replicaLabels! },
      state: c.state,
      address: running ? c.address : null,
      port: c.port,
      image: c.image,
      startedAt: c.startedAt,
      exitCode: running || !c.startedAt ? null : c.exitCode,
      health: c.health,
      restartCount: 0,
      oomKilled: c.oomKilled,
      resources: { ...c.resources },
    };
  }

  private toAccessory(c: MemoryContainer): AccessoryContainer {
    const running = c.state === 'running';
    return { id: c.id, server: this.server, name: c.name, labels: { ...c.accessoryLabels! }, state: c.state, address: running ? c.address : null, image: c.image, startedAt: c.startedAt, exitCode: running || !c.startedAt ? null : c.exitCode, oomKilled: c.oomKilled, resources: { ...c.resources } };
  }

  /** Docker's log times: nanosecond digits, strictly increasing here so a resume point is exact. */
  private logTime(): string {
    const now = Date.now();
    if (now > this.lastLogMs) {
      this.lastLogMs = now;
      this.logSubMs = 0;
    } else this.logSubMs++;
    return new Date(this.lastLogMs).toISOString().replace('Z', `${String(this.logSubMs).padStart(6, '0')}Z`);
  }

  /** The last `tail` lines at or after `since`, interleaved by time; with `follow`, new ones until every container ends. */
  private async *follow(targets: Array<Pick<Replica, 'id' | 'name'>>, opts: LogOptions): AsyncGenerator<LogEntry> {
    const since = opts.since ? timeKey(opts.since) : null;
    const tail = opts.tail ?? DEFAULT_TAIL;
    const watched = targets.map((t) => this.containers.get(t.id) ?? this.find(t.name)).filter((c): c is MemoryContainer => c !== undefined);
    const past = watched.flatMap((c) => {
      const kept = c.logs.filter((e) => since === null || timeKey(e.at) >= since);
      return tail === 'all' ? kept : kept.slice(Math.max(0, kept.length - tail));
    });
    const seen = new Map(watched.map((c) => [c, c.logs.length]));
    for (const e of past.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))) {
      if (opts.signal?.aborted) return;
      yield e;
    }
    if (!opts.follow) return;
    while (!opts.signal?.aborted) {
      const fresh = watched.flatMap((c) => c.logs.slice(seen.get(c)));
      for (const c of watched) seen.set(c, c.logs.length);
      for (const e of fresh.sort((a, b) => (a.at < b.at ? -1 : 1))) yield e;
      if (watched.every((c) => c.removed || c.state !== 'running')) return;
      await this.waitForChange(opts.signal);
    }
  }

  /** The volume's entries as Docker's archive endpoint names them. */
  private exportEntries(volume: MemoryVolume, path: string | undefined): Array<[string, VolumeEntry]> {
    const sorted = [...volume.files].sort(([a], [b]) => walkOrder(a, b));
    const named = (name: string, e: VolumeEntry): [string, VolumeEntry] => [e.type === 'directory' ? `${name}/` : name, e];
    if (!path) {
      const root: VolumeEntry = { type: 'directory', content: Buffer.alloc(0), mode: volume.rootMode, uid: 0, gid: 0, mtime: new Date(0) };
      return [named('.', root), ...sorted.map(([p, e]) => named(`./${p}`, e))];
    }
    const inVolume = path.replace(/^\/+/, '').replace(/\/+$/, '');
    const top = volume.files.get(inVolume);
    if (!top) throw new SlipwayError('SLW_NOT_FOUND', `volume ${volume.name} has no ${path}`);
    const base = inVolume.split('/').pop()!;
    const below = sorted.filter(([p]) => p.startsWith(`${inVolume}/`)).map(([p, e]) => named(`${base}${p.slice(inVolume.length)}`, e));
    return [named(base, top), ...(top.type === 'directory' ? below : [])];
  }

  /** The entries of a tar stream (path in the volume → entry; `''` the root); anything escaping the volume is refused. */
  private async readTar(tar: Readable, volume: string): Promise<Map<string, VolumeEntry>> {
    const extract = tarStream.extract();
    tar.once('error', (err) => extract.destroy(err));
    tar.pipe(extract as unknown as NodeJS.WritableStream);
    const out = new Map<string, VolumeEntry>();
    try {
      for await (const entry of extract) {
        const path = entry.header.name.replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '').replace(/^\.$/, '');
        const chunks: Buffer[] = [];
        for await (const chunk of entry as AsyncIterable<Buffer>) chunks.push(chunk);
        if (path.split('/').includes('..')) throw new Error(`invalid path ${entry.header.name}: it leaves the volume`);
        const type = entry.header.type ?? 'file';
        if (type !== 'file' && type !== 'directory' && type !== 'symlink') continue;
        for (const dir of path.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))) {
          if (!out.has(dir)) out.set(dir, { type: 'directory', content: Buffer.alloc(0), mode: 0o755, uid: 0, gid: 0, mtime: new Date() });
        }
        const h = entry.header;
        out.set(path, { type, content: Buffer.concat(chunks), mode: h.mode & 0o7777, uid: h.uid ?? 0, gid: h.gid ?? 0, mtime: h.mtime ?? new Date(0), ...(type === 'symlink' ? { linkname: h.linkname } : {}) });
      }
    } catch (err) {
      throw new SlipwayError('SLW_RUNTIME', `docker: write volume ${volume}: ${errorMessage(err)}`);
    } finally {
      tar.destroy();
    }
    return out;
  }
}

/**
 * HttpProbe and TcpProbe answering from a MemoryRuntime's containers by address, shaped like
 * the real probes' results: healthy → HTTP 200 / connection open; unhealthy → 503 / refused
 * (readiness never passes); an address where nothing runs (or the wrong port of a replica) →
 * `ECONNREFUSED` with no status.
 */
export class MemoryProbe {
  /** Every probe, in order (`http <url>`, `tcp <host>:<port>`). */
  readonly calls: string[] = [];

  constructor(private readonly runtime: MemoryRuntime) {}

  readonly http: HttpProbe = async (url) => {
    const u = new URL(url);
    this.calls.push(`http ${url}`);
    const answer = this.runtime.answerAt(u.hostname, Number(u.port || (u.protocol === 'https:' ? 443 : 80)));
    if (answer === 'refused') return refused();
    return { ok: answer === 'healthy', status: answer === 'healthy' ? 200 : 503, error: null, durationMs: 0 };
  };

  readonly tcp: TcpProbe = async (host, port) => {
    this.calls.push(`tcp ${host}:${port}`);
    return this.runtime.answerAt(host, port) === 'healthy' ? { ok: true, status: null, error: null, durationMs: 0 } : refused();
  };
}

const refused = (): ProbeResult => ({ ok: false, status: null, error: 'ECONNREFUSED', durationMs: 0 });
