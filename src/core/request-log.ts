/**
 * The edge's per-request log line: one JSON object per request, produced by the edge
 * driver (HAProxy `log-format`, src/drivers/haproxy/request-log-format.ts) and read by
 * src/observe/parse-request-log.ts. It lives in core because both sides must agree on it
 * and neither may import the other.
 *
 * Keys are short on purpose: at full edge speed every byte is sent tens of thousands of
 * times a second. Strings the edge could not fill are `"-"` (HAProxy prints an absent
 * sample that way); numbers the edge could not measure are -1.
 */
export interface EdgeRequestLine {
  /** Request start, epoch milliseconds. */
  t: number;
  /** Backend name (`be_<project>_<service>_<env>`, see backendName()), or the frontend's name when no backend was chosen. */
  b: string;
  /** Server (replica) name, `<NOSRV>` when no server answered. */
  s: string;
  /** Method. */
  m: string;
  /** Path without the query string. */
  p: string;
  /** Status sent to the client; -1 when the client went away before an answer. */
  st: number;
  /** Bytes sent to the client (headers and body). */
  by: number;
  /** Total active time (ms): from the first byte of the request to the last byte of the answer. */
  ta: number;
  /** Time the replica took to send its response headers (ms), -1 if it never answered. */
  tr: number;
  /** The peer address of the connection. */
  ci: string;
  /** X-Forwarded-For as the client sent it (before the edge appended its own entry). */
  xff: string;
  /** CF-Connecting-IP as the client sent it. */
  cf: string;
  /** X-Request-ID: the client's, else the UUID the edge set. */
  id: string;
  /** HAProxy's two-letter termination state (`--` for a normal end, `CD` client abort, `SH` server timeout…). */
  ts: string;
}

/** How the edge marks a string field it had nothing for. */
export const ABSENT = '-';

/** Longest value the edge copies into a line, per field (longer ones are cut): keeps every line under MAX_REQUEST_LINE_BYTES. */
export const REQUEST_LINE_LIMITS = { path: 512, forwardedFor: 256, connectingIp: 64, requestId: 128 } as const;

/** Upper bound of one line (JSON escaping can grow a byte to 6): the edge's `maxlen`, the listener's line limit. */
export const MAX_REQUEST_LINE_BYTES = 8192;
