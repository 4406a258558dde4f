/**
 * Pure planning of edge repairs: the running edge compared with Slipway's desired state
 * (engine/edge-desired-state.ts), and the corrections that make them equal. The reconciler
 * applies them through the Edge port each pass, so an edge changed behind Slipway's back (a
 * server deleted or drained by hand, a deployment interrupted mid-drain, a stray host route)
 * is put right like a dead container is.
 *
 * Never touched: backends of services with a deployment in progress (the edge is theirs until
 * it ends), and servers whose state the edge's own health checks decide (a `down` server keeps
 * its place: it is in the backend, just not chosen).
 */
import type { EdgeBackendSpec, EdgeServer } from './ports/edge';

export interface DesiredEdgeServer {
  backend: string;
  name: string;
  address: string;
  port: number;
  /** 0: standby (a warm set, a canary at 0 %). */
  weight: number;
}

export interface DesiredEdge {
  backends: EdgeBackendSpec[];
  servers: DesiredEdgeServer[];
  /** Backends left alone this time (a deployment in progress). */
  inProgress: string[];
}

export interface ObservedEdge {
  /** The backends the edge declares (Edge.listBackends). */
  backends: EdgeBackendSpec[];
  /** Servers per backend (Edge.listServersOf); a backend absent from the map has none. */
  servers: Map<string, EdgeServer[]>;
  /** The runtime host routes (Edge.listRoutes). */
  routes: Array<{ host: string; backend: string }>;
  /** Names of running containers, only to say why a server goes ("no container" or "not a live replica"). */
  running?: ReadonlySet<string>;
}

export type EdgeCorrection =
  /** A live web service's backend is missing: declared again (Edge.ensureBackend). */
  | { kind: 'add-backend'; backend: string; spec: EdgeBackendSpec }
  /** Its hosts, HTTPS policy, stopped page or runtime routes differ from the live release's: declared again (Edge.ensureBackend). */
  | { kind: 'update-backend'; backend: string; spec: EdgeBackendSpec; reason: string }
  /** A backend of nothing live (Edge.removeBackend). */
  | { kind: 'remove-backend'; backend: string }
  /** A runtime host route no backend declares (Edge.removeRoute). */
  | { kind: 'remove-route'; host: string; backend: string }
  /** A ready replica the edge lacks (Edge.addServer). */
  | { kind: 'add-server'; backend: string; server: DesiredEdgeServer }
  /** A server left in drain/maint (or at a stale address) whose replica is live and ready: back in rotation (Edge.addServer). */
  | { kind: 'resolve-server'; backend: string; server: DesiredEdgeServer; from: string }
  /** Servers in rotation at other weights than desired, in one change, raises first (Edge.setWeights). */
  | { kind: 'set-weights'; backend: string; weights: Array<{ name: string; weight: number; from: number }> }
  /** A server with no ready replica of a live release behind it (Edge.removeServer). */
  | { kind: 'remove-server'; backend: string; name: string; state: string; reason: 'no container' | 'not a ready replica of a live release' };

const inRotation = (s: EdgeServer) => s.state !== 'drain' && s.state !== 'maint';

function sameHosts(a: string[], b: string[]): boolean {
  const x = [...new Set(a.map((h) => h.toLowerCase()))].sort();
  const y = [...new Set(b.map((h) => h.toLowerCase()))].sort();
  return x.length === y.length && x.every((h, i) => h === y[i]);
}

function sameHttps(a: EdgeBackendSpec['https'], b: EdgeBackendSpec['https']): boolean {
  const x = a ?? { redirect: null, hsts: null };
  const y = b ?? { redirect: null, hsts: null };
  return x.redirect === y.redirect && x.hsts === y.hsts;
}

/** Only compared when the desired spec has checks (an edge without them keeps what it has). */
function sameCheck(have: EdgeBackendSpec['check'], want: EdgeBackendSpec['check']): boolean {
  if (!want) return true;
  if (!have) return false;
  return have.path === want.path && have.host === want.host && have.intervalMs === want.intervalMs && have.timeoutMs === want.timeoutMs && have.fall === want.fall && have.rise === want.rise;
}

/**
 * The corrections, in the order to apply them: backends declared before servers join them,
 * servers added before any is removed (capacity first), removals of whole backends last.
 * Equal states give no correction.
 */
