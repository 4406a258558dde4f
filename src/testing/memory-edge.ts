/**
 * An in-memory Edge for engine tests (issue 22). It keeps the HAProxy driver's semantics
 * (src/drivers/haproxy, docs/edge.md) without a process: the same refusals and error codes,
 * reloads only for structural changes, drain waiting for requests in flight (also those an
 * old worker still serves after a reload), a crash losing the runtime servers but not the
 * backends. edge-contract.ts checks that this and the real driver agree.
 *
 * Test helpers: route(host) picks a server by weighted round robin (deterministic),
 * inFlight/finishInFlight open and end requests, addStrayRoute adds a host route by hand,
 * crash(reason) kills it, setHealth marks a checked server down, failNext(method, error)
 * makes the next call of a method fail, and `calls` logs every mutating call received, in
 * order (refused ones too).
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { isIP } from 'node:net';
import { SlipwayError, errorMessage } from '../core/errors';
import type {
  DrainResult, Edge, EdgeBackendSpec, EdgeCertificate, EdgeHealthCheck, EdgeServer, EdgeServerSpec, EdgeServerState, EdgeStartResult, EdgeStatus, EdgeWatch,
} from '../core/ports/edge';
import { splitPemChain } from '../core/tls/certificate-info';
import { LOCAL_SERVER } from '../core/servers';

/** The methods failNext can make fail (watch is synchronous and cannot fail). */
export type EdgeMethod = Exclude<keyof Edge, 'watch'>;

export interface MemoryEdgeOptions {
  /** The server it plays (default `local`). */
  server?: string;
  /** Reported by status (default 8080). */
  httpPort?: number;
  /** Serve HTTPS (certificates accepted); HTTP only when absent or null, as the driver without `https`. */
  httpsPort?: number | null;
  /** The control plane's own domain: refused to backends, left out of listRoutes, as SLIPWAY_DOMAIN. */
  controlDomain?: string | null;
}

/**
 * What a request to a host gets: 200 from a server, 404 for an unknown host, 503 when no server
 * takes it; `stopped`: the 503 is the page of a stopped service (EdgeBackendSpec.stopped), naming it.
 */
export interface RouteAnswer {
  status: 200 | 404 | 503;
  backend: string | null;
  server: string | null;
  stopped?: string;
}

type AdminState = 'ready' | 'drain' | 'maint';

interface MemoryServer {
  name: string;
  address: string;
  port: number;
  admin: AdminState;
  weight: number;
  /** Requests the current worker serves (listServers' activeSessions). */
  inFlight: number;
  /** Requests old workers still serve after a reload: a drain waits for them, listServers does not see them. */
  oldInFlight: number;
  health: 'up' | 'down';
  changedAt: number;
  /** removeServer met open requests: HAProxy keeps it in maint until `del server` succeeds. */
  deleting: boolean;
}

interface DrainWaiter {
  backend: string;
  name: string;
  started: number;
  settle(result: DrainResult): void;
  fail(err: Error): void;
  timer: NodeJS.Timeout | null;
}

interface StoredCertificate extends EdgeCertificate {
  redirectByDefault: boolean;
}

// The HAProxy driver's input rules (src/drivers/haproxy/edge-names.ts, not importable from here).
const BACKEND_RE = /^[A-Za-z0-9_-]{1,100}$/;
const SERVER_RE = /^[A-Za-z0-9._-]{1,100}$/;
const HOST_RE = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const MAP_KEY_RE = /^[a-z0-9*._-]+$/;
const CERT_NAME_RE = /^[a-z0-9][a-z0-9._-]{0,200}$/;
const STOPPED_SERVICE_RE = /^[a-z][a-z0-9-]{0,39}$/;

/** The control plane's backend (the driver's https-lines.ts): its domain is routed, never listed. */
const CONTROL_BACKEND = 'slipway_control';

const edgeError = (message: string) => new SlipwayError('SLW_EDGE', message);

