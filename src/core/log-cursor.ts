/**
 * Where a client is in a merged log stream, so a reconnect resumes without duplicates.
 *
 * A cursor is `<time>~<n>`: the newest line time delivered so far (Docker's nanosecond
 * timestamp) and how many delivered lines carry exactly that time. To resume, the server
 * asks the runtime for lines since `<time>` (Docker keeps lines at or after it), drops
 * lines older than it and the first `n` at it, and goes on. Lines from several replicas
 * arrive nearly, not exactly, in time order; one that arrives after a newer line was sent
 * does not move the cursor back (its id repeats the current cursor), so a resume never
 * repeats it, at worst it misses such a straggler that was still in flight.
 */
import { SlipwayError } from './errors';

export interface LogCursor {
  at: string;
  count: number;
}

const CURSOR_RE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z)~([1-9]\d{0,8})$/;
const TIME_RE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/;

export function formatLogCursor(c: LogCursor): string {
  return `${c.at}~${c.count}`;
}

/** Parses a cursor a client sent back; `field` names where it came from in the error. */
export function parseLogCursor(value: string, field: string): LogCursor {
  const m = CURSOR_RE.exec(value.trim());
  if (!m) throw new SlipwayError('SLW_BAD_REQUEST', `${field}: not a log cursor (expected the id of a log event, like 2025-01-01T12:00:00.000000000Z~1)`, [{ path: field, message: 'not a log cursor' }]);
  return { at: m[1]!, count: Number(m[2]) };
}

/**
 * A UTC time with exactly nine fraction digits, so that text order is time order (Docker
 * writes this form; a time without it, e.g. from Date#toISOString, is padded).
 */
export function fixedLogTime(iso: string): string {
  const m = TIME_RE.exec(iso);
  if (m) return `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}Z`;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : fixedLogTime(new Date(t).toISOString());
}

/**
 * Gives each delivered line its cursor and, on a resume, drops the lines the client
 * already has. Feed it line times (fixed form) in delivery order.
 */
export class LogCursorTracker {
  private at: string | null = null;
  private count = 0;
  private skipAtResume = 0;

  constructor(private readonly resumeAfter: LogCursor | null = null) {
    if (resumeAfter) {
      this.at = resumeAfter.at;
      this.count = resumeAfter.count;
      this.skipAtResume = resumeAfter.count;
    }
  }

  /** The cursor of this line, or null when the client already had it (skip it). */
  next(at: string): string | null {
    const after = this.resumeAfter;
    if (after && at < after.at) return null;
    if (after && at === after.at && this.skipAtResume > 0) {
      this.skipAtResume--;
      return null;
    }
    if (this.at === null || at > this.at) {
      this.at = at;
      this.count = 1;
    } else if (at === this.at) {
      this.count++;
    }
    return formatLogCursor({ at: this.at, count: this.count });
  }
}
