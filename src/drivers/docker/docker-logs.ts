/** Docker's multiplexed log stream (8-byte frame headers) → lines, plus merging several streams. */
import type { Readable } from 'node:stream';
import type { LogEntry } from '../../core/ports/runtime';

/** Splits a multiplexed log payload into entries; `timestamps: true` lines start with an RFC3339 time. */
export function* demuxBuffer(buf: Buffer, replica: string): Generator<LogEntry> {
  let offset = 0;
  const partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  while (offset + 8 <= buf.length) {
    const type = buf[offset];
    const size = buf.readUInt32BE(offset + 4);
    const chunk = buf.subarray(offset + 8, offset + 8 + size).toString('utf8');
    offset += 8 + size;
    const stream = type === 2 ? 'stderr' : 'stdout';
    const text = partial[stream] + chunk;
    const lines = text.split('\n');
    partial[stream] = lines.pop() ?? '';
    for (const l of lines) yield toEntry(l, stream, replica);
  }
  for (const stream of ['stdout', 'stderr'] as const) if (partial[stream]) yield toEntry(partial[stream], stream, replica);
}

/** Follows a live multiplexed stream. */
export async function* demuxStream(stream: Readable, replica: string): AsyncGenerator<LogEntry> {
  let pending = Buffer.alloc(0);
  for await (const chunk of stream) {
    pending = Buffer.concat([pending, chunk as Buffer]);
    // Emit only complete frames; keep the rest for the next chunk.
    let offset = 0;
    while (offset + 8 <= pending.length) {
      const size = pending.readUInt32BE(offset + 4);
      if (offset + 8 + size > pending.length) break;
      offset += 8 + size;
    }
    yield* demuxBuffer(pending.subarray(0, offset), replica);
    pending = pending.subarray(offset);
  }
}

function toEntry(raw: string, stream: 'stdout' | 'stderr', replica: string): LogEntry {
  const sp = raw.indexOf(' ');
  const maybeTime = sp > 0 ? raw.slice(0, sp) : '';
  const isTime = /^\d{4}-\d{2}-\d{2}T/.test(maybeTime);
  return { replica, stream, at: isTime ? maybeTime : new Date().toISOString(), line: (isTime ? raw.slice(sp + 1) : raw).replace(/\r$/, '') };
}

/** Interleaves several async iterables as their items arrive. */
export async function* mergeIterables<T>(sources: AsyncIterable<T>[]): AsyncGenerator<T> {
  const iterators = sources.map((s) => s[Symbol.asyncIterator]());
  const next = new Map<number, Promise<{ i: number; r: IteratorResult<T> }>>();
  iterators.forEach((it, i) => next.set(i, it.next().then((r) => ({ i, r }))));
  while (next.size > 0) {
    const { i, r } = await Promise.race(next.values());
    if (r.done) next.delete(i);
    else {
      next.set(i, iterators[i]!.next().then((res) => ({ i, r: res })));
      yield r.value;
    }
  }
}
