/**
 * Log lines of several replicas: the last `tail` lines of each written since `since`
 * (interleaved by time), then, with `follow`, new lines as they are written until every
 * container stops, the consumer stops iterating, or the AbortSignal fires. Replicas
 * started after the call are not picked up (the engine's ServiceLogs adds those).
 */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { LogEntry, LogOptions, Replica } from '../../core/ports/runtime';
import { SlipwayError } from '../../core/errors';
import { dockerCallTolerating, dockerMessage } from './docker-errors';
import { LogDemuxer, demuxAll } from './log-demux';

const DEFAULT_TAIL = 100;
/** Streams pause while this many lines wait for the consumer. */
const HIGH_WATER = 1000;

/** Which lines to ask the engine for. dockerode's types say number; the API takes `all` and `<seconds>.<nanoseconds>`. */
function window(opts: LogOptions): { stdout: true; stderr: true; timestamps: true; tail: number; since?: number } {
  return {
    stdout: true,
    stderr: true,
    timestamps: true,
    tail: (opts.tail ?? DEFAULT_TAIL) as number,
    ...(opts.since ? { since: dockerSince(opts.since) as unknown as number } : {}),
  };
}

/**
 * An ISO time as Docker's `since` (`<unix seconds>.<nanoseconds>`), keeping every digit
 * of the fraction: a resumed stream starts at the exact line it left off (Docker keeps
 * lines at or after `since`).
 */
export function dockerSince(iso: string): string {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(iso);
  const seconds = m ? Date.parse(`${m[1]}${m[3]}`) / 1000 : NaN;
  if (!m || Number.isNaN(seconds)) throw new SlipwayError('SLW_BAD_REQUEST', `not an ISO time: "${iso}"`);
  return `${seconds}.${(m[2] ?? '').padEnd(9, '0')}`;
}

export function replicaLogs(docker: Docker, replicas: Array<Pick<Replica, 'id' | 'name'>>, opts: LogOptions): AsyncGenerator<LogEntry> {
  return opts.follow ? followLogs(docker, replicas, opts) : pastLogs(docker, replicas, opts);
}

async function* pastLogs(docker: Docker, replicas: Array<Pick<Replica, 'id' | 'name'>>, opts: LogOptions): AsyncGenerator<LogEntry> {
  const entries: LogEntry[] = [];
  for (const r of replicas) {
    if (opts.signal?.aborted) return;
    const payload = await dockerCallTolerating(`logs of ${r.name}`, [404], () =>
      docker.getContainer(r.id).logs({ ...window(opts), follow: false }),
    );
    if (payload === undefined) continue; // removed meanwhile
    entries.push(...demuxAll(Buffer.isBuffer(payload) ? payload : Buffer.from(payload as unknown as string, 'binary'), r.name));
  }
  // Docker's timestamps have a fixed width (nanoseconds), so text order is time order; sort is stable.
  entries.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  for (const e of entries) {
    if (opts.signal?.aborted) return;
    yield e;
  }
}

async function* followLogs(docker: Docker, replicas: Array<Pick<Replica, 'id' | 'name'>>, opts: LogOptions): AsyncGenerator<LogEntry> {
  if (opts.signal?.aborted) return;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  const queue: LogEntry[] = [];
  let head = 0;
  let open = 0;
  let failure: unknown = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };
  stop.signal.addEventListener('abort', notify, { once: true });
  const streams: Readable[] = [];

  try {
    for (const r of replicas) {
      const stream = (await dockerCallTolerating(`logs of ${r.name}`, [404], () =>
        docker.getContainer(r.id).logs({ ...window(opts), follow: true }),
      )) as Readable | undefined;
      if (!stream) continue;
      if (stop.signal.aborted) {
        stream.destroy();
        return;
      }
      streams.push(stream);
      open++;
      const demux = new LogDemuxer(r.name);
      stream.on('data', (chunk: Buffer) => {
        queue.push(...demux.push(chunk));
        if (queue.length - head > HIGH_WATER) for (const s of streams) s.pause();
        notify();
      });
      stream.once('error', (err) => {
        if (!stop.signal.aborted) failure ??= err;
      });
      stream.once('close', () => {
        queue.push(...demux.flush());
        open--;
        notify();
      });
    }

    while (!stop.signal.aborted) {
      if (head < queue.length) {
        const entry = queue[head++]!;
        if (head > 4096) {
          queue.splice(0, head);
          head = 0;
        }
        if (queue.length - head < HIGH_WATER / 2) for (const s of streams) if (s.isPaused()) s.resume();
        yield entry;
        continue;
      }
      if (failure) throw new SlipwayError('SLW_RUNTIME', `docker: following logs: ${dockerMessage(failure)}`);
      if (open === 0) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    // Runs when the consumer stops early too: close every connection to the engine.
    stop.abort();
    opts.signal?.removeEventListener('abort', onAbort);
    for (const s of streams) s.destroy();
  }
}
