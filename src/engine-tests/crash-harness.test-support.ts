/**
 * A crash at every step (issue 22 item 3): runs one deployment of the real DeployEngine on the
 * in-memory ports (engine-world.test-support.ts) and kills it after its k-th port call, then
 * boots a new control plane on the same store, runtime and edge as src/main.ts does, and
 * reports every invariant of shared/DESIGN.md the result breaks.
 *
 * How the crash is simulated, without touching production code: the crashed engine gets its
 * own EngineContext whose store, runtime, edge and probes are Proxies over the real ones (a
 * CrashGate). The gate counts every runtime and edge method call and every mutating store call
 * (reads of the store are not steps: they change nothing). Call k goes through; from then on
 * every call of that engine, reads and probes included, rejects before it reaches a port, so
 * nothing the abandoned engine does afterwards (its error paths, undo, lease release, timers:
 * the heartbeat, readiness sleeps, a canary's tick) can change anything, as with a killed
 * process. Calls already sent when the crash happens (call k, or calls running in parallel)
 * complete, as a request Docker or HAProxy had received would. Rejecting rather than hanging
 * lets the dead engine unwind and clear its timers, so the test process ends cleanly.
 *
 * The boot is main.ts's, in its order, on a fresh EngineContext over the unwrapped ports: the
 * edge supervisor adopts the running edge (the edge outlives the control plane), a new
 * DeployEngine, recoverAfterRestart, one tick of the warm-set retirer (main starts it on a 1 s
 * interval), then the reconciler's boot pass and the repairs it started (main waits for them
 * before /readyz says ready). The lease is not touched by the test: recovery takes over the
 * lease of each interrupted deployment by renewing it under the same holder (the deployment
 * id) and releases it when done; a lease with no deployment behind it would wait for its TTL.
 */
import assert from 'node:assert/strict';
import pino from 'pino';
import { DeployEngine } from '../engine/deploy-engine';
import type { EngineContext } from '../engine/engine-context';
import { recoverAfterRestart, type RecoveryReport } from '../engine/recovery';
import { Reconciler, type ReconcilePass } from '../engine/reconciler';
import { EdgeSupervisor } from '../engine/edge-supervisor';
import { WarmSetRetirer } from '../engine/warm-set-retirer';
import { serviceLeaseKey } from '../engine/service-lease';
import { readWarmSet } from '../engine/warm-sets';
import { isExpired, type WarmSet } from '../core/warm-set';
import { parseProjectConfig, formatErrors } from '../core/parse-config';
import type { ProjectConfig } from '../core/config';
import { isTerminal, type Deployment } from '../core/domain';
import type { ReleaseTraffic } from '../core/ports/release-traffic';
import { errorMessage } from '../core/errors';
import { BACKEND, ENV, HOST, PORT, PROJECT, SERVICE, engineWorld, type EngineWorld } from './engine-world.test-support';

export type Strategy = 'rolling' | 'recreate' | 'blue-green' | 'canary';

export interface CrashShape {
  strategy: Strategy;
  replicas: number;
  maxSurge: number;
  maxUnavailable: number;
  /** blue-green: deploy.keep_warm (default 0s: the previous set is retired right after the flip). */
  keepWarm?: string;
  /**
   * canary: the control plane has request metrics (EngineContext.traffic, a port with no figures
   * yet). Without them the engine rolls a canary release out like `rolling` (canary.ts).
   */
  metrics?: boolean;
  /** A failing deploy: the n-th start of a v2 replica fails (SLW_RUNTIME), so v2 is undone and fails. */
  failV2Start?: number;
  /**
   * Post-deploy smoke checks (one request, window 0s: one round): `pass`, or `fail` (v2's answer
   * is 500 through the edge, so v2 takes traffic, then its smoke check rolls it back).
   */
  smoke?: 'pass' | 'fail';
}