export class MemoryEdge implements Edge {
  readonly server: string;
  /** Every mutating call received, in order, e.g. `addServer be_x/a 10.0.0.2:3000 weight=1`. */
  readonly calls: string[] = [];
  private readonly httpPort: number;
  private readonly httpsPort: number | null;
  private readonly controlDomain: string | null;
  private running = false;
  private pid: number | null = null;
  private nextPid = 1000;
  private version: string | null = null;
  private reloadCount = 0;
  /** Declared backends: survive a crash, as backends.json does. */
  private backends: EdgeBackendSpec[] = [];
  /** Runtime state, lost with the process: servers per backend and the host map. */
  private servers = new Map<string, MemoryServer[]>();
  private routes = new Map<string, string>();
  private certificates = new Map<string, StoredCertificate>();
  private watchers = new Set<(reason: string) => void>();
  private drains = new Set<DrainWaiter>();
  private failures = new Map<EdgeMethod, Error[]>();
  /** Smooth weighted round robin state per backend, reset when its rotation changes. */
  private rotation = new Map<string, { key: string; current: Map<string, number> }>();

  constructor(opts: MemoryEdgeOptions = {}) {
    this.server = opts.server ?? LOCAL_SERVER;
    this.httpPort = opts.httpPort ?? 8080;
    this.httpsPort = opts.httpsPort ?? null;
    this.controlDomain = opts.controlDomain ?? null;
  }

  /** Reloads done so far (structural changes only), as status().reloads. */
  get reloads(): number {
    return this.reloadCount;
  }

  // --- Edge port ---------------------------------------------------------------

  async ensureRunning(): Promise<EdgeStatus> {
    this.enter('ensureRunning', 'ensureRunning');
    if (this.running) this.syncRoutes();
    else this.launch(new Map());
    return this.statusNow();
  }

  async start(servers: EdgeServerSpec[]): Promise<EdgeStartResult> {
    this.enter('start', `start ${servers.length}`);
    if (this.running) {
      this.syncRoutes();
      return { ...this.statusNow(), started: false, servers: 0 };
    }
    const known = new Set(this.backends.map((b) => b.name));
    const byBackend = new Map<string, MemoryServer[]>();
    for (const s of servers.filter((x) => known.has(x.backend))) {
      assertServer(s.name, s.address, s.port, s.weight);
      const list = byBackend.get(s.backend) ?? [];
      // HAProxy refuses a config with one server name twice in a backend.
      if (list.some((x) => x.name === s.name)) throw edgeError(`edge start: server ${s.backend}/${s.name} is listed twice`);
      byBackend.set(s.backend, [...list, this.newServer(s, s.weight, 'ready')]);
    }
    this.launch(byBackend);
    return { ...this.statusNow(), started: true, servers: [...byBackend.values()].reduce((n, l) => n + l.length, 0) };
  }

  watch(onDown: (reason: string) => void): EdgeWatch {
    let stopped = false;
    const once = (reason: string): void => {
      if (stopped) return;
      stopped = true;
      this.watchers.delete(once);
      onDown(reason);
    };
    // Like the driver: watching an edge that is not running reports it at once (not synchronously).
    if (this.running) this.watchers.add(once);
    else queueMicrotask(() => once('the edge is not running'));
    return {
      stop: () => {
        stopped = true;
        this.watchers.delete(once);
      },
    };
  }

  async status(): Promise<EdgeStatus> {
    this.enter('status');
    return this.statusNow();
  }

  async ensureBackend(spec: EdgeBackendSpec): Promise<void> {
    this.enter('ensureBackend', `ensureBackend ${spec.name} ${spec.hosts.join(',')}`);
    assertBackend(spec.name);
    const hosts = normalizeHosts(spec.hosts);
    if (spec.check) assertCheck(spec.check);
    this.requireRunning();
    this.assertHostsFree(spec.name, hosts);
    if (spec.stopped && !STOPPED_SERVICE_RE.test(spec.stopped.service)) throw edgeError(`invalid stopped service name "${spec.stopped.service}" (a service name: lowercase letters, digits and -)`);
    const wanted: EdgeBackendSpec = {
      name: spec.name,
      hosts,
      ...(spec.https ? { https: { ...spec.https } } : {}),
      ...(spec.check ? { check: { ...spec.check } } : {}),
      ...(spec.stopped ? { stopped: { service: spec.stopped.service } } : {}),
    };
    const existing = this.backends.find((b) => b.name === spec.name);
    const next = existing ? this.backends.map((b) => (b === existing ? wanted : b)) : [...this.backends, wanted];
    // A new backend and a change of checks are structural (a reload); hosts change at runtime.
    const structural = !existing || JSON.stringify(existing.check ?? null) !== JSON.stringify(wanted.check ?? null);
    this.backends = next;
    if (structural) this.reload();
    this.syncRoutes();
  }

