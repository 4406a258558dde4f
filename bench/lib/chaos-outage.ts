/**
 * The chaos bench's figures, from what it recorded: one record per request (when it was sent,
 * when it ended, how) and the consistency checks it polled. Pure functions.
 */

export type RequestClass = 'main' | 'long';

export interface RequestRecord {
  cls: RequestClass;
  /** Date.now() when the request was sent. */
  sentAt: number;
  /** Date.now() when it was counted (response read, error, or timeout). */
  endAt: number;
  ok: boolean;
  /** Failures: 'non2xx:503', 'ECONNREFUSED', 'ECONNRESET', 'timeout', … */
  kind?: string;
}

/**
 * When a failure happened: when it was recorded, except for a timeout, which says the entry
 * point was not answering when the request was sent (its end is only our timer going off).
 */
export function failureAt(r: RequestRecord): number {
  return r.kind === 'timeout' ? r.sentAt : r.endAt;
}

export interface WindowFigures {
  /** Requests of the main load sent in the window. */
  requests: number;
  failed: number;
  longRequests: number;
  longFailed: number;
  /** Failures by kind, both classes. */
  errors: Record<string, number>;
  /** First and last failure (any class), ms after the fault; null without failures. */
  firstFailureMs: number | null;
  lastFailureMs: number | null;
  /** First to last failure; 0 for a single failure, null without failures. */
  outageMs: number | null;
}

/**
 * Figures of one fault's window [from, to): a request belongs to the window its failure time
 * (failed) or its send time (ok) falls in, so every request counts in exactly one window.
 */
export function windowFigures(records: readonly RequestRecord[], faultAt: number, from: number, to: number): WindowFigures {
  const out: WindowFigures = { requests: 0, failed: 0, longRequests: 0, longFailed: 0, errors: {}, firstFailureMs: null, lastFailureMs: null, outageMs: null };
  let first = Infinity;
  let last = -Infinity;
  for (const r of records) {
    const at = r.ok ? r.sentAt : failureAt(r);
    if (at < from || at >= to) continue;
    if (r.cls === 'main') out.requests++;
    else out.longRequests++;
    if (r.ok) continue;
    if (r.cls === 'main') out.failed++;
    else out.longFailed++;
    const kind = r.kind ?? 'unknown';
    out.errors[kind] = (out.errors[kind] ?? 0) + 1;
    first = Math.min(first, at);
    last = Math.max(last, at);
  }
  if (first !== Infinity) {
    out.firstFailureMs = first - faultAt;
    out.lastFailureMs = last - faultAt;
    out.outageMs = last - first;
  }
  return out;
}

export interface Check {
  at: number;
  ok: boolean;
}

/**
 * When the system was back for good after a fault: the first check of the final run of
 * passing checks (every check from it to the end passed), if that run begins after the fault.
 * Null when the last check failed, or no check after the fault passed.
 */
export function recoveredAt(checks: readonly Check[], faultAt: number): number | null {
  const after = checks.filter((c) => c.at >= faultAt).sort((a, b) => a.at - b.at);
  if (after.length === 0 || !after[after.length - 1]!.ok) return null;
  let i = after.length - 1;
  while (i > 0 && after[i - 1]!.ok) i--;
  return after[i]!.at;
}

/**
 * Time to full recovery: the later of "consistent again for good" and "the last failed request";
 * null when it never became consistent.
 */
export function recoveryMs(checks: readonly Check[], faultAt: number, lastFailureMs: number | null): number | null {
  const back = recoveredAt(checks, faultAt);
  if (back === null) return null;
  return Math.max(back - faultAt, lastFailureMs ?? 0);
}

/** Nearest-rank quantile of a sample (0 for none). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