export function describeShape(s: CrashShape): string {
  const extra = s.strategy === 'blue-green' ? `, keep_warm ${s.keepWarm ?? '0s'}` : s.strategy === 'canary' ? (s.metrics ? ', with request metrics' : ', request metrics off') : '';
  const fails = s.failV2Start ? `, start ${s.failV2Start} of v2 fails` : '';
  const smoke = s.smoke ? `, smoke checks ${s.smoke === 'pass' ? 'pass' : 'fail on v2'}` : '';
  return `${s.strategy}, replicas ${s.replicas}, max_surge ${s.maxSurge}, max_unavailable ${s.maxUnavailable}${extra}${fails}${smoke}`;
}

/** slipway.yml of the one web service (readiness costs nothing: one probe, no grace), at image tag `tag`. */
export function crashYml(s: CrashShape, tag: number): string {
  const deploy = [`strategy: ${s.strategy}`, `max_surge: ${s.maxSurge}`, `max_unavailable: ${s.maxUnavailable}`, 'drain_timeout: 1s', 'stop_timeout: 1s'];
  if (s.strategy === 'blue-green') deploy.push(`keep_warm: ${s.keepWarm ?? '0s'}`);
  // One step of no pause: the step loop's one tick (200 ms), no analysis window is judged.
  if (s.strategy === 'canary') deploy.push('steps: [{ weight: 50, pause: 0s }]');
  if (s.smoke) deploy.push('smoke: { requests: [{ path: /health, expect: 200 }], window: 0s }');
  return [
    `project: ${PROJECT}`,
    'services:',
    `  ${SERVICE}:`,
    `    image: shop/web:${tag}`,
    `    port: ${PORT}`,
    `    domains: [${HOST}]`,
    `    replicas: ${s.replicas}`,
    '    health: { path: /health, interval: 5ms, timeout: 100ms, successes: 1, grace: 0s, deadline: 2s }',
    `    deploy: { ${deploy.join(', ')} }`,
    '',
  ].join('\n');
}

const parsed = new Map<string, ProjectConfig>();

/** The shape's parsed slipway.yml at `tag` (parsed once: hundreds of runs ask for the same few; each gets its own copy). */
export function crashConfig(s: CrashShape, tag: number): ProjectConfig {
  const yml = crashYml(s, tag);
  let config = parsed.get(yml);
  if (!config) {
    const r = parseProjectConfig(yml, { env: ENV });
    if (!r.ok) throw new Error(`test config is invalid: ${formatErrors(r.errors)}`);
    config = r.config;
    parsed.set(yml, config);
  }
  return structuredClone(config);
}

/** v2 never goes live uncrashed: a start of it fails, or its smoke check does. */
export function v2Fails(s: CrashShape): boolean {
  return Boolean(s.failV2Start) || s.smoke === 'fail';
}

export function validShape(s: CrashShape): boolean {
  return parseProjectConfig(crashYml(s, 1), { env: ENV }).ok;
}

/** Request metrics that have no figures (yet): what canary analysis reads; no window is judged with pause 0s. */
const noFigures: ReleaseTraffic = { window: () => null };

// ---------------------------------------------------------------------------------------------
// The crash gate

/** `edgeClient`: smoke requests through the edge; like probes they change nothing, so they are not counted (refused after the crash). */
type PortName = 'store' | 'runtime' | 'edge' | 'probe' | 'edgeClient';

/** Store methods that only read (everything else writes). */
const STORE_READ = /^(get|list|latest|due|outboxBacklog)/;

export class CrashGate {
  /** Counted calls that went through, in order (`edge.addServer shop_web_production/…`). */
  readonly calls: string[] = [];
  /** The first call refused after the crash: the step the crash cut; null if none came. */
  cut: string | null = null;
  /** Calls the dead engine attempted after the crash (all refused). */
  refused = 0;
  crashed = false;
  private readonly inflight = new Set<Promise<unknown>>();
  private wake: () => void = () => undefined;
  /** Resolves when the crash happens. */
  readonly crash: Promise<void>;

  /** `limit`: crash right after this many counted calls (Infinity: never). */
  constructor(readonly limit: number) {
    this.crash = new Promise((resolve) => (this.wake = resolve));
  }

  get count(): number {
    return this.calls.length;
  }

