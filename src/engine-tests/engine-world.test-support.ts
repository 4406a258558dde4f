/**
 * A whole engine on in-memory ports for unit tests (issue 22): the real DeployEngine, wired
 * as src/main.ts wires it, over MemoryRuntime + MemoryProbe, MemoryEdge and the real SQLite
 * store in memory. Services deploy prebuilt images (`image:`; addImage), never builds.
 *
 * Why src/engine-tests/: eslint.config.js keeps every layer's test files inside that layer's
 * import boundaries, and no layer may import the engine, the store and src/testing together.
 * This folder is the composition root's kind of test (like main.ts it wires everything), is in
 * no restricted layer, and `npm run test:unit` (`find src …`) runs it. It holds tests only.
 *
 * The Monitor watches the ports while a deployment runs (by wrapping their methods, so it sees
 * every change the moment the engine makes it): which edge servers are in rotation after each
 * edge change, how many replica containers run at once, a replica stopped while still in
 * rotation (invariant 3), a server in rotation whose container is not running and healthy
 * (invariant 2), and starts of one release while another's containers run (recreate).
 */
import assert from 'node:assert/strict';
import pino from 'pino';
import { DeployEngine } from '../engine/deploy-engine';
import type { EngineContext } from '../engine/engine-context';
import { openSqliteStore } from '../store/sqlite-store';
import { MemoryProbe, MemoryRuntime, type MemoryContainerView } from '../testing/memory-runtime';
import { MemoryEdge } from '../testing/memory-edge';
import { MemoryEdgeClient } from '../testing/memory-edge-client';
import { parseProjectConfig, formatErrors, type ParseResult } from '../core/parse-config';
import type { ProjectConfig } from '../core/config';
import type { Deployment } from '../core/domain';
import { backendName, type EdgeServer } from '../core/ports/edge';
import type { ReleaseTraffic } from '../core/ports/release-traffic';
import type { Replica } from '../core/ports/runtime';
import type { SecretCipher } from '../core/ports/secret-cipher';
import type { Store } from '../core/ports/store';

export const PROJECT = 'shop';
export const SERVICE = 'web';
export const ENV = 'production';
export const HOST = 'web.shop.test';
export const PORT = 3000;
export const BACKEND = backendName(PROJECT, SERVICE, ENV);

/** What varies between the tests' slipway.yml files (everything else is fixed and fast). */
export interface ServiceShape {
  /** The image tag of `shop/web` (registered with addImage by deploy()); default `1`. */
  tag?: string;
  replicas?: number;
  /** `replicas: { min: N }` instead of a count (a deploy keeps a higher count set by scale). */
  replicasMin?: number;
  strategy?: 'rolling' | 'recreate' | 'blue-green' | 'canary';
  maxSurge?: number;
  maxUnavailable?: number;
  releaseCommand?: string[];
  /** `environments.production.approval`. */
  approval?: 'required' | 'none';
  /** health.deadline: how long a new replica may take to pass readiness (default 2s). */
  deadline?: string;
  /** deploy.drain_timeout (default 1s). */
  drainTimeout?: string;
  /** release_timeout (default: the schema's, 5m). */
  releaseTimeout?: string;
  /** blue-green: deploy.keep_warm (default: the schema's, 5m). */
  keepWarm?: string;
  /** canary: deploy.steps (default: the schema's, 60 s each). */
  steps?: Array<{ weight: number; pause: string }>;
  /** canary: deploy.analysis fields as written in slipway.yml (`{ interval: '200ms', failure_limit: 2 }`). */
  analysis?: Record<string, string | number>;
  /** deploy.smoke as written in slipway.yml, a flow mapping (`{ requests: [{ path: /api/health }], window: 300ms }`). */
  smoke?: string;
  /** health.liveness, health.fall and health.replace_after (live replica health: replica-health.ts). */
  liveness?: string;
  fall?: number;
  replaceAfter?: string;
}

/** A flow mapping of slipway.yml (`{ a: 1, b: 2s }`). */
const flow = (o: Record<string, string | number>) => `{ ${Object.entries(o).map(([k, v]) => `${k}: ${v}`).join(', ')} }`;

/**
 * slipway.yml of the one web service, with readiness that costs nothing: probes every 5 ms, one
 * success needed, no grace (the engine sleeps only between failed probes and when grace is set).
 */
