/** Durations in slipway.yml: `500ms`, `2s`, `1m`, `1h`, `30d`, or a bare number of seconds. */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/**
 * The longest duration Slipway waits on with a timer. Node's setTimeout fires at once
 * beyond 2^31-1 ms (≈24.8 days), so every timer duration (config, `run --timeout`) stops at 24d.
 */
export const MAX_TIMER_MS = 24 * UNIT_MS.d!;
/** The longest duration that is a date offset, not a timer (token lifetimes, HSTS max-age, look-backs). */
export const MAX_SPAN_MS = 3650 * UNIT_MS.d!;

/**
 * Returns milliseconds, or null when the value is not a duration. Values too large to be
 * exact (1e308, `999…9d`, Infinity, NaN) are not durations: they would become Infinity or
 * an invalid date downstream.
 */
export function parseDuration(value: string | number): number | null {
  let ms: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return null;
    ms = Math.round(value * 1000);
  } else {
    if (typeof value !== 'string' || value.length > 32) return null;
    const m = DURATION_RE.exec(value.trim());
    if (!m) return null;
    ms = Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
  }
  return Number.isSafeInteger(ms) ? ms : null;
}

/** Why a value is not a duration of at most `maxMs`, or null when it is one. */
export function durationProblem(value: unknown, maxMs: number, example = '"500ms", "2s" or "1m"'): string | null {
  if (typeof value !== 'string' && typeof value !== 'number') return `must be a duration such as ${example}`;
  const ms = parseDuration(value);
  if (ms === null) return `must be a duration such as ${example}`;
  if (ms > maxMs) return `must be at most ${formatLimit(maxMs)}`;
  return null;
}

/** A limit as written in slipway.yml (`24d`, `3650d`, `1h`). */
function formatLimit(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) if (ms % UNIT_MS[unit]! === 0) return `${ms / UNIT_MS[unit]!}${unit}`;
  return `${ms}ms`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}