  /** Waits for the calls that had reached a port when the crash happened. */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /** A Proxy of `target` whose methods go through the gate (bound to the target: the store has #private fields). */
  wrap<T extends object>(target: T, port: Exclude<PortName, 'probe'>): T {
    return new Proxy(target, {
      get: (t, prop) => {
        const value: unknown = Reflect.get(t, prop, t);
        if (typeof value !== 'function' || typeof prop === 'symbol') return value;
        const fn = value as (...args: unknown[]) => unknown;
        return (...args: unknown[]) => this.call(port, prop, args, () => fn.apply(t, args));
      },
    });
  }

  /** A probe function through the gate (not counted: it changes nothing; refused after the crash). */
  wrapFn<F extends (...args: never[]) => Promise<unknown>>(fn: F): F {
    return ((...args: Parameters<F>) => this.call('probe', 'probe', args, () => fn(...args))) as F;
  }

  private call(port: PortName, method: string, args: unknown[], invoke: () => unknown): unknown {
    const label = `${port}.${method}${describeArgs(args)}`;
    if (this.crashed) {
      this.refused++;
      this.cut ??= label;
      const err = new Error(`the control plane crashed (${label} never ran)`);
      if (method === 'logs' || method === 'replicaLogs') return failingIterable(err);
      if (method === 'watch') return { stop: () => undefined };
      return Promise.reject(err);
    }
    const counted = port === 'runtime' || port === 'edge' || (port === 'store' && !STORE_READ.test(method));
    const result = invoke();
    if (result instanceof Promise) {
      const tracked = result.then(
        () => undefined,
        () => undefined,
      );
      this.inflight.add(tracked);
      void tracked.finally(() => this.inflight.delete(tracked));
    }
    if (counted) {
      this.calls.push(label);
      if (this.calls.length >= this.limit) {
        this.crashed = true;
        this.wake();
      }
    }
    return result;
  }
}

/** What `runtime.logs` gives a dead engine: an iterable whose first step fails. */
function failingIterable(err: Error): AsyncIterable<never> {
  return { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(err) }) };
}

function describeArgs(args: unknown[]): string {
  const parts = args.map(describeArg).filter((p) => p !== '');
  return parts.length > 0 ? ` ${parts.join(' ')}` : '';
}

function describeArg(a: unknown): string {
  if (typeof a === 'string') {
    if (/^[0-9a-f]{8}-[0-9a-f]{4}-/.test(a)) return `<${a.slice(0, 8)}>`;
    return JSON.stringify(a.length > 70 ? `${a.slice(0, 70)}…` : a);
  }
  if (typeof a === 'number' || typeof a === 'boolean') return String(a);
  if (Array.isArray(a)) return `[${a.map(describeArg).join(',')}]`;
  if (a && typeof a === 'object') {
    const o = a as Record<string, unknown>;
    if (typeof o.name === 'string' && typeof o.weight === 'number') return `${o.name}=${o.weight}`;
    if (typeof o.name === 'string') return o.name;
    if (typeof o.state === 'string') return `state=${o.state}`;
    if ('releaseId' in o) return `releaseId=${String(o.releaseId)}`;
    return '';
  }
  return '';
}

// ---------------------------------------------------------------------------------------------
// A crash run

export interface BootReport {
  recovery: RecoveryReport;
  reconcile: ReconcilePass;
  repairs: string[];
}

export interface CrashOutcome {
  shape: CrashShape;
  k: number;
  /** Counted calls the crashed engine made (k, or fewer when the deployment ended first). */
  made: number;
  /** The last call that ran before the crash, and the first one it cut. */
  last: string | null;
  cut: string | null;
  /** How the deploy request ended for its caller (the API): the deployment, or the error. */
  request: string;
  boot: BootReport | null;
  /** Broken invariants after the boot (and after the next deploy), as sentences. */
  violations: string[];
  /** The state the boot left, for the report. */
  state: string;
}

const logger = pino({ level: 'silent' });

async function ids(w: EngineWorld): Promise<{ serviceId: number; environmentId: number }> {
  const project = (await w.store.getProject(PROJECT))!;
  const service = (await w.store.getService(project.id, SERVICE))!;
  const env = (await w.store.getEnvironment(project.id, ENV))!;
  return { serviceId: service.id, environmentId: env.id };
}