  async listBackends(): Promise<EdgeBackendSpec[]> {
    this.enter('listBackends');
    return structuredClone(this.backends);
  }

  async removeBackend(name: string): Promise<void> {
    this.enter('removeBackend', `removeBackend ${name}`);
    assertBackend(name);
    this.requireRunning();
    if (!this.backends.some((b) => b.name === name) && !this.servers.has(name)) return;
    this.backends = this.backends.filter((b) => b.name !== name);
    this.reload();
    this.syncRoutes();
  }

  async listRoutes(): Promise<Array<{ host: string; backend: string }>> {
    this.enter('listRoutes');
    this.requireRunning();
    return [...this.routes].filter(([host]) => host !== this.controlDomain).map(([host, backend]) => ({ host, backend }));
  }

  async removeRoute(host: string): Promise<void> {
    this.enter('removeRoute', `removeRoute ${host}`);
    const key = host.toLowerCase();
    if (!MAP_KEY_RE.test(key)) throw edgeError(`removeRoute: "${host}" is not a host name`);
    this.requireRunning();
    const owner = key === this.controlDomain ? CONTROL_BACKEND : this.backends.find((b) => b.hosts.includes(key))?.name;
    if (owner) throw edgeError(`host ${key} is declared by backend ${owner}: change that backend instead`);
    this.routes.delete(key);
  }

  async listServers(backend: string): Promise<EdgeServer[]> {
    this.enter('listServers');
    assertBackend(backend);
    this.requireRunning();
    return this.describeServers(backend);
  }

  async listServersOf(backends: string[]): Promise<Map<string, EdgeServer[]>> {
    this.enter('listServersOf');
    backends.forEach(assertBackend);
    if (backends.length > 0) this.requireRunning();
    return new Map(backends.map((b) => [b, this.describeServers(b)]));
  }

  async addServer(backend: string, server: { name: string; address: string; port: number }, opts: { weight?: number } = {}): Promise<void> {
    const weight = opts.weight ?? 1;
    this.enter('addServer', `addServer ${backend}/${server.name} ${server.address}:${server.port} weight=${weight}`);
    assertBackend(backend);
    assertServer(server.name, server.address, server.port, weight);
    this.requireRunning();
    const list = this.servers.get(backend);
    if (!list) throw edgeError(`HAProxy refused "add server ${backend}/${server.name}": No such backend.`);
    const existing = list.find((s) => s.name === server.name);
    if (!existing) {
      list.push(this.newServer(server, weight, 'ready'));
      return;
    }
    // Idempotent by name: the address moves, the weight is set, and a drained or maintenance server is ready again.
    Object.assign(existing, { address: server.address, port: server.port, weight, deleting: false });
    this.setAdmin(existing, 'ready');
  }

  async setWeights(backend: string, weights: Array<{ name: string; weight: number }>): Promise<void> {
    this.enter('setWeights', `setWeights ${backend} ${weights.map((w) => `${w.name}=${w.weight}`).join(',')}`);
    assertBackend(backend);
    if (weights.length === 0) return;
    const targets = this.weightTargets(backend, weights);
    // Validated as a whole first: a refused change changes nothing.
    weights.forEach((w, i) => (targets[i]!.weight = w.weight));
  }

