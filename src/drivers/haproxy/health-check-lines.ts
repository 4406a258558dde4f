/**
 * Edge health checks of a backend's servers: HAProxy active HTTP checks on the service's health
 * path (or, for `kind: tcp`, a TCP connect to the server's port: `check` without
 * `option httpchk`), plus passive observation of connection errors. The same options go on servers written
 * in haproxy.cfg and on servers added at runtime (`add server … check …`), so a reload never
 * changes how a server is checked.
 */
import { SlipwayError } from '../../core/errors';
import type { EdgeHealthCheck } from '../../core/ports/edge';

/** What haproxy.cfg can carry unquoted (the config schema's health.path rule, checked again here). */
const PATH = /^\/[A-Za-z0-9\-._~!&()*+,;=:@%/?]*$/;
const HOST = /^[a-z0-9]([a-z0-9._-]{0,252})$/i;

export function assertHealthCheck(c: EdgeHealthCheck): void {
  const bad = (what: string) => new SlipwayError('SLW_EDGE', `edge health check: ${what}`);
  if (c.kind !== undefined && c.kind !== 'http' && c.kind !== 'tcp') throw bad(`kind ${JSON.stringify(c.kind)} must be "http" or "tcp"`);
  if (c.kind !== 'tcp' && (typeof c.path !== 'string' || !PATH.test(c.path))) throw bad(`path ${JSON.stringify(c.path)} must be a URL path such as "/health"`);
  if (typeof c.host !== 'string' || !HOST.test(c.host)) throw bad(`host ${JSON.stringify(c.host)} must be a host name`);
  for (const [k, min, max] of [['intervalMs', 100, 3_600_000], ['timeoutMs', 1, 3_600_000], ['fall', 1, 100], ['rise', 1, 100]] as const) {
    const v = c[k];
    if (!Number.isInteger(v) || v < min || v > max) throw bad(`${k} must be a whole number between ${min} and ${max} (got ${String(v)})`);
  }
}

/** Lines of the backend section: what a check sends and what counts as healthy (2xx/3xx, as Slipway's readiness probe; for tcp, a connection). */
export function backendCheckLines(c: EdgeHealthCheck): string[] {
  assertHealthCheck(c);
  if (c.kind === 'tcp') return [`  timeout check ${c.timeoutMs}ms`];
  return [
    '  option httpchk',
    `  http-check send meth GET uri ${c.path} ver HTTP/1.1 hdr Host ${c.host}`,
    '  http-check expect status 200-399',
    `  timeout check ${c.timeoutMs}ms`,
  ];
}

/**
 * Options of each server: checked every interval; `fall` failures take it out, `rise` successes
 * bring it back. Connection errors seen on live traffic count too (`observe layer4`): `fall` of
 * them in a row mark it down at once, without waiting for the next check. HTTP errors do not
 * (layer7 would hide a canary's 500s from the canary analysis). Health is orthogonal to
 * weight (standby, canary splits) and to drain/maint, which are administrative states that a
 * check never changes.
 */
export function serverCheckOptions(c: EdgeHealthCheck): string {
  return `check inter ${c.intervalMs}ms fall ${c.fall} rise ${c.rise} observe layer4 error-limit ${c.fall} on-error mark-down`;
}