function request(s: CrashShape, tag: number) {
  return { config: crashConfig(s, tag), service: SERVICE, env: ENV, source: null, unrestricted: true, triggeredBy: 'test' } as const;
}

/** Deploys `tag` with `engine` to its end; the stored deployment. */
async function deployWith(w: EngineWorld, engine: DeployEngine, s: CrashShape, tag: number): Promise<Deployment> {
  w.runtime.addImage(`shop/web:${tag}`);
  const d = await engine.deploy(request(s, tag));
  await engine.settled([d.id]);
  return (await w.store.getDeployment(d.id))!;
}

/** The v2 image on the host (before the request, as `docker load` would), and the plan's start failure. */
function prepareV2(w: EngineWorld, s: CrashShape): void {
  const image = w.runtime.addImage('shop/web:2');
  // By image too: v2's replicas answer 500 through the edge (their readiness probes pass).
  if (s.smoke === 'fail') w.edgeClient.answer(({ replica }) => (w.runtime.containerInfo(replica)?.image === image.id ? { status: 500 } : undefined));
  if (!s.failV2Start) return;
  let starts = 0;
  // By image, not release number: a crash before v2's release was recorded makes the next deploy v2.
  w.runtime.failStartsOf((spec) => spec.image === image.id && 'release' in spec.labels && ++starts === s.failV2Start);
}

/** A world serving v1 of the shape (deployed cleanly), watched by the Monitor from there on. */
async function servingV1(s: CrashShape): Promise<EngineWorld> {
  const w = await engineWorld();
  const engine = new DeployEngine(contextFor(w, s));
  const d = await deployWith(w, engine, s, 1);
  assert.equal(d.state, 'succeeded', `v1 deploy: ${d.error}`);
  await w.monitor.reset();
  return w;
}

function contextFor(w: EngineWorld, s: CrashShape): EngineContext {
  // A new object per control plane, as main.ts builds one per process.
  return { ...w.ctx, ...(s.strategy === 'canary' && s.metrics ? { traffic: noFigures } : {}) };
}

/**
 * Serves v1, then deploys v2 with an engine that crashes right after its k-th counted call,
 * boots a new control plane, checks the invariants, and deploys v3 to check the service is free.
 */
export async function crashRun(s: CrashShape, k: number): Promise<CrashOutcome> {
  const w = await servingV1(s);
  try {
    const edgeBefore = await w.edge.status();
    const gate = new CrashGate(k);
    const base = contextFor(w, s);
    const crashing: EngineContext = {
      ...base,
      store: gate.wrap(w.store, 'store'),
      runtime: gate.wrap(w.runtime, 'runtime'),
      edge: gate.wrap(w.edge, 'edge'),
      probe: gate.wrapFn(w.ctx.probe),
      ...(w.ctx.tcpProbe ? { tcpProbe: gate.wrapFn(w.ctx.tcpProbe) } : {}),
      ...(base.edgeClient ? { edgeClient: gate.wrap(base.edgeClient, 'edgeClient') } : {}),
    };
    const dead = new DeployEngine(crashing);
    prepareV2(w, s);
    // The API's request: resolves with the deployment once it is recorded, or fails.
    const asked = dead.deploy(request(s, 2)).then(
      (d) => ({ ok: true as const, d }),
      (err: unknown) => ({ ok: false as const, err }),
    );
    const ran = asked.then(async (r) => {
      if (r.ok) await dead.settled([r.d.id]);
    });
    await Promise.race([gate.crash, ran]);
    const answer = await asked;
    // What had reached Docker or HAProxy when the process died completes there.
    await gate.settled();
    const made = gate.count;
    const last = gate.calls.at(-1) ?? null;

    const boot = await bootControlPlane(w, s);
    const violations = await checkInvariants(w, v2Fails(s) ? [1] : [1, 2]);
    const state = await describeState(w);
    const monitorAfterBoot = [...(await monitorViolations(w))];
    violations.push(...monitorAfterBoot.map((v) => `DESIGN invariant 2/3 during the crashed deploy or the boot: ${v}`));
    // Invariant 1: the edge was neither stopped nor restarted (the boot adopted it).
    const edgeAfter = await w.edge.status();
    if (!edgeAfter.running || edgeAfter.pid !== edgeBefore.pid) violations.push(`DESIGN invariant 1: the edge ${edgeAfter.running ? `was restarted (pid ${edgeBefore.pid} → ${edgeAfter.pid})` : 'is not running'}`);
    // The abandoned engine must have stopped acting (timers included): nothing of it runs on.
    if (!(await settlesWithin(dead.idle(), 5000))) violations.push('the crashed engine was still running 5 s after the crash');

    // The service is free: the next deploy (a new holder of the lease) starts and succeeds.
    await w.monitor.reset();
    violations.push(...(await nextDeploy(w, s)));
    return {
      shape: s,
      k,
      made,
      last,
      cut: gate.cut,
      request: answer.ok ? `deployment ${answer.d.id.slice(0, 8)} accepted` : `refused: ${errorMessage(answer.err)}`,
      boot,
      violations,
      state,
    };
  } finally {
    await w.close();
  }
}

