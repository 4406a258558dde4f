/**
 * Edge port: the always-on data plane that routes hosts to replicas.
 * Implemented by src/drivers/haproxy (haproxy.cfg + runtime API, no reload for
 * server changes). The edge must outlive the control plane: nothing here stops it.
 */

/**
 * ready: takes new requests (weight > 0). standby: up but weight 0, so it takes no new
 * request and keeps the ones in flight; a weight change puts it back in rotation at once
 * (a blue-green set waiting for the flip, or the warm set after it). drain: being taken
 * out (no new requests, waiting for in-flight ones before removal). maint: out.
 */
export type EdgeServerState = 'ready' | 'standby' | 'drain' | 'maint';

export interface EdgeServer {
  name: string;
  address: string;
  port: number;
  state: EdgeServerState;
  /** Load-balancing weight (0–256): a server's share of new requests is its weight over the backend's total. */
  weight: number;
  /** Requests/streams currently being served through this server. */
  activeSessions: number;
  /**
   * The edge's active checks (EdgeBackendSpec.check): up, down (failing them: no new requests,
   * whatever its state and weight), or unchecked (the backend has no checks, or checks are off).
   * Absent from implementations without checks.
   */
  health?: EdgeServerHealth;
  /** Seconds since the server's last state or health change (how long it has been down, when down). */
  healthChangedSecondsAgo?: number;
}

export type EdgeServerHealth = 'up' | 'down' | 'unchecked';

/** Active HTTP checks of every server of a backend (HAProxy `option httpchk`), plus passive observation of errors. */
export interface EdgeHealthCheck {
  /** `tcp`: a connect to the server's port is the check (services with `health.kind` tcp or exec); absent: HTTP. */
  kind?: 'http' | 'tcp';
  /** Path requested with GET (HTTP checks); any 2xx/3xx answer is a success. */
  path: string;
  /** Host header sent (the service's first domain; the backend name when it has none). */
  host: string;
  intervalMs: number;
  timeoutMs: number;
  /** Consecutive failures that take a server out of rotation. */
  fall: number;
  /** Consecutive successes that put it back. */
  rise: number;
}

export interface EdgeBackendSpec {
  /** Backend name, [a-z0-9_-]; see backendName(). */
  name: string;
  /** Host names routed to this backend. */
  hosts: string[];
  /** HTTPS behaviour of the hosts; default: redirect to HTTPS once a certificate covers the host, no HSTS. */
  https?: EdgeHttpsPolicy;
  /** Health checks of the backend's servers; none when absent (a change is structural: seamless reload). */
  check?: EdgeHealthCheck;
  /**
   * The service is stopped (`slipway stop`: its live release runs no replica): while the backend
   * has no server in rotation, its hosts are answered 503 with a page saying `<service> is
   * stopped` (header `X-Slipway-Stopped: <service>`) instead of the proxy's bare 503. Set and
   * cleared at runtime (no reload); a server in rotation always takes the request. Absent: not stopped.
   */
  stopped?: { service: string };
}

export interface EdgeHttpsPolicy {
  /**
   * Redirect plain HTTP to HTTPS for hosts a certificate covers (never ACME challenges); null:
   * only when the certificate was installed with `redirectByDefault` (a publicly trusted one).
   */
  redirect: boolean | null;
  /** Strict-Transport-Security value sent over HTTPS (e.g. `max-age=31536000`); null: none. */
  hsts: string | null;
}

/** A certificate the edge serves (chosen by SNI among the hosts it covers). */
export interface EdgeCertificate {
  /** [a-z0-9._-]: the file name at the edge. */
  name: string;
  /** Host names it covers (a `*.example.com` entry covers one label). */
  hosts: string[];
  /** SHA-256 fingerprint of the leaf the edge holds. */
  fingerprint256: string;
}

export interface EdgeStatus {
  running: boolean;
  pid: number | null;
  version: string | null;
  httpPort: number;
  /** Count of reloads done by this driver instance (structural changes only). */
  reloads: number;
  /** The TLS listener's port; null when the edge serves HTTP only. */
  httpsPort: number | null;
}

export interface DrainResult {
  drained: boolean;
  /** Sessions still active when the drain wait ended. */
  remaining: number;
  waitedMs: number;
}

/** A server the edge should have, from Slipway's desired state (a ready replica of a live release). */
export interface EdgeServerSpec {
  backend: string;
  name: string;
  address: string;
  port: number;
  /** 0: standby (a warm set, a canary at 0 %). */
  weight: number;
}

