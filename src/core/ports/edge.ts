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
}

export interface EdgeBackendSpec {
  /** Backend name, [a-z0-9_-]; see backendName(). */
  name: string;
  /** Host names routed to this backend. */
  hosts: string[];
  /** HTTPS behaviour of the hosts; default: redirect to HTTPS once a certificate covers the host, no HSTS. */
  https?: EdgeHttpsPolicy;
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

export interface Edge {
  /** Starts the proxy if it is not running (master-worker, detached); idempotent. */
  ensureRunning(): Promise<EdgeStatus>;
  status(): Promise<EdgeStatus>;
  /** Declares a backend and its hosts. New backends are a structural change (seamless reload); host changes are applied at runtime. */
  ensureBackend(spec: EdgeBackendSpec): Promise<void>;
  listBackends(): Promise<EdgeBackendSpec[]>;
  /** Removes a backend and its host routes (structural: seamless reload). Missing backend is not an error. */
  removeBackend(name: string): Promise<void>;
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