async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The counted calls of an uncrashed v2 deploy of the shape (a gate that never closes), in order. */
export async function measureCalls(s: CrashShape): Promise<{ total: number; calls: string[] }> {
  const w = await servingV1(s);
  try {
    const gate = new CrashGate(Number.POSITIVE_INFINITY);
    const base = contextFor(w, s);
    const engine = new DeployEngine({ ...base, store: gate.wrap(w.store, 'store'), runtime: gate.wrap(w.runtime, 'runtime'), edge: gate.wrap(w.edge, 'edge') });
    prepareV2(w, s);
    const d = await deployWith(w, engine, s, 2);
    assert.equal(d.state, s.failV2Start ? 'failed' : s.smoke === 'fail' ? 'rolled_back' : 'succeeded', `uncrashed v2 deploy: ${d.error}`);
    await gate.settled();
    return { total: gate.count, calls: [...gate.calls] };
  } finally {
    await w.close();
  }
}

/** src/main.ts's boot after a crash, in its order, on the same store, runtime and edge (stop-and-start.test.ts crashes stops and starts with it too). */
export async function bootControlPlane(w: EngineWorld, s: CrashShape): Promise<BootReport> {
  const ctx = contextFor(w, s);
  const supervisor = new EdgeSupervisor(ctx, { logger });
  await supervisor.start();
  try {
    const engine = new DeployEngine(ctx);
    const recovery = await recoverAfterRestart(ctx, engine.events);
    const warmSets = new WarmSetRetirer(ctx, engine.events);
    await warmSets.tick(new Date());
    const repairs: string[] = [];
    const reconciler = new Reconciler(
      ctx,
      {
        repair: async (ref, triggeredBy, sick) => {
          const d = await engine.repair(ref, triggeredBy, sick);
          if (d) repairs.push(d.id);
          return d;
        },
      },
      { intervalMs: 5000, logger },
    );
    const reconcile = await reconciler.pass();
    await engine.settled(repairs);
    return { recovery, reconcile, repairs };
  } finally {
    await supervisor.stop();
  }
}

async function monitorViolations(w: EngineWorld): Promise<string[]> {
  await w.monitor.flush();
  return [...w.monitor.violations];
}

/**
 * The invariants after a boot: exactly one live release (one of `allowed`), fully live (its
 * `replicas` replicas running and healthy, each a ready server of the backend at its address,
 * nothing else in rotation, every request answered); no replica of another release except a
 * warm set the design keeps (blue-green keep_warm: running, out of rotation, not expired); no
 * deployment in a non-final state, and the newest deploy's recorded outcome matches the live
 * release; the service lease free.
 */
