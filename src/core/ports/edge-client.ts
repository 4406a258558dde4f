/**
 * EdgeClient port: one HTTP GET sent through this server's edge as a client's would be (the
 * host routes it), for post-deploy smoke checks (engine/smoke-check.ts). Implemented over
 * node:http in drivers/probe/edge-client.ts (to the edge's HTTP port on loopback, following a
 * redirect to its HTTPS port for the same host) and in memory in src/testing.
 */
import type { SmokeAnswer } from '../smoke-checks';

export interface EdgeRequest {
  /** The Host header: one of the service's domains. */
  host: string;
  /** Path and query, starting with `/`. */
  path: string;
  timeoutMs: number;
}

/** At most this much of a body is read (the rest is discarded). */
export const EDGE_CLIENT_MAX_BODY = 64 * 1024;

export interface EdgeClient {
  /** Never rejects: no answer is `status: null` with the error. */
  get(req: EdgeRequest): Promise<SmokeAnswer>;
}
