/**
 * Log lines of several replicas: the last `tail` lines of each (interleaved by time),
 * then, with `follow`, new lines as they are written until every container stops, the
 * consumer stops iterating, or the AbortSignal fires. Replicas started after the call
 * are not picked up.
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

export function replicaLogs(docker: Docker, replicas: Replica[], opts: LogOptions): AsyncGenerator<LogEntry> {
  return opts.follow ? followLogs(docker, replicas, opts) : pastLogs(docker, replicas, opts);
}

async function* pastLogs(docker: Docker, replicas: Replica[], opts: LogOptions): AsyncGenerator<LogEntry> {
  const entries: LogEntry[] = [];
  for (const r of replicas) {
    if (opts.signal?.aborted) return;
    const payload = await dockerCallTolerating(`logs of ${r.name}`, [404], () =>
      docker.getContainer(r.id).logs({ stdout: true, stderr: true, timestamps: true, tail: opts.tail ?? DEFAULT_TAIL, follow: false }),
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

async function* followLogs(docker: Docker, replicas: Replica[], opts: LogOptions): AsyncGenerator<LogEntry> {
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
        docker.getContainer(r.id).logs({ stdout: true, stderr: true, timestamps: true, tail: opts.tail ?? DEFAULT_TAIL, follow: true }),
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