export async function checkInvariants(w: EngineWorld, allowed: number[]): Promise<string[]> {
  const v: string[] = [];
  const { serviceId, environmentId } = await ids(w);
  const live = await w.liveRelease();
  if (live === null || !allowed.includes(live)) v.push(`the live release is ${live === null ? 'none' : `v${live}`}, not ${allowed.map((n) => `v${n}`).join(' or ')}`);
  const deployments = await w.store.listDeployments({ serviceId, environmentId });
  for (const d of deployments) if (!isTerminal(d.state)) v.push(`deployment ${d.id.slice(0, 8)} (${d.kind}) is left ${d.state}`);
  // The outcome recorded agrees with what serves: the newest deploy succeeded iff its release is live.
  const newest = deployments.find((d) => d.kind !== 'repair');
  const currentId = await w.store.getCurrentReleaseId(serviceId, environmentId);
  if (newest && isTerminal(newest.state)) {
    const expected = newest.state === 'succeeded' ? newest.releaseId : newest.previousReleaseId;
    if (expected !== currentId) v.push(`deployment ${newest.id.slice(0, 8)} is ${newest.state}, but the live release is not the one that implies (release id ${currentId} instead of ${expected})`);
  }
  const lease = await w.store.getLease(serviceLeaseKey(serviceId, environmentId));
  if (lease) v.push(`the service lease is held by ${lease.holder.slice(0, 8)}${deployments.some((d) => d.id === lease.holder) ? '' : ' (no deployment has this id)'} until ${lease.expiresAt}`);

  const warm = await readWarmSet(w.store, serviceId, environmentId);
  const keptWarm: WarmSet | null = warm && live !== null && warm.release !== live && !isExpired(warm, new Date()) ? warm : null;
  const replicas = await w.replicas();
  const servers = await w.servers();
  const serverOf = new Map(servers.map((x) => [x.name, x]));
  const mine = replicas.filter((r) => r.labels.release === live);
  for (const r of replicas) {
    const c = w.runtime.containerInfo(r.name);
    if (r.labels.release === live) {
      if (r.state !== 'running' || !c?.healthy) v.push(`replica ${r.name} of live v${live} is ${r.state}${c?.healthy === false ? ', unhealthy' : ''}`);
      const srv = serverOf.get(r.name);
      if (!srv) v.push(`replica ${r.name} of live v${live} has no edge server`);
      else if (srv.state !== 'ready' || srv.weight <= 0 || srv.address !== r.address || srv.port !== PORT) {
        v.push(`edge server ${r.name} is ${srv.state} weight ${srv.weight} at ${srv.address}:${srv.port}, not in rotation at ${r.address}:${PORT}`);
      }
    } else if (keptWarm && r.labels.release === keptWarm.release) {
      const srv = serverOf.get(r.name);
      if (r.state !== 'running') v.push(`warm replica ${r.name} (v${r.labels.release}) is ${r.state}`);
      if (srv && (srv.state === 'ready' || srv.weight > 0)) v.push(`warm replica ${r.name} (v${r.labels.release}) is in rotation (${srv.state}, weight ${srv.weight})`);
    } else {
      v.push(`orphan replica ${r.name} of v${r.labels.release} (${r.state}; edge ${serverOf.get(r.name)?.state ?? 'none'})`);
    }
  }
  if (live !== null && mine.length !== (await liveReplicaCount(w, live))) v.push(`v${live} has ${mine.length} replica(s), its release asks for ${await liveReplicaCount(w, live)}`);
  const names = new Set(replicas.map((r) => r.name));
  for (const srv of servers) {
    if (!names.has(srv.name)) v.push(`edge server ${srv.name} (${srv.state}) has no container behind it`);
    else if (srv.state === 'ready' && srv.weight > 0 && !mine.some((r) => r.name === srv.name)) v.push(`edge server ${srv.name} of another release than v${live} is in rotation`);
  }
  // The store knows where every replica runs, and no replica that is gone.
  const placed = new Map((await w.store.listPlacements({ serviceId, environmentId })).map((p) => [p.replica, p.server]));
  for (const r of replicas) if (placed.get(r.name) !== r.server) v.push(`replica ${r.name} runs on ${r.server} but its placement says ${placed.get(r.name) ?? 'nothing'}`);
  for (const name of placed.keys()) if (!names.has(name)) v.push(`a placement is left for ${name}, which is gone`);
  // Requests reach every live replica (round robin) and nothing else.
  if (live !== null && mine.length > 0) {
    const answers = Array.from({ length: mine.length * 2 }, () => w.edge.route(HOST));
    const bad = answers.filter((a) => a.status !== 200 || !mine.some((r) => r.name === a.server));
    if (bad.length > 0) v.push(`${bad.length} of ${answers.length} requests to ${HOST} were not answered by a v${live} replica (${bad.map((a) => `${a.status} ${a.server ?? ''}`).join(', ')})`);
  }
  return v;
}