/** What `start` did: `started` false when a running edge was adopted (its servers untouched). */
export interface EdgeStartResult extends EdgeStatus {
  started: boolean;
  /** Servers written into the config it started with (those of unknown backends are skipped). */
  servers: number;
}

/** A watch on the running edge; `stop` ends it (no callback after it). */
export interface EdgeWatch {
  stop(): void;
}

/**
 * The edge of one server (a proxy on that host, in front of the replicas the engine registers).
 * Its operations act on `server`'s edge; several servers will have one each.
 */
export interface Edge {
  /** The server whose edge this is (`local` on a single host). */
  readonly server: string;
  /** Starts the proxy if it is not running (master-worker, detached); idempotent. */
  ensureRunning(): Promise<EdgeStatus>;
  /**
   * Like ensureRunning, but when the proxy has to be started, its config already holds these
   * servers (with their weights): it takes its first request with them, never from an empty
   * backend. Leftover processes of a dead edge on this config are killed first. Used after the
   * edge died and at boot; a running edge is adopted as by ensureRunning.
   */
  start(servers: EdgeServerSpec[]): Promise<EdgeStartResult>;
  /**
   * Watches the running edge (master socket connection held open, master pid and workers
   * checked every few tens of ms) and calls `onDown` once, with the reason, when it dies. A
   * seamless reload is not a death. Watching an edge that is not running reports it at once.
   */
  watch(onDown: (reason: string) => void): EdgeWatch;
  status(): Promise<EdgeStatus>;
  /** Declares a backend and its hosts. New backends are a structural change (seamless reload); host changes are applied at runtime. */
  ensureBackend(spec: EdgeBackendSpec): Promise<void>;
  listBackends(): Promise<EdgeBackendSpec[]>;
  /** Removes a backend and its host routes (structural: seamless reload). Missing backend is not an error. */
  removeBackend(name: string): Promise<void>;
  /** The host → backend routes the running edge applies now (its runtime host map; the control plane's own domain excluded). */
  listRoutes(): Promise<Array<{ host: string; backend: string }>>;
  /**
   * Drops a host route the running edge has but no declared backend holds (one changed behind
   * Slipway's back), without a reload. Refused (SLW_EDGE) for a host a backend declares: change
   * the backend instead. Missing route is not an error.
   */
  removeRoute(host: string): Promise<void>;
  listServers(backend: string): Promise<EdgeServer[]>;
  /** The servers of several backends from one reading (status pages of many services); absent backends map to []. */
  listServersOf(backends: string[]): Promise<Map<string, EdgeServer[]>>;
  /**
   * Adds a server in `ready` state (weight 1), or `standby` with `weight: 0`; the caller guarantees
   * the replica passed readiness. Idempotent by name (an existing server takes the given weight).
   */
  addServer(backend: string, server: { name: string; address: string; port: number }, opts?: { weight?: number }): Promise<void>;
  /**
   * Sets the weights of several servers of one backend in ONE runtime change, applied in the order
   * given: list the servers that go up before those that go down, and the backend never has zero
   * weight in between. Every named server must exist in state ready or standby (a drained or
   * maintenance server is refused: its weight would not bring it back). Blue-green flips with it;
   * canary steps can split traffic with it. Requests in flight are never cut.
   */
  setWeights(backend: string, weights: Array<{ name: string; weight: number }>): Promise<void>;
  /** Stops new requests to the server, then waits up to timeoutMs for in-flight ones to finish. */
  drainServer(backend: string, name: string, timeoutMs: number): Promise<DrainResult>;
  /** Takes the server out of the backend (maintenance, then deletion). Missing server is not an error. */
  removeServer(backend: string, name: string): Promise<void>;
  /**
   * Installs or replaces a certificate (chain leaf first, then key) without a reload: connections
   * already open keep theirs, new handshakes get the new one. Throws SLW_EDGE when the edge
   * serves no HTTPS or refuses the certificate (the previous one keeps serving).
   */
  installCertificate(cert: { name: string; hosts: string[]; certPem: string; keyPem: string; redirectByDefault: boolean }): Promise<void>;
  /** Stops serving a certificate (no reload). Missing certificate is not an error. */
  removeCertificate(name: string): Promise<void>;
  listCertificates(): Promise<EdgeCertificate[]>;
}

/**
 * The backend name for a service in an environment. Names are [a-z0-9-] and never hold
 * `_`, so `_` separates the parts unambiguously (`-` used to become `_` too, which made
 * project `my-app` service `web` and project `my` service `app-web` share one backend).
 */
export function backendName(project: string, service: string, env: string): string {
  return `be_${project}_${service}_${env}`.replace(/[^a-zA-Z0-9_-]/g, '_');
}
