/**
 * Edge port: the always-on data plane that routes hosts to replicas.
 * Implemented by src/drivers/haproxy (haproxy.cfg + runtime API, no reload for
 * server changes). The edge must outlive the control plane: nothing here stops it.
 */

export type EdgeServerState = 'ready' | 'drain' | 'maint';

export interface EdgeServer {
  name: string;
  address: string;
  port: number;
  state: EdgeServerState;
  /** Requests/streams currently being served through this server. */
  activeSessions: number;
}

export interface EdgeBackendSpec {
  /** Backend name, [a-z0-9_-]; see backendName(). */
  name: string;
  /** Host names routed to this backend. */
  hosts: string[];
}

export interface EdgeStatus {
  running: boolean;
  pid: number | null;
  version: string | null;
  httpPort: number;
  /** Count of reloads done by this driver instance (structural changes only). */
  reloads: number;
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
  /** Adds a server in `ready` state; the caller guarantees the replica passed readiness. Idempotent by name. */
  addServer(backend: string, server: { name: string; address: string; port: number }): Promise<void>;
  /** Stops new requests to the server, then waits up to timeoutMs for in-flight ones to finish. */
  drainServer(backend: string, name: string, timeoutMs: number): Promise<DrainResult>;
  /** Takes the server out of the backend (maintenance, then deletion). Missing server is not an error. */
  removeServer(backend: string, name: string): Promise<void>;
}

/** The backend name for a service in an environment. */
export function backendName(project: string, service: string, env: string): string {
  return `be_${project}_${service}_${env}`.replace(/[^a-zA-Z0-9_]/g, '_');
}