async function liveReplicaCount(w: EngineWorld, release: number): Promise<number> {
  const { serviceId, environmentId } = await ids(w);
  return (await w.store.getReleaseByNumber(serviceId, environmentId, release))?.config.replicas ?? -1;
}

/** A deploy of image tag 3 ("v3") by the booted control plane: accepted (the lease is free) and fully live afterwards. */
async function nextDeploy(w: EngineWorld, s: CrashShape): Promise<string[]> {
  const engine = new DeployEngine(contextFor(w, s));
  let d: Deployment;
  try {
    d = await deployWith(w, engine, s, 3);
  } catch (err) {
    return [`the next deploy (v3) was refused: ${errorMessage(err)}`];
  }
  if (d.state !== 'succeeded') return [`the next deploy (v3) ended ${d.state}: ${d.error}`];
  // Its release number is 2 when the crash came before v2's release was recorded.
  const release = (await w.store.getRelease(d.releaseId!))!;
  const v = release.imageRef === 'shop/web:3' ? await checkInvariants(w, [release.number]) : [`the next deploy's release v${release.number} runs ${release.imageRef}`];
  v.push(...(await monitorViolations(w)).map((x) => `DESIGN invariant 2/3 during the next deploy: ${x}`));
  return v.map((x) => `after the next deploy (v3): ${x}`);
}

/** What the boot left, in a line: deployments, live release, containers, servers, lease. */
async function describeState(w: EngineWorld): Promise<string> {
  const { serviceId, environmentId } = await ids(w);
  const deployments = await w.store.listDeployments({ serviceId, environmentId });
  const releaseNo = async (id: number | null) => (id === null ? '-' : `v${(await w.store.getRelease(id))?.number ?? '?'}`);
  const ds = await Promise.all(deployments.map(async (d) => `${d.id.slice(0, 8)} ${await releaseNo(d.releaseId)} ${d.state}${d.errorCode ? ` ${d.errorCode}` : ''}`));
  const live = await w.liveRelease();
  const containers = (await w.replicas()).map((r) => `${r.name.replace(`${PROJECT}-${SERVICE}-${ENV}-`, '')}:${r.state}`);
  const servers = (await w.servers()).map((x) => `${x.name.replace(`${PROJECT}-${SERVICE}-${ENV}-`, '')}:${x.state}/${x.weight}`);
  const lease = await w.store.getLease(serviceLeaseKey(serviceId, environmentId));
  const warm = await readWarmSet(w.store, serviceId, environmentId);
  return `deployments [${ds.join('; ')}], live ${live === null ? 'none' : `v${live}`}, containers [${containers.join(' ')}], ${BACKEND} [${servers.join(' ')}], lease ${lease ? lease.holder.slice(0, 8) : 'free'}${warm ? `, warm set v${warm.release} until ${warm.retireAt}` : ''}`;
}

/** One outcome as report lines. */
export function formatOutcome(o: CrashOutcome): string {
  return [
    `${describeShape(o.shape)}, crash after call ${o.k} (${o.made} made)`,
    `  last call run: ${o.last ?? '-'}`,
    `  first call cut: ${o.cut ?? '- (the deployment had ended)'}`,
    `  request: ${o.request}`,
    o.boot ? `  boot: recovery ${JSON.stringify(o.boot.recovery.resolved.map((r) => r.outcome))}, ${o.boot.recovery.orphansRemoved} orphan(s) removed, ${o.boot.repairs.length} repair(s), ${o.boot.reconcile.edgeCorrections} edge correction(s)` : '  boot: -',
    `  state: ${o.state}`,
    ...o.violations.map((x) => `  ✘ ${x}`),
  ].join('\n');
}
