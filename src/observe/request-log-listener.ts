/**
 * The listener the edge's ring forwards request lines to (one line per request, LF
 * terminated: HAProxy's `format raw` forwarding). It lives in observe/ rather than drivers/:
 * it implements no core port, depends on node:net only, and is the input of this layer, like
 * an HTTP route is the input of the API. It knows nothing of HAProxy beyond the framing.
 *
 * Authenticated twice (docs/observability.md, "Who can send lines"): by default it is a unix
 * socket in the data directory (socket 0600, directory 0700: other users cannot connect),
 * and every line must start with the request-log key (src/observe/request-log-key.ts), which
 * only the edge's config holds. A line without it is dropped and counted, never ingested, so
 * a process that can connect anyway (root, or anyone with the legacy TCP listener) cannot
 * forge request metrics or canary verdicts.
 *
 * Every connection is read independently: after a seamless reload the old worker's ring
 * forwarder keeps its connection while the new worker opens another. Reading is never paused,
 * so HAProxy's ring only fills when this process is down or too busy to read; the stream's
 * backpressure then makes the lines wait in the ring instead of being dropped.
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import type { Logger } from 'pino';
import { MAX_REQUEST_LINE_BYTES } from '../core/request-log';
import { requestLineAuthenticator } from './request-log-key';

/** Longer than any line the edge writes (its `maxlen`), with room to spare: the rest is dropped. */
const MAX_LINE_CHARS = MAX_REQUEST_LINE_BYTES * 2;
/** At most one debug line per this interval about dropped lines (a flood must not flood the log). */
const DROP_LOG_INTERVAL_MS = 10_000;

export interface ListenerStats {
  connections: number;
  /** Authenticated lines handed on. */
  lines: number;
  /** Lines cut because they exceeded the limit (they cannot be a line the edge wrote). */
  oversized: number;
  /** Lines dropped because they did not start with the request-log key: not from the edge. */
  unauthenticated: number;
}

export interface RequestLogListenerOptions {
  /** The request-log key every line must start with (followed by one space). */
  key: string;
  /** Dropped lines are reported at debug level, at most once per 10 s. */
  logger?: Logger;
}

export class RequestLogListener {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  readonly stats: ListenerStats = { connections: 0, lines: 0, oversized: 0, unauthenticated: 0 };
  private readonly authenticate: (line: string) => string | null;
  private readonly log: Logger | undefined;
  private droppedLogged = 0;
  private lastDropLog = 0;
  /** Connections of checkAccepting() not accepted yet: not counted in `stats.connections`. */
  private pendingProbes = 0;

  constructor(
    private readonly onLine: (line: string) => void,
    opts: RequestLogListenerOptions,
  ) {
    this.authenticate = requestLineAuthenticator(opts.key);
    this.log = opts.logger;
    this.server = net.createServer((sock) => this.accept(sock));
  }

  /** Binds; resolves with the port (useful with port 0). Rejects with EADDRINUSE and the like. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen({ host, port, exclusive: true }, () => {
        this.server.off('error', onError);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  /**
   * Binds a unix socket at `file` with mode 0600. A socket file left by a control plane that
   * died is replaced; one that still answers belongs to a running control plane (EADDRINUSE),
   * and anything that is not a socket is left alone (an error).
   */
  async listenUnix(file: string): Promise<void> {
    const st = lstatOrNull(file);
    if (st && !st.isSocket()) throw new Error(`${file} exists and is not a socket`);
    if (st) {
      if (await answers(file)) throw Object.assign(new Error(`${file} is in use by another process (EADDRINUSE)`), { code: 'EADDRINUSE' });
      unlinkSync(file);
    }
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen({ path: file, exclusive: true }, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    // The directory is 0700 already; this keeps the socket private even where it is not.
    chmodSync(file, 0o600);
  }

  /**
   * Resolves once a connection to the bound socket (or address) is accepted, as the edge's
   * would be; rejects saying why not (never bound, closed, the socket file removed). The
   * `request-log` check of /readyz. The probe's connection is not counted in `stats`.
   */
  async checkAccepting(): Promise<void> {
    const address = this.server.listening ? this.server.address() : null;
    if (!address) throw new Error('the request-log listener is not listening: the edge\'s request lines wait in its ring (request metrics and canary figures stall)');
    const target = typeof address === 'string' ? { path: address } : { host: address.address, port: address.port };
    const where = typeof address === 'string' ? address : `${address.address}:${address.port}`;
    this.pendingProbes++;
    await new Promise<void>((resolve, reject) => {
      const s = net.createConnection(target);
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', (err) => {
        this.pendingProbes--;
        reject(new Error(`the request-log listener on ${where} does not accept connections (${err.message}): the edge cannot send its request lines`));
      });
    });
  }

  /**
   * Stops accepting, then half-closes each connection and keeps reading until HAProxy closes
   * its side (at most `graceMs`): every line HAProxy wrote before it saw our FIN is read, and
   * the ones after stay in its ring until we are back. Destroying the socket at once would
   * lose what sits unread in the kernel's receive buffer.
   */
  async close(graceMs = 2000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.all(
      [...this.sockets].map(
        (s) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => s.destroy(), graceMs);
            s.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
            s.end();
          }),
      ),
    );
    await closed;
  }

  private accept(sock: net.Socket): void {
    this.sockets.add(sock);
    if (this.pendingProbes > 0) this.pendingProbes--;
    else this.stats.connections++;
    sock.setEncoding('utf8');
    sock.setNoDelay(true);
    let pending = '';
    let skipping = false;
    sock.on('data', (chunk: string) => {
      let from = 0;
      for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', from)) {
        const part = chunk.slice(from, nl);
        from = nl + 1;
        if (skipping) {
          skipping = false;
          pending = '';
          continue;
        }
        const line = pending ? pending + part : part;
        pending = '';
        if (line.length > MAX_LINE_CHARS) this.stats.oversized++;
        else if (line.length > 0) this.emit(line);
      }
      if (from < chunk.length && !skipping) {
        pending += chunk.slice(from);
        if (pending.length > MAX_LINE_CHARS) {
          this.stats.oversized++;
          pending = '';
          skipping = true;
        }
      }
    });
    sock.on('error', () => undefined); // a reset by the peer: 'close' follows
    sock.on('close', () => this.sockets.delete(sock));
  }

  private emit(line: string): void {
    const body = this.authenticate(line);
    if (body === null) return this.dropped();
    this.stats.lines++;
    this.onLine(body);
  }

  private dropped(): void {
    this.stats.unauthenticated++;
    const now = Date.now();
    if (!this.log || now - this.lastDropLog < DROP_LOG_INTERVAL_MS) return;
    // Never the line itself: it is whatever a stranger sent.
    this.log.debug({ dropped: this.stats.unauthenticated - this.droppedLogged, total: this.stats.unauthenticated }, 'request log: dropped lines without the request-log key (not from the edge)');
    this.droppedLogged = this.stats.unauthenticated;
    this.lastDropLog = now;
  }
}

function lstatOrNull(file: string) {
  try {
    return lstatSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Whether a process accepts connections on the unix socket `file`. */
function answers(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection({ path: file });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
