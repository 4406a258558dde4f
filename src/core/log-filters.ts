/**
 * The filters of a log query, applied by the server: `since` (a duration back from now or
 * an ISO time) and `grep` (a regular expression).
 *
 * The pattern comes from any `read` token and runs against every line on the control
 * plane, so it is compiled with RE2 (re2js, linear-time matching) rather than JavaScript's
 * backtracking engine: a pattern like `(a+)+$` cannot stall the server. RE2 syntax is
 * what users of grep -E expect, minus backreferences and lookaround; `(?i)` makes it
 * case-insensitive.
 */
import { RE2JS } from 're2js';
import { parseDuration } from './duration';

export const MAX_GREP_LENGTH = 500;

/** Lines are matched up to this many characters: a megabyte-long line costs no more than this. */
const MAX_MATCHED_LINE = 16_384;

/** A duration back from `now` (`10m`, `2h`) or an ISO time → ISO time; null when it is neither. */
export function parseLogSince(value: string, now = Date.now()): string | null {
  const v = value.trim();
  const ago = parseDuration(v);
  if (ago !== null) return new Date(now - ago).toISOString();
  if (!/^\d{4}-\d\d-\d\d(T|$)/.test(v)) return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

/** A predicate for lines matching `pattern` anywhere, or the reason the pattern is not valid. */
export function compileLogGrep(pattern: string): { test: (line: string) => boolean } | { problem: string } {
  if (pattern.length === 0) return { problem: 'must not be empty' };
  if (pattern.length > MAX_GREP_LENGTH) return { problem: `must be at most ${MAX_GREP_LENGTH} characters` };
  try {
    const re = RE2JS.compile(pattern);
    return { test: (line) => re.test(line.length > MAX_MATCHED_LINE ? line.slice(0, MAX_MATCHED_LINE) : line) };
  } catch (err) {
    // re2js: "error parsing regexp: missing closing ): `a(`"
    return { problem: `not a valid regular expression (${(err as Error).message.replace(/^error parsing regexp: /, '')})` };
  }
}
