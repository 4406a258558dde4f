/**
 * EdgeClient port over node:http: a GET to this host's edge (its HTTP port, on loopback when it
 * listens on every address) with the service's domain as Host, as a client's request arrives.
 * A redirect to https:// on the same host (the service's `https.redirect`) is followed once, to
 * the edge's HTTPS port with the host as SNI; the certificate is not verified there (this is the
 * control plane talking to its own edge on this host, and a local CA or a fresh ACME
 * certificate must not fail a smoke check). No keep-alive: each request is a new connection.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { EDGE_CLIENT_MAX_BODY, type EdgeClient, type EdgeRequest } from '../../core/ports/edge-client';
import type { SmokeAnswer } from '../../core/smoke-checks';

export interface HttpEdgeClientOptions {
  /** Where the edge listens (SLIPWAY_EDGE_BIND): 0.0.0.0 and :: are reached on loopback. */
  bind: string;
  httpPort: number;
  /** The edge's HTTPS port; null when it serves HTTP only (a redirect is then the answer). */
  httpsPort: number | null;
}

/** The address this host reaches an edge bound to `bind` on. */
export function edgeAddressFor(bind: string): string {
  if (bind === '' || bind === '0.0.0.0') return '127.0.0.1';
  if (bind === '::' || bind === '[::]') return '::1';
  return bind.replace(/^\[(.*)\]$/, '$1');
}

export function httpEdgeClient(opts: HttpEdgeClientOptions): EdgeClient {
  const address = edgeAddressFor(opts.bind);
  return {
    async get(req: EdgeRequest): Promise<SmokeAnswer> {
      const started = Date.now();
      const first = await send(http, { host: address, port: opts.httpPort, path: req.path, headers: { host: req.host } }, req.timeoutMs);
      const location = first.status !== null && [301, 302, 303, 307, 308].includes(first.status) ? first.location : null;
      const target = location && opts.httpsPort !== null ? sameHostHttps(location, req.host) : null;
      if (!target) return { ...answerOf(first), durationMs: Date.now() - started };
      const left = Math.max(1, req.timeoutMs - (Date.now() - started));
      const second = await send(https, { host: address, port: opts.httpsPort!, path: target, headers: { host: req.host }, rejectUnauthorized: false, ...(isIP(req.host) ? {} : { servername: req.host }) }, left);
      return { ...answerOf(second), durationMs: Date.now() - started };
    },
  };
}

interface Raw {
  status: number | null;
  body: string;
  error: string | null;
  location: string | null;
}

const answerOf = (r: Raw): Omit<SmokeAnswer, 'durationMs'> => ({ status: r.status, body: r.body, error: r.error });

/** The path of `location` when it is https:// on `host` (any port); null otherwise. */
function sameHostHttps(location: string, host: string): string | null {
  try {
    const u = new URL(location);
    if (u.protocol !== 'https:' || u.hostname.toLowerCase() !== host.toLowerCase()) return null;
    return `${u.pathname}${u.search}`;
  } catch {
    return null;
  }
}

function send(mod: typeof http | typeof https, options: https.RequestOptions, timeoutMs: number): Promise<Raw> {
  return new Promise<Raw>((resolve) => {
    let settled = false;
    const done = (r: Raw) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = mod.get({ ...options, agent: false, headers: { ...options.headers, 'user-agent': 'slipway-smoke', connection: 'close' } }, (res) => {
      const status = res.statusCode ?? 0;
      const location = typeof res.headers.location === 'string' ? res.headers.location : null;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size >= EDGE_CLIENT_MAX_BODY) return;
        chunks.push(c.subarray(0, EDGE_CLIENT_MAX_BODY - size));
        size += Math.min(c.length, EDGE_CLIENT_MAX_BODY - size);
      });
      res.on('end', () => done({ status, body: Buffer.concat(chunks).toString('utf8'), error: null, location }));
      res.on('error', (err) => done({ status, body: Buffer.concat(chunks).toString('utf8'), error: err.message, location }));
    });
    // The whole answer (body included) within the timeout, not only the time between packets.
    const timer = setTimeout(() => {
      req.destroy();
      done({ status: null, body: '', error: `timed out after ${timeoutMs} ms`, location: null });
    }, timeoutMs);
    req.on('error', (err) => done({ status: null, body: '', error: (err as NodeJS.ErrnoException).code ?? err.message, location: null }));
  });
}