export function slipwayYml(s: ServiceShape = {}): string {
  const lines = [
    `project: ${PROJECT}`,
    'services:',
    `  ${SERVICE}:`,
    `    image: shop/web:${s.tag ?? '1'}`,
    `    port: ${PORT}`,
    `    domains: [${HOST}]`,
    `    replicas: ${s.replicasMin !== undefined ? `{ min: ${s.replicasMin} }` : (s.replicas ?? 1)}`,
    `    health: { path: /health, interval: 5ms, timeout: 100ms, successes: 1, grace: 0s, deadline: ${s.deadline ?? '2s'}${healthExtras(s)} }`,
    `    deploy: { strategy: ${s.strategy ?? 'rolling'}, max_surge: ${s.maxSurge ?? 1}, max_unavailable: ${s.maxUnavailable ?? 0}, drain_timeout: ${s.drainTimeout ?? '1s'}, stop_timeout: 1s${deployExtras(s)} }`,
  ];
  if (s.releaseCommand) lines.push(`    release_command: ${JSON.stringify(s.releaseCommand)}`);
  if (s.releaseTimeout) lines.push(`    release_timeout: ${s.releaseTimeout}`);
  if (s.approval) lines.push('environments:', `  ${ENV}: { approval: ${s.approval} }`);
  return `${lines.join('\n')}\n`;
}

function healthExtras(s: ServiceShape): string {
  const extra: Record<string, string | number> = {};
  if (s.liveness) extra.liveness = s.liveness;
  if (s.fall !== undefined) extra.fall = s.fall;
  if (s.replaceAfter) extra.replace_after = s.replaceAfter;
  return Object.entries(extra).map(([k, v]) => `, ${k}: ${v}`).join('');
}

function deployExtras(s: ServiceShape): string {
  let out = '';
  if (s.keepWarm) out += `, keep_warm: ${s.keepWarm}`;
  if (s.steps) out += `, steps: [${s.steps.map((st) => flow(st)).join(', ')}]`;
  if (s.analysis) out += `, analysis: ${flow(s.analysis)}`;
  if (s.smoke) out += `, smoke: ${s.smoke}`;
  return out;
}

/** The config validation's verdict on a shape (invalid combinations are refused there). */
export function parseShape(s: ServiceShape = {}): ParseResult {
  return parseProjectConfig(slipwayYml(s), { env: ENV });
}

export function configOf(s: ServiceShape = {}): ProjectConfig {
  const r = parseShape(s);
  if (!r.ok) throw new Error(`test config is invalid: ${formatErrors(r.errors)}`);
  return r.config;
}

/**
 * A SecretCipher that authenticates its context like AES-GCM's AAD (as in
 * engine/accessory-world.test-support.ts): base64(context NUL plaintext), opened only under
 * the same context.
 */
export function testCipher(): SecretCipher {
  return {
    primaryKeyId: () => 'k1',
    holdsKey: (keyId) => keyId === 'k1',
    seal: (plaintext, context) => ({ keyId: 'k1', sealed: Buffer.from(`${context}\0${plaintext}`).toString('base64') }),
    open: (sealed, context) => {
      const text = Buffer.from(sealed, 'base64').toString();
      const at = text.indexOf('\0');
      if (at < 0 || text.slice(0, at) !== context) throw new Error('seal does not open under this context');
      return text.slice(at + 1);
    },
    addPrimaryKey: async () => ({ keyId: 'k1', generated: false }),
    retireOtherKeys: async () => undefined,
  };
}

/** Ports an image deploy never reaches: any call is a test failure, named. */
function unused<T extends object>(port: string): T {
  return new Proxy({} as T, {
    get: (_t, method) => {
      if (method === 'then') return undefined;
      return () => {
        throw new Error(`${port}.${String(method)} was called: these tests deploy prebuilt images only`);
      };
    },
  });
}

interface Sample {
  /** The edge call just made (`addServer web-…`). */
  after: string;
  /** Servers in rotation (ready, weight > 0) right after it. */
  ready: string[];
}

/** Watches the ports during a rollout; reset() starts a new observation. */
export class Monitor {
  samples: Sample[] = [];
  /** Broken invariants seen, as sentences. */
  violations: string[] = [];
  /** Most replica containers of the service running at once. */
  peakRunning = 0;
  /** Replica starts made while a container of another release ran. */
  overlappingStarts = 0;
  private pending: Promise<void> = Promise.resolve();
  /** Replica containers started so far (name → release), to count the running ones synchronously. */
  private readonly started = new Map<string, number>();

  constructor(
    private readonly runtime: MemoryRuntime,
    private readonly edge: MemoryEdge,
  ) {
    this.wrapEdge();
    this.wrapRuntime();
  }

  /** Forgets what was seen and takes the current rotation as the first sample. */
  async reset(): Promise<void> {
    await this.flush();
    this.samples = [];
    this.violations = [];
    this.overlappingStarts = 0;
    this.peakRunning = this.running().length;
    this.sample('reset');
    await this.flush();
  }

