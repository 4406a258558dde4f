/**
 * The haproxy.cfg lines that make the edge report every request to the control plane as
 * one JSON line (src/core/request-log.ts), through a `ring` forwarded over TCP.
 *
 * Why a ring and TCP rather than UDP syslog (measured, docs/observability.md): a UDP datagram
 * that arrives while the receiver's socket buffer is full, or while the control plane is not
 * running, is dropped by the kernel without HAProxy knowing (its DroppedLogs stays 0). A ring
 * is a buffer inside HAProxy; its forwarder sends over TCP, so a receiver that pauses only
 * slows the forwarder (backpressure), and lines written while the control plane is down wait
 * in the ring (up to `size` bytes) and are sent when it is back. Writing into the ring never
 * blocks a request: when the ring is full the oldest lines are overwritten, so the edge keeps
 * serving whatever happens to the receiver.
 *
 * Values that come from the client (path, headers) are copied into transaction variables at
 * request time (the request buffer is gone when the line is written), cut to a bounded length
 * and escaped with HAProxy's `json(utf8s)` converter (quotes, backslashes, control characters;
 * invalid UTF-8 dropped), so every line is valid JSON and has no raw newline: with `format raw`
 * HAProxy 2.6 forwards one line per message, terminated by LF.
 *
 * The forwarder's target is a unix stream socket in the data directory by default (HAProxy 2.6
 * accepts `unix@<path>` for a ring server; checked on 2.6.12), so no other user can connect to
 * the control plane's listener; `<ip>:<port>` remains for SLIPWAY_REQUEST_LOG_LISTEN set so.
 * Either way every line starts with the request-log key and a space (src/observe/
 * request-log-key.ts): the listener drops lines without it. haproxy.cfg is 0600 in a 0700
 * directory, so the key is readable by the server's user only.
 */
import { MAX_REQUEST_LINE_BYTES, REQUEST_LINE_LIMITS } from '../../core/request-log';

export type RequestLogTarget = (
  | {
      /** Absolute path of the control plane's unix socket (the default, in the data directory). */
      socket: string;
    }
  | {
      /** IP literal of the control plane's TCP listener (loopback in practice). */
      address: string;
      port: number;
    }
) & {
  /** Written with a space at the start of every line: the listener's proof that a line comes from the edge. */
  key: string;
  /** Size of the ring in bytes: how much HAProxy keeps while the control plane is away. */
  bufferBytes: number;
};

export const RING_NAME = 'slipway_requests';

const L = REQUEST_LINE_LIMITS;
const str = (variable: string, max: number) => `"%[var(txn.${variable}),bytes(0,${max}),json(utf8s)]"`;

/** The log-format string: every key of EdgeRequestLine, in its order. */
export const REQUEST_LOG_FORMAT = [
  '{"t":%Ts%ms',
  '"b":"%b"',
  '"s":"%s"',
  '"m":"%HM"',
  `"p":${str('slw_path', L.path)}`,
  '"st":%ST',
  '"by":%B',
  '"ta":%Ta',
  '"tr":%Tr',
  '"ci":"%ci"',
  `"xff":${str('slw_xff', L.forwardedFor)}`,
  `"cf":${str('slw_cf', L.connectingIp)}`,
  `"id":${str('slw_id', L.requestId)}`,
  '"ts":"%ts"}',
].join(',');

/** The `ring` section (goes after `global`). */
export function ringSection(target: RequestLogTarget): string[] {
  // Both end up unquoted in haproxy.cfg.
  if (!/^[A-Za-z0-9_-]{32,128}$/.test(target.key)) throw new Error('request log: the key must be 32 to 128 base64url characters');
  if ('socket' in target && !/^\/[A-Za-z0-9._/+@=-]+$/.test(target.socket)) {
    throw new Error(`request log: socket path "${target.socket}" must be absolute and contain only letters, digits and . _ / + @ = -`);
  }
  return [
    `ring ${RING_NAME}`,
    '  description "per-request JSON lines for the Slipway control plane"',
    '  format raw',
    `  maxlen ${MAX_REQUEST_LINE_BYTES}`,
    `  size ${target.bufferBytes}`,
    '  timeout connect 2s',
    '  timeout server 30s',
    `  server control-plane ${'socket' in target ? `unix@${target.socket}` : hostPort(target.address, target.port)}`,
    '',
  ];
}

/**
 * Lines for `frontend http`. The `set-var` rules must come after the rule that sets
 * X-Request-ID (so the logged id is the one the replica sees) and before `option forwardfor`
 * appends the edge's own entry (it is applied after the frontend's rules).
 */
export function frontendLogLines(target: RequestLogTarget): string[] {
  return [
    `  log ring@${RING_NAME} len ${MAX_REQUEST_LINE_BYTES} format raw local0 info`,
    `  log-format '${target.key} ${REQUEST_LOG_FORMAT}'`,
    '  http-request set-var(txn.slw_path) path',
    '  http-request set-var(txn.slw_id) req.hdr(x-request-id)',
    // The last X-Forwarded-For line in full (several lines are rare: proxies append to the existing one).
    '  http-request set-var(txn.slw_xff) req.fhdr(x-forwarded-for)',
    '  http-request set-var(txn.slw_cf) req.hdr(cf-connecting-ip)',
  ];
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
