/**
 * Docker's multiplexed stdout/stderr stream (containers without a TTY) → log lines.
 * Each frame is an 8-byte header ([stream, 0, 0, 0, size uint32 BE]) and its payload;
 * frames can be cut anywhere by the transport, and a line can span frames. With
 * `timestamps: true` every line starts with an RFC 3339 time and a space.
 */
import { StringDecoder } from 'node:string_decoder';
import type { LogEntry } from '../../core/ports/runtime';

type StreamName = LogEntry['stream'];

const HEADER = 8;
const TIMESTAMP_RE = /^(\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:\d{2})) /;

export class LogDemuxer {
  private pending: Buffer = Buffer.alloc(0);
  private readonly partial: Record<StreamName, string> = { stdout: '', stderr: '' };
  /** Per stream, so a character cut between two frames is decoded whole. */
  private readonly decoders: Record<StreamName, StringDecoder> = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };

  /** `timestamps`: lines start with Docker's timestamp (logs asked with `timestamps: true`); off for raw output (exec). */
  constructor(
    private readonly replica: string,
    private readonly timestamps = true,
  ) {}

  /** Feeds raw bytes; returns the complete lines they finish. */
  push(chunk: Buffer): LogEntry[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: LogEntry[] = [];
    let offset = 0;
    while (offset + HEADER <= this.pending.length) {
      const size = this.pending.readUInt32BE(offset + 4);
      if (offset + HEADER + size > this.pending.length) break;
      const stream: StreamName = this.pending[offset] === 2 ? 'stderr' : 'stdout';
      const text = this.partial[stream] + this.decoders[stream].write(this.pending.subarray(offset + HEADER, offset + HEADER + size));
      const lines = text.split('\n');
      this.partial[stream] = lines.pop() ?? '';
      for (const line of lines) out.push(this.entry(line, stream));
      offset += HEADER + size;
    }
    this.pending = this.pending.subarray(offset);
    return out;
  }

  /** At the end of the stream: the last lines that had no newline. */
  flush(): LogEntry[] {
    const out: LogEntry[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      this.partial[stream] += this.decoders[stream].end();
      if (this.partial[stream]) out.push(this.entry(this.partial[stream], stream));
      this.partial[stream] = '';
    }
    this.pending = Buffer.alloc(0);
    return out;
  }

  private entry(raw: string, stream: StreamName): LogEntry {
    const m = this.timestamps ? TIMESTAMP_RE.exec(raw) : null;
    const line = (m ? raw.slice(m[0].length) : raw).replace(/\r$/, '');
    return { replica: this.replica, stream, at: m ? m[1]! : new Date().toISOString(), line };
  }
}

/** Splits a complete (non-followed) log payload. */
export function demuxAll(payload: Buffer, replica: string): LogEntry[] {
  const d = new LogDemuxer(replica);
  return [...d.push(payload), ...d.flush()];
}