  /** Waits for the samples taken so far to be recorded. */
  async flush(): Promise<void> {
    await this.pending;
  }

  /** The fewest servers in rotation in any sample. */
  get minReady(): number {
    return Math.min(...this.samples.map((s) => s.ready.length));
  }

  private running(): MemoryContainerView[] {
    return [...this.started.keys()].map((n) => this.runtime.containerInfo(n)).filter((c): c is MemoryContainerView => c?.state === 'running');
  }

  /**
   * The backend's servers right now: MemoryEdge.listServers is async but reads its state
   * synchronously when called, so the promise carries this moment's rotation. The containers
   * are read now too, and both are judged when the promise settles (in call order).
   */
  private sample(after: string): void {
    const servers = this.edge.listServers(BACKEND).catch(() => [] as EdgeServer[]);
    const containers = new Map(this.running().map((c) => [c.name, c]));
    this.pending = this.pending.then(async () => {
      const inRotation = (await servers).filter((s) => s.state === 'ready' && s.weight > 0);
      for (const s of inRotation) {
        const c = containers.get(s.name);
        if (!c || !c.healthy || c.address !== s.address) this.violations.push(`after ${after}: ${s.name} is in rotation but its container is ${c ? (c.healthy ? `at ${c.address}` : 'unhealthy') : 'not running'}`);
      }
      this.samples.push({ after, ready: inRotation.map((s) => s.name).sort() });
    });
  }

  private wrapEdge(): void {
    const edge = this.edge;
    for (const method of ['addServer', 'drainServer', 'removeServer', 'setWeights'] as const) {
      const original = edge[method].bind(edge) as (...args: unknown[]) => Promise<unknown>;
      (edge as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
        const result = original(...args);
        const target = args[1];
        this.sample(`${method} ${typeof target === 'string' ? target : ((target as { name?: string } | undefined)?.name ?? '')}`.trim());
        return result;
      };
    }
  }

  private wrapRuntime(): void {
    const runtime = this.runtime;
    const startReplica = runtime.startReplica.bind(runtime);
    runtime.startReplica = async (spec) => {
      if (this.running().some((c) => this.started.get(c.name) !== spec.labels.release)) this.overlappingStarts++;
      const replica = await startReplica(spec);
      this.started.set(replica.name, spec.labels.release);
      this.peakRunning = Math.max(this.peakRunning, this.running().length);
      return replica;
    };
    const stopReplica = runtime.stopReplica.bind(runtime);
    runtime.stopReplica = async (id, timeoutMs) => {
      const name = runtime.containerInfo(id)?.name;
      // Invariant 3: drained at the edge (out of rotation) before SIGTERM.
      const server = name ? this.edge.listServers(BACKEND).then((l) => l.find((s) => s.name === name)).catch(() => undefined) : Promise.resolve(undefined);
      this.pending = this.pending.then(async () => {
        const s = await server;
        if (s && s.state === 'ready') this.violations.push(`${name} was stopped while in rotation at the edge`);
      });
      return stopReplica(id, timeoutMs);
    };
  }
}

export interface EngineWorld {
  runtime: MemoryRuntime;
  probe: MemoryProbe;
  edge: MemoryEdge;
  /** Smoke requests through the edge (EngineContext.edgeClient); `answer()` scripts what replicas answer. */
  edgeClient: MemoryEdgeClient;
  store: Store;
  ctx: EngineContext;
  engine: DeployEngine;
  monitor: Monitor;
  /** Starts a deploy of the shape (its image registered first) as the API does; resolves once it is recorded (running or awaiting approval). */
  start(s?: ServiceShape): Promise<Deployment>;
  /** Waits for a deployment this engine runs to end; its record from the store. */
  settle(id: string): Promise<Deployment>;
  /** start() then settle(). */
  deploy(s?: ServiceShape): Promise<Deployment>;
  /** The service's replica containers, any state, by name. */
  replicas(): Promise<Replica[]>;
  /** The backend's edge servers, by name. */
  servers(): Promise<EdgeServer[]>;
  /** The number of the live release, or null. */
  liveRelease(): Promise<number | null>;
  /** The store ids of the service and the environment (after its first deploy). */
  ids(): Promise<{ serviceId: number; environmentId: number }>;
  /** The deployment's log lines. */
  logs(id: string): Promise<string[]>;
  close(): Promise<void>;
}

export interface EngineWorldOptions {
  /** EngineContext.traffic: request figures per release (canary analysis); absent, as with request metrics off. */
  traffic?: ReleaseTraffic;
}