export function planEdgeRepair(desired: DesiredEdge, observed: ObservedEdge): EdgeCorrection[] {
  const skip = new Set(desired.inProgress);
  const wanted = new Map(desired.backends.filter((b) => !skip.has(b.name)).map((b) => [b.name, b]));
  const declared = new Map(observed.backends.map((b) => [b.name, b]));
  const out: EdgeCorrection[] = [];

  // Backends and routes.
  const routeOf = new Map<string, string[]>();
  for (const r of observed.routes) routeOf.set(r.host.toLowerCase(), [...(routeOf.get(r.host.toLowerCase()) ?? []), r.backend]);
  for (const [name, spec] of wanted) {
    const have = declared.get(name);
    if (!have) {
      out.push({ kind: 'add-backend', backend: name, spec });
      continue;
    }
    const reasons: string[] = [];
    if (!sameHosts(have.hosts, spec.hosts)) reasons.push(`hosts ${have.hosts.join(', ') || '(none)'} → ${spec.hosts.join(', ') || '(none)'}`);
    if (!sameHttps(have.https, spec.https)) reasons.push('HTTPS policy');
    if (!sameCheck(have.check, spec.check)) reasons.push('health checks');
    // A stopped service (its live release runs 0 replicas) has its 503 page; any other has none.
    if ((have.stopped?.service ?? null) !== (spec.stopped?.service ?? null)) reasons.push(spec.stopped ? 'stopped page missing' : 'stopped page of a service that runs');
    for (const host of spec.hosts.map((h) => h.toLowerCase())) {
      const to = routeOf.get(host) ?? [];
      if (to.length !== 1 || to[0] !== name) reasons.push(to.length === 0 ? `route of ${host} missing` : `route of ${host} points to ${to.join(', ')}`);
    }
    if (reasons.length > 0) out.push({ kind: 'update-backend', backend: name, spec, reason: reasons.join('; ') });
  }
  const declaredHosts = new Set(observed.backends.flatMap((b) => b.hosts.map((h) => h.toLowerCase())));
  const wantedHosts = new Set([...wanted.values()].flatMap((b) => b.hosts.map((h) => h.toLowerCase())));
  for (const r of observed.routes) {
    const host = r.host.toLowerCase();
    // A declared host is put right with its backend (update or removal); an undeclared one goes by itself.
    if (wantedHosts.has(host) || declaredHosts.has(host) || skip.has(r.backend)) continue;
    out.push({ kind: 'remove-route', host, backend: r.backend });
  }

  // Servers of the backends that stay.
  const removals: EdgeCorrection[] = [];
  for (const name of wanted.keys()) {
    const have = new Map((observed.servers.get(name) ?? []).map((s) => [s.name, s]));
    const mine = desired.servers.filter((s) => s.backend === name);
    const weights: Array<{ name: string; weight: number; from: number }> = [];
    for (const server of mine) {
      const s = have.get(server.name);
      have.delete(server.name);
      if (!s) out.push({ kind: 'add-server', backend: name, server });
      else if (!inRotation(s)) out.push({ kind: 'resolve-server', backend: name, server, from: s.state });
      else if (s.address !== server.address || s.port !== server.port) out.push({ kind: 'resolve-server', backend: name, server, from: `${s.address}:${s.port}` });
      else if (s.weight !== server.weight) weights.push({ name: server.name, weight: server.weight, from: s.weight });
    }
    if (weights.length > 0) {
      // Raises before cuts: the backend never has less weight in rotation in between.
      weights.sort((a, b) => Number(b.weight > b.from) - Number(a.weight > a.from));
      out.push({ kind: 'set-weights', backend: name, weights });
    }
    for (const s of have.values()) {
      removals.push({ kind: 'remove-server', backend: name, name: s.name, state: s.state, reason: observed.running && !observed.running.has(s.name) ? 'no container' : 'not a ready replica of a live release' });
    }
  }
  out.push(...removals);
  for (const b of observed.backends) {
    if (!wanted.has(b.name) && !skip.has(b.name)) out.push({ kind: 'remove-backend', backend: b.name });
  }
  return out;
}

/** One line per correction, for the log and the event (short: it goes to Slack too). */
export function describeCorrection(c: EdgeCorrection): string {
  switch (c.kind) {
    case 'add-backend':
      return `backend ${c.backend} was missing: declared again (${c.spec.hosts.join(', ') || 'no hosts'})`;
    case 'update-backend':
      return `backend ${c.backend} routes differed (${c.reason}): set again`;
    case 'remove-backend':
      return `backend ${c.backend} serves nothing live: removed`;
    case 'remove-route':
      return `host route ${c.host} → ${c.backend} is declared by no backend: removed`;
    case 'add-server':
      return `ready replica ${c.server.name} was missing from ${c.backend}: added${c.server.weight === 0 ? ' on standby' : ''}`;
    case 'resolve-server':
      return `server ${c.backend}/${c.server.name} was left ${c.from}: its replica is live and ready, back ${c.server.weight === 0 ? 'on standby' : 'in rotation'}`;
    case 'set-weights':
      return `weights of ${c.backend} set back: ${c.weights.map((w) => `${w.name} ${w.from}→${w.weight}`).join(', ')}`;
    case 'remove-server':
      return `server ${c.backend}/${c.name} (${c.state}) has ${c.reason === 'no container' ? 'no container behind it' : 'no ready replica of a live release behind it'}: removed`;
  }
}