  async drainServer(backend: string, name: string, timeoutMs: number): Promise<DrainResult> {
    this.enter('drainServer', `drainServer ${backend}/${name}`);
    assertBackend(backend);
    assertName(name);
    this.requireRunning();
    const server = this.find(backend, name);
    if (!server) return { drained: true, remaining: 0, waitedMs: 0 };
    this.setAdmin(server, 'drain');
    return this.waitForDrain(backend, name, timeoutMs);
  }

  async removeServer(backend: string, name: string): Promise<void> {
    this.enter('removeServer', `removeServer ${backend}/${name}`);
    assertBackend(backend);
    assertName(name);
    this.requireRunning();
    const server = this.find(backend, name);
    if (!server) return;
    this.setAdmin(server, 'maint');
    // HAProxy refuses `del server` while the current worker still has a stream on it (a drain
    // that timed out): the server stays in maint, and goes when those requests end.
    if (server.inFlight > 0) server.deleting = true;
    else this.deleteServer(backend, name);
  }

  async installCertificate(cert: { name: string; hosts: string[]; certPem: string; keyPem: string; redirectByDefault: boolean }): Promise<void> {
    this.enter('installCertificate', `installCertificate ${cert.name}`);
    assertCertificateName(cert.name);
    if (this.httpsPort === null) throw edgeError('the edge serves HTTP only (no HTTPS port configured): certificate not installed');
    this.requireRunning();
    const fingerprint256 = checkedFingerprint(cert.certPem, cert.keyPem);
    const hosts = cert.hosts.map((h) => h.toLowerCase());
    this.certificates.set(cert.name, { name: cert.name, hosts, fingerprint256, redirectByDefault: cert.redirectByDefault });
    this.syncRoutes();
  }

  async removeCertificate(name: string): Promise<void> {
    this.enter('removeCertificate', `removeCertificate ${name}`);
    assertCertificateName(name);
    if (this.httpsPort === null) return;
    this.requireRunning();
    this.certificates.delete(name);
  }

  async listCertificates(): Promise<EdgeCertificate[]> {
    this.enter('listCertificates');
    if (this.httpsPort === null) return [];
    return [...this.certificates.values()]
      .sort((a, b) => compare(a.name, b.name))
      .map((c) => ({ name: c.name, hosts: [...c.hosts], fingerprint256: c.fingerprint256 }));
  }

  // --- test helpers ------------------------------------------------------------

  /**
   * One request to `host` (port and case ignored, as the edge reads the Host header): the
   * server that answers by smooth weighted round robin over the servers in rotation (ready,
   * weight > 0, not down), 404 for a host no route names, 503 when no server takes it.
   * Throws ECONNREFUSED when the edge is not running, as a real client would get.
   */
  route(host: string): RouteAnswer {
    if (!this.running) throw Object.assign(new Error(`connect ECONNREFUSED (the edge is not running)`), { code: 'ECONNREFUSED' });
    const key = (host.toLowerCase().split(':')[0] ?? '').trim();
    const backend = this.routes.get(key);
    if (backend === undefined) return { status: 404, backend: null, server: null };
    const server = this.pick(backend);
    if (server) return { status: 200, backend, server };
    // A stopped service's page: the edge answers it only while no server takes the request.
    const stopped = this.backends.find((b) => b.name === backend)?.stopped;
    return stopped ? { status: 503, backend, server: null, stopped: stopped.service } : { status: 503, backend, server: null };
  }

  /** A host route added behind Slipway's back (`add map` by hand): kept until removeRoute or the next map sync. */
  addStrayRoute(host: string, backend: string): void {
    this.requireRunning();
    this.routes.set(host.toLowerCase(), backend);
  }

  /** Sets how many requests the current worker serves on a server (activeSessions). */
  inFlight(backend: string, name: string, n: number): void {
    const server = this.find(backend, name);
    if (!server) throw new Error(`inFlight: ${backend}/${name} is not a server of the edge`);
    if (!Number.isInteger(n) || n < 0) throw new Error(`inFlight: ${n} is not a request count`);
    server.inFlight = n;
    this.afterRequestsEnd(backend, server);
  }

  /** Requests the current worker serves on a server now (0 when it is not there). */
  openRequests(backend: string, name: string): number {
    return this.find(backend, name)?.inFlight ?? 0;
  }

