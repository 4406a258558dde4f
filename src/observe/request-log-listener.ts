/**
 * The TCP listener the edge's ring forwards request lines to (one JSON object per line, LF
 * terminated: HAProxy's `format raw` forwarding). It lives in observe/ rather than drivers/:
 * it implements no core port, depends on node:net only, and is the input of this layer, like
 * an HTTP route is the input of the API. It knows nothing of HAProxy beyond the framing.
 *
 * Every connection is read independently: after a seamless reload the old worker's ring
 * forwarder keeps its connection while the new worker opens another. Reading is never paused,
 * so HAProxy's ring only fills when this process is down or too busy to read; TCP's
 * backpressure then makes the lines wait in the ring instead of being dropped.
 */
import net from 'node:net';
import { MAX_REQUEST_LINE_BYTES } from '../core/request-log';

/** Longer than any line the edge writes (its `maxlen`), with room to spare: the rest is dropped. */
const MAX_LINE_CHARS = MAX_REQUEST_LINE_BYTES * 2;

export interface ListenerStats {
  connections: number;
  lines: number;
  /** Lines cut because they exceeded the limit (they cannot be a line the edge wrote). */
  oversized: number;
}

export class RequestLogListener {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  readonly stats: ListenerStats = { connections: 0, lines: 0, oversized: 0 };

  constructor(private readonly onLine: (line: string) => void) {
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
    this.stats.connections++;
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
    this.stats.lines++;
    this.onLine(line);
  }
}