export async function engineWorld(opts: EngineWorldOptions = {}): Promise<EngineWorld> {
  const logger = pino({ level: 'silent' });
  const store = await openSqliteStore({ file: ':memory:', logger });
  await store.migrate();
  const runtime = new MemoryRuntime();
  const probe = new MemoryProbe(runtime);
  const edge = new MemoryEdge();
  // main.ts has the edge supervisor start the edge before the engine runs.
  await edge.ensureRunning();
  const monitor = new Monitor(runtime, edge);
  const edgeClient = new MemoryEdgeClient(edge, runtime);
  const ctx: EngineContext = {
    store,
    runtime,
    edge,
    probe: probe.http,
    tcpProbe: probe.tcp,
    cipher: testCipher(),
    sources: unused('sources'),
    git: unused('git'),
    contexts: unused('contexts'),
    logger: logger.child({ component: 'engine' }),
    edgeClient,
    ...(opts.traffic ? { traffic: opts.traffic } : {}),
  };
  const engine = new DeployEngine(ctx);
  const ids = async () => {
    const project = await store.getProject(PROJECT);
    const service = project ? await store.getService(project.id, SERVICE) : null;
    const env = project ? await store.getEnvironment(project.id, ENV) : null;
    return service && env ? { serviceId: service.id, environmentId: env.id } : null;
  };
  const world: EngineWorld = {
    runtime,
    probe,
    edge,
    edgeClient,
    store,
    ctx,
    engine,
    monitor,
    async start(s = {}) {
      runtime.addImage(`shop/web:${s.tag ?? '1'}`);
      return engine.deploy({ config: configOf(s), service: SERVICE, env: ENV, source: null, unrestricted: true, triggeredBy: 'test' });
    },
    async settle(id) {
      await engine.settled([id]);
      await monitor.flush();
      const d = await store.getDeployment(id);
      if (!d) throw new Error(`deployment ${id} is not in the store`);
      return d;
    },
    async deploy(s = {}) {
      return world.settle((await world.start(s)).id);
    },
    replicas: () => runtime.listReplicas({ project: PROJECT, service: SERVICE, env: ENV }),
    servers: async () => (await edge.listServers(BACKEND)).sort((a, b) => a.name.localeCompare(b.name)),
    async liveRelease() {
      const k = await ids();
      const id = k ? await store.getCurrentReleaseId(k.serviceId, k.environmentId) : null;
      return id === null ? null : ((await store.getRelease(id))?.number ?? null);
    },
    async ids() {
      const k = await ids();
      if (!k) throw new Error(`${SERVICE} in ${ENV} is not in the store yet`);
      return k;
    },
    logs: async (id) => (await store.listLogs(id)).map((l) => l.message),
    async close() {
      await engine.idle();
      runtime.close();
      await store.close();
    },
  };
  return world;
}

/**
 * Resolves once `check` holds, looking after every turn of the event loop (the memory ports
 * answer in a macrotask); fails after `ms` naming what it waited for.
 */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`waited ${ms} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Names, sorted (replicas, edge servers). */
export const names = (xs: Array<{ name: string }>) => xs.map((x) => x.name).sort();

/**
 * The service is exactly `replicas` running containers of `release`, each one a ready server of
 * the backend at weight 1 at its address (and nothing else is a server), and `release` is the
 * live release in the store. Returns the servers' names; callers add how traffic reaches them.
 */
export async function assertReleaseServes(w: EngineWorld, release: number, replicas: number): Promise<string[]> {
  const containers = await w.replicas();
  assert.deepEqual(containers.map((r) => [r.labels.release, r.state]), Array.from({ length: replicas }, () => [release, 'running']), `containers: only v${release}, all running: ${JSON.stringify(containers.map((r) => [r.name, r.state]))}`);
  const servers = await w.servers();
  assert.deepEqual(names(servers), names(containers), "edge servers = the release's running replicas");
  for (const s of servers) {
    const c = containers.find((r) => r.name === s.name)!;
    assert.deepEqual([s.state, s.weight, s.address, s.port], ['ready', 1, c.address, PORT], `server ${s.name}`);
  }
  assert.equal(await w.liveRelease(), release, 'live release in the store');
  return names(servers);
}

/** `count` requests through the edge are all answered, round robin reaching every one of `servers`. */
export function assertRoundRobin(w: EngineWorld, servers: string[], count: number): void {
  const answered = Array.from({ length: count }, () => w.edge.route(HOST));
  assert.ok(answered.every((a) => a.status === 200), 'every request is answered');
  assert.deepEqual([...new Set(answered.map((a) => a.server!))].sort(), servers, 'round robin reaches every replica');
}