  /**
   * Ends `n` (default: all) of a server's open requests, those old workers hold first; a
   * drain waiting for them resolves. A server that is gone (crash, removed backend) is ignored.
   */
  finishInFlight(backend: string, name: string, n = Number.POSITIVE_INFINITY): void {
    const server = this.find(backend, name);
    if (!server) return;
    const fromOld = Math.min(n, server.oldInFlight);
    server.oldInFlight -= fromOld;
    server.inFlight -= Math.min(n - fromOld, server.inFlight);
    this.afterRequestsEnd(backend, server);
  }

  /** The edge dies: runtime servers, routes and open requests are lost; watchers and waiting drains hear it. */
  crash(reason = 'the edge process died'): void {
    if (!this.running) return;
    this.running = false;
    this.pid = null;
    this.servers.clear();
    this.routes.clear();
    this.rotation.clear();
    for (const d of [...this.drains]) this.endDrain(d, null, edgeError(`the edge is not running (${reason})`));
    for (const onDown of [...this.watchers]) onDown(reason);
  }

  /** Health as the edge's checks see it (backends with `check` only); a down server takes no new request. */
  setHealth(backend: string, name: string, health: 'up' | 'down'): void {
    const server = this.find(backend, name);
    if (!server) throw new Error(`setHealth: ${backend}/${name} is not a server of the edge`);
    if (server.health !== health) Object.assign(server, { health, changedAt: Date.now() });
  }

  /** The next call of `method` rejects with `error` before changing anything (queued per method). */
  failNext(method: EdgeMethod, error: Error): void {
    this.failures.set(method, [...(this.failures.get(method) ?? []), error]);
  }

  // --- internals ---------------------------------------------------------------

  /** Logs a mutating call, then throws an injected failure if one is queued. */
  private enter(method: EdgeMethod, call?: string): void {
    if (call !== undefined) this.calls.push(call);
    const queued = this.failures.get(method);
    const failure = queued?.shift();
    if (queued && queued.length === 0) this.failures.delete(method);
    if (failure) throw failure;
  }

  private launch(servers: Map<string, MemoryServer[]>): void {
    this.running = true;
    this.pid = this.nextPid++;
    this.version = 'memory';
    this.servers = new Map(this.backends.map((b) => [b.name, servers.get(b.name) ?? []]));
    this.syncRoutes();
  }

  /**
   * A seamless reload: the runtime backends become the declared ones, servers keep their state
   * in name order (drained ones come back at weight 0, as rendered), and requests in flight move
   * to the old worker. A server whose removal met open requests stays in maint (rendered
   * `disabled`, as the driver's retry would have left it).
   */
  private reload(): void {
    const next = new Map<string, MemoryServer[]>();
    for (const b of this.backends) {
      const list = [...(this.servers.get(b.name) ?? [])].sort((x, y) => compare(x.name, y.name));
      for (const s of list) {
        s.oldInFlight += s.inFlight;
        s.inFlight = 0;
        s.deleting = false;
        if (s.admin === 'drain') s.weight = 0;
      }
      next.set(b.name, list);
    }
    this.servers = next;
    this.reloadCount++;
    this.settleDrains();
  }

  /** The runtime host map becomes the declared one (the driver syncs it after every change and on adoption). */
  private syncRoutes(): void {
    this.routes = new Map(this.backends.flatMap((b) => b.hosts.map((h) => [h, b.name] as const)));
    if (this.controlDomain) this.routes.set(this.controlDomain, CONTROL_BACKEND);
  }

  private statusNow(): EdgeStatus {
    return { running: this.running, pid: this.pid, version: this.version, httpPort: this.httpPort, reloads: this.reloadCount, httpsPort: this.httpsPort };
  }

  private requireRunning(): void {
    if (!this.running) throw edgeError('the edge is not running or does not answer; the control plane starts it when it starts');
  }

