/**
 * Open-model load that keeps a record of every request (sent, ended, how), for the chaos bench:
 * its figures are per fault window, so it needs when each failure happened, which the counting
 * load generator (load-generator.ts) does not keep. Requests start on a fixed schedule whatever
 * the answers; loopback targets only; one keep-alive agent.
 */
import http from 'node:http';
import { assertLoopback } from './load-generator';
import type { RequestClass, RequestRecord } from './chaos-outage';

export interface RecordedLoadOptions {
  url: string;
  hostHeader?: string;
  ratePerSec: number;
  path: string;
  timeoutMs: number;
  cls: RequestClass;
  /** Where records are appended (shared by the classes of one run). */
  records: RequestRecord[];
}

export interface RecordedLoad {
  /** Stops issuing and waits for the requests in flight (each bounded by its timeout). */
  stop(): Promise<void>;
}

/** Beyond this many in flight a due request is not sent and is recorded as 'dropped_by_generator'. */
const MAX_IN_FLIGHT = 1000;

export function startRecordedLoad(opts: RecordedLoadOptions): RecordedLoad {
  const target = assertLoopback(opts.url);
  if (!(opts.ratePerSec > 0)) throw new Error(`chaos load: ratePerSec must be positive, got ${opts.ratePerSec}`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT });
  const headers: http.OutgoingHttpHeaders = opts.hostHeader ? { host: opts.hostHeader } : {};
  const inFlight = new Set<Promise<void>>();
  let issuing = true;
  let timer: NodeJS.Timeout | undefined;

  const fire = (): void => {
    const sentAt = Date.now();
    const p = new Promise<void>((resolve) => {
      let done = false;
      const end = (kind?: string): void => {
        if (done) return;
        done = true;
        clearTimeout(deadline);
        opts.records.push({ cls: opts.cls, sentAt, endAt: Date.now(), ok: kind === undefined, ...(kind !== undefined ? { kind } : {}) });
        resolve();
      };
      const req = http.request({ host: target.hostname, port: Number(target.port) || 80, path: opts.path, method: 'GET', agent, headers }, (res) => {
        res.on('data', () => undefined);
        res.on('error', (err: NodeJS.ErrnoException) => end(err.code ?? err.message));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          end(status >= 200 && status < 300 ? undefined : `non2xx:${status}`);
        });
        res.on('close', () => setImmediate(() => end('ECONNRESET')));
      });
      const deadline = setTimeout(() => {
        end('timeout');
        req.destroy();
      }, opts.timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => end(err.message === 'socket hang up' ? 'socket hang up' : (err.code ?? err.message)));
      req.end();
    });
    inFlight.add(p);
    void p.then(() => inFlight.delete(p));
  };

  // Request k is due k/rate s after the start; after a stall the due ones go out at once.
  const start = Date.now();
  let issued = 0;
  const tick = (): void => {
    if (!issuing) return;
    const due = Math.floor(((Date.now() - start) * opts.ratePerSec) / 1000) + 1;
    while (issued < due) {
      issued++;
      if (inFlight.size >= MAX_IN_FLIGHT) {
        const now = Date.now();
        opts.records.push({ cls: opts.cls, sentAt: now, endAt: now, ok: false, kind: 'dropped_by_generator' });
      } else fire();
    }
    timer = setTimeout(tick, Math.max(0, start + (issued * 1000) / opts.ratePerSec - Date.now()));
  };
  tick();

  return {
    async stop() {
      issuing = false;
      clearTimeout(timer);
      while (inFlight.size > 0) await Promise.all([...inFlight]);
      agent.destroy();
    },
  };
}
