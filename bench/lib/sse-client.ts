/**
 * One Server-Sent Events client that holds a stream open and reconnects when it ends, as a
 * browser's EventSource does, and counts what a user of a live page would notice across
 * deploys (node:http only, loopback only).
 *
 * What counts (the bench documents the same rules):
 * - a **clean end**: the response ended completely (the server closed the stream on purpose,
 *   e.g. on SIGTERM during a drain). An interruption, not a failure, if the reconnect works.
 * - a **failure**, by kind: the stream cut mid-response ('aborted', 'ECONNRESET', …); a
 *   (re)connect that fails ('ECONNREFUSED', 'non2xx:503', 'connect_timeout', …); an open
 *   stream that goes silent for stallMs ('stall').
 * - **gaps**: the longest time without a tick (ticks every 200 ms from examples/hello), over
 *   the whole run, so reconnects after a clean end show up too.
 */
import http from 'node:http';
import { assertLoopback } from './load-generator';

export interface SseOptions {
  /** e.g. http://127.0.0.1:18080/events */
  url: string;
  hostHeader?: string;
  /** An open stream with no tick for this long is cut and counted as a 'stall', default 3000. */
  stallMs?: number;
  /** No response headers within this long: 'connect_timeout', default 5000. */
  connectTimeoutMs?: number;
  /** Pause before reconnecting after a failure (a clean end reconnects at once), default 100. */
  retryMs?: number;
}

export interface SseReport {
  /** Streams opened (200 with text/event-stream). */
  connects: number;
  ticks: number;
  /** Opened streams that ended, cleanly or not, while the client still wanted them. */
  interruptions: number;
  cleanEnds: number;
  /** Clean ends that carried the server's `end` event (examples/hello sends it on SIGTERM). */
  endEvents: number;
  failures: number;
  /** Failures by kind. */
  errors: Record<string, number>;
  /** Longest time without a tick, in ms. */
  maxGapMs: number;
  /** The first 20 failures. */
  firstFailures: Array<{ at: number; kind: string }>;
}

export interface SseRun {
  snapshot(): SseReport;
  /** Closes the stream (not counted as an interruption) and returns the final report. */
  stop(): Promise<SseReport>;
}

type Outcome = { kind: 'clean' } | { kind: 'failure'; reason: string } | { kind: 'stopped' };

export function startSse(opts: SseOptions): SseRun {
  const target = assertLoopback(opts.url);
  const stallMs = opts.stallMs ?? 3000;
  const connectTimeoutMs = opts.connectTimeoutMs ?? 5000;
  const retryMs = opts.retryMs ?? 100;
  const report: SseReport = { connects: 0, ticks: 0, interruptions: 0, cleanEnds: 0, endEvents: 0, failures: 0, errors: {}, maxGapMs: 0, firstFailures: [] };
  let lastTickAt = Date.now();
  let running = true;
  let current: http.ClientRequest | null = null;

  const gapUntil = (now: number): void => {
    report.maxGapMs = Math.max(report.maxGapMs, now - lastTickAt);
  };
  const fail = (kind: string): void => {
    report.failures++;
    report.errors[kind] = (report.errors[kind] ?? 0) + 1;
    if (report.firstFailures.length < 20) report.firstFailures.push({ at: Date.now(), kind });
  };
  const onEvent = (block: string): void => {
    const type = /^event: *(.*)$/m.exec(block)?.[1] ?? 'message';
    if (type === 'tick') {
      const now = Date.now();
      gapUntil(now);
      lastTickAt = now;
      report.ticks++;
    } else if (type === 'end') {
      report.endEvents++;
    }
  };

  /** One stream from connect to its end; resolves with how it ended. */
  const oneStream = (): Promise<Outcome> =>
    new Promise((resolve) => {
      let settled = false;
      let opened = false;
      let timer: NodeJS.Timeout | undefined;
      const settle = (o: Outcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (opened && o.kind !== 'stopped') report.interruptions++;
        resolve(o);
        req.destroy();
      };
      // Armed before the headers (connect) and re-armed on every chunk (stall).
      const arm = (ms: number, reason: string): void => {
        clearTimeout(timer);
        timer = setTimeout(() => settle({ kind: 'failure', reason }), ms);
      };
      const req = http.request(
        { host: target.hostname, port: Number(target.port) || 80, path: `${target.pathname}${target.search}`, agent: false, headers: { accept: 'text/event-stream', ...(opts.hostHeader ? { host: opts.hostHeader } : {}) } },
        (res) => {
          if (res.statusCode !== 200 || !String(res.headers['content-type']).startsWith('text/event-stream')) {
            res.resume();
            return settle({ kind: 'failure', reason: `non2xx:${res.statusCode}` });
          }
          opened = true;
          report.connects++;
          arm(stallMs, 'stall');
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            arm(stallMs, 'stall');
            buf += chunk;
            let sep: number;
            while ((sep = buf.indexOf('\n\n')) >= 0) {
              onEvent(buf.slice(0, sep));
              buf = buf.slice(sep + 2);
            }
          });
          res.on('end', () => settle(running ? { kind: 'clean' } : { kind: 'stopped' }));
          res.on('aborted', () => settle(running ? { kind: 'failure', reason: 'aborted' } : { kind: 'stopped' }));
          res.on('error', (err) => settle(running ? { kind: 'failure', reason: errKind(err) } : { kind: 'stopped' }));
        },
      );
      current = req;
      arm(connectTimeoutMs, 'connect_timeout');
      req.on('error', (err) => settle(running ? { kind: 'failure', reason: errKind(err) } : { kind: 'stopped' }));
      req.on('close', () => setImmediate(() => settle(running ? { kind: 'failure', reason: opened ? 'closed' : 'socket hang up' } : { kind: 'stopped' })));
      req.end();
    });

  const loop = (async () => {
    while (running) {
      const o = await oneStream();
      if (o.kind === 'clean') report.cleanEnds++;
      if (o.kind === 'failure') {
        fail(o.reason);
        await new Promise((r) => setTimeout(r, retryMs));
      }
    }
  })();

  const snapshot = (): SseReport => {
    if (running) gapUntil(Date.now());
    return { ...report, errors: { ...report.errors }, firstFailures: report.firstFailures.map((f) => ({ ...f })) };
  };
  return {
    snapshot,
    async stop() {
      if (running) gapUntil(Date.now());
      running = false;
      current?.destroy();
      await loop;
      return snapshot();
    },
  };
}

function errKind(err: Error): string {
  return (err as NodeJS.ErrnoException).code ?? (err.message.slice(0, 60) || err.name);
}