  private assertHostsFree(name: string, hosts: string[]): void {
    if (this.controlDomain && hosts.includes(this.controlDomain)) {
      throw edgeError(`host ${this.controlDomain} is the control plane's own domain (SLIPWAY_DOMAIN); a service cannot use it`);
    }
    for (const b of this.backends) {
      const clash = b.name === name ? undefined : hosts.find((h) => b.hosts.includes(h));
      if (clash) throw edgeError(`host ${clash} is already routed to ${b.name}; a host can route to one backend only`);
    }
  }

  private newServer(s: { name: string; address: string; port: number }, weight: number, admin: AdminState): MemoryServer {
    return { name: s.name, address: s.address, port: s.port, admin, weight, inFlight: 0, oldInFlight: 0, health: 'up', changedAt: Date.now(), deleting: false };
  }

  private find(backend: string, name: string): MemoryServer | undefined {
    return this.servers.get(backend)?.find((s) => s.name === name);
  }

  private setAdmin(server: MemoryServer, admin: AdminState): void {
    if (server.admin !== admin) Object.assign(server, { admin, changedAt: Date.now() });
  }

  private describeServers(backend: string): EdgeServer[] {
    const checked = this.backends.find((b) => b.name === backend)?.check !== undefined;
    return (this.servers.get(backend) ?? []).map((s) => ({
      name: s.name,
      address: s.address,
      port: s.port,
      state: stateOf(s),
      weight: s.weight,
      activeSessions: s.inFlight,
      ...(checked ? { health: s.health, healthChangedSecondsAgo: Math.floor((Date.now() - s.changedAt) / 1000) } : {}),
    }));
  }

  /** The servers a weight change names, after the driver's checks (each once, existing, ready or standby, 0–256). */
  private weightTargets(backend: string, weights: Array<{ name: string; weight: number }>): MemoryServer[] {
    const seen = new Set<string>();
    for (const w of weights) {
      assertName(w.name);
      assertWeight(w.weight);
      if (seen.has(w.name)) throw edgeError(`setWeights: server ${w.name} is listed twice`);
      seen.add(w.name);
    }
    this.requireRunning();
    return weights.map((w) => {
      const s = this.find(backend, w.name);
      if (!s) throw edgeError(`backend ${backend} has no server ${w.name}: weights not changed`);
      if (s.admin !== 'ready') throw edgeError(`server ${backend}/${w.name} is ${stateOf(s)}: a weight would not bring it back; weights not changed`);
      return s;
    });
  }

  /** Smooth weighted round robin (nginx's): deterministic, a 3:1 split gives a, a, b, a. */
  private pick(backend: string): string | null {
    const eligible = (this.servers.get(backend) ?? []).filter((s) => s.admin === 'ready' && s.weight > 0 && s.health !== 'down');
    if (eligible.length === 0) return null;
    const key = eligible.map((s) => `${s.name}=${s.weight}`).join(',');
    let state = this.rotation.get(backend);
    if (!state || state.key !== key) {
      state = { key, current: new Map() };
      this.rotation.set(backend, state);
    }
    const total = eligible.reduce((n, s) => n + s.weight, 0);
    let best: MemoryServer | undefined;
    for (const s of eligible) {
      const c = (state.current.get(s.name) ?? 0) + s.weight;
      state.current.set(s.name, c);
      if (!best || c > (state.current.get(best.name) ?? 0)) best = s;
    }
    state.current.set(best!.name, (state.current.get(best!.name) ?? 0) - total);
    return best!.name;
  }

  private waitForDrain(backend: string, name: string, timeoutMs: number): Promise<DrainResult> {
    const started = Date.now();
    const remaining = this.sessionsOf(backend, name);
    if (remaining === 0 || timeoutMs <= 0) return Promise.resolve({ drained: remaining === 0, remaining, waitedMs: 0 });
    return new Promise<DrainResult>((settle, fail) => {
      const waiter: DrainWaiter = { backend, name, started, settle, fail, timer: null };
      // The driver polls until its wait reaches the timeout, so waitedMs is never below it.
      waiter.timer = setTimeout(() => {
        const left = this.sessionsOf(backend, name);
        this.endDrain(waiter, { drained: left === 0, remaining: left, waitedMs: Math.max(timeoutMs, Date.now() - started) });
      }, timeoutMs);
      this.drains.add(waiter);
    });
  }

  /** Requests on a server in the current worker and in old ones; 0 when the server is gone. */
  private sessionsOf(backend: string, name: string): number {
    const s = this.find(backend, name);
    return s ? s.inFlight + s.oldInFlight : 0;
  }

  private afterRequestsEnd(backend: string, server: MemoryServer): void {
    if (server.deleting && server.inFlight === 0) this.deleteServer(backend, server.name);
    this.settleDrains();
  }

  private deleteServer(backend: string, name: string): void {
    const list = this.servers.get(backend);
    if (list) this.servers.set(backend, list.filter((s) => s.name !== name));
    this.settleDrains();
  }

  private settleDrains(): void {
    for (const d of [...this.drains]) {
      if (this.sessionsOf(d.backend, d.name) === 0) this.endDrain(d, { drained: true, remaining: 0, waitedMs: Date.now() - d.started });
    }
  }

  private endDrain(d: DrainWaiter, result: DrainResult | null, err?: Error): void {
    if (!this.drains.delete(d)) return;
    if (d.timer) clearTimeout(d.timer);
    if (result) d.settle(result);
    else d.fail(err ?? edgeError('drain ended'));
  }
}

function stateOf(s: MemoryServer): EdgeServerState {
  if (s.admin !== 'ready') return s.admin === 'drain' ? 'drain' : 'maint';
  return s.weight > 0 ? 'ready' : 'standby';
}

function assertBackend(name: string): void {
  if (!BACKEND_RE.test(name)) throw edgeError(`invalid edge backend name "${name}" (letters, digits, _ and - only)`);
}

function assertName(name: string): void {
  if (!SERVER_RE.test(name)) throw edgeError(`invalid edge server name "${name}" (letters, digits, . _ and - only)`);
}

function assertWeight(weight: number): void {
  if (!Number.isInteger(weight) || weight < 0 || weight > 256) throw edgeError(`edge server weight ${weight} is not a whole number from 0 to 256`);
}

function assertServer(name: string, address: string, port: number, weight: number): void {
  assertName(name);
  assertWeight(weight);
  if (isIP(address) === 0) throw edgeError(`edge server address "${address}" is not an IP address`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw edgeError(`edge server port ${port} is out of range`);
}

function assertCertificateName(name: string): void {
  if (!CERT_NAME_RE.test(name)) throw edgeError(`invalid edge certificate name "${name}" (lowercase letters, digits, . _ and - only)`);
}

/** Lowercased, checked, without duplicates (the edge matches the Host header lowercased). */
function normalizeHosts(hosts: string[]): string[] {
  const out = [...new Set(hosts.map((h) => h.toLowerCase()))];
  const bad = out.find((h) => !HOST_RE.test(h));
  if (bad !== undefined) throw edgeError(`invalid host name "${bad}" for the edge (a host name such as app.example.com, no port or path)`);
  return out;
}

/** The driver's bounds on checks (health-check-lines.ts); paths and hosts are not checked here. */
function assertCheck(c: EdgeHealthCheck): void {
  for (const [k, min, max] of [['intervalMs', 100, 3_600_000], ['timeoutMs', 1, 3_600_000], ['fall', 1, 100], ['rise', 1, 100]] as const) {
    const v = c[k];
    if (!Number.isInteger(v) || v < min || v > max) throw edgeError(`edge health check: ${k} must be a whole number between ${min} and ${max} (got ${String(v)})`);
  }
}

/** HAProxy refuses a chain it cannot parse or a key that is not the leaf's: SLW_EDGE, nothing changed. */
function checkedFingerprint(certPem: string, keyPem: string): string {
  try {
    const leaf = new X509Certificate(splitPemChain(certPem)[0] ?? '');
    if (!leaf.checkPrivateKey(createPrivateKey(keyPem))) throw new Error('the key does not match the certificate');
    return leaf.fingerprint256;
  } catch (err) {
    throw edgeError(`the edge refused the certificate: ${errorMessage(err)}`);
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
