/**
 * The haproxy.cfg lines for HTTPS at the edge: TLS defaults, the TLS listener (a default
 * certificate for unknown hosts, then one crt-list of per-domain certificates that the
 * runtime API changes without a reload), the HTTP → HTTPS redirect and HSTS per host (both
 * runtime maps), X-Forwarded-Proto, and the route of ACME HTTP-01 challenges (and of the
 * control plane's own domain) to the control plane.
 */

export interface HttpsRender {
  port: number;
  /** Certificate served to clients whose SNI matches no installed certificate. */
  defaultCert: string;
  crtList: string;
  /** host → 1: plain HTTP requests for the host are redirected to HTTPS. */
  redirectMap: string;
  /** host → Strict-Transport-Security value, sent on HTTPS answers for the host. */
  hstsMap: string;
}

/** The control plane as a backend: ACME challenges, and its own domain (dashboard/API) when set. */
export interface ControlRender {
  address: string;
  port: number;
}

/** The Host header (lowercased, port cut) looked up in a map file. */
export function hostLookup(mapFile: string): string {
  return `req.hdr(host),lower,word(1,:),map(${mapFile})`;
}

export const CONTROL_BACKEND = 'slipway_control';
export const ACME_PATH = '/.well-known/acme-challenge/';

/**
 * Mozilla's "intermediate" profile: TLS 1.2 with forward-secret AEAD ciphers only, and TLS 1.3.
 * Session tickets off: their keys would live for the worker's lifetime.
 */
export function tlsGlobalLines(): string[] {
  return [
    '  ssl-default-bind-ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305',
    '  ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256',
    '  ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets',
  ];
}

export function tlsBindLine(address: string, https: HttpsRender): string {
  return `  bind ${address}:${https.port} ssl crt ${https.defaultCert} crt-list ${https.crtList} alpn h2,http/1.1`;
}

/**
 * Request rules that run before routing. The challenge path is never redirected (a CA fetches
 * it over plain HTTP) and always reaches the control plane, whatever the host.
 */
export function httpsRequestLines(https: HttpsRender | undefined, control: ControlRender | undefined): string[] {
  const lines: string[] = [];
  if (control) lines.push(`  acl acme_challenge path_beg ${ACME_PATH}`);
  if (!https) {
    lines.push('  http-request set-header X-Forwarded-Proto http');
  } else {
    lines.push(
      // The location names the HTTPS port (the Host header carries the HTTP one when it is not 80).
      `  http-request redirect location https://%[req.hdr(host),lower,word(1,:)]${https.port === 443 ? '' : `:${https.port}`}%[capture.req.uri] code 301 if !{ ssl_fc }${control ? ' !acme_challenge' : ''} { ${hostLookup(https.redirectMap)} -m found }`,
      `  http-request set-var(txn.hsts) ${hostLookup(https.hstsMap)} if { ssl_fc }`,
      '  http-response set-header Strict-Transport-Security %[var(txn.hsts)] if { var(txn.hsts) -m found }',
      '  http-request set-header X-Forwarded-Proto https if { ssl_fc }',
      '  http-request set-header X-Forwarded-Proto http if !{ ssl_fc }',
    );
  }
  return lines;
}

/** The control plane's backend: its /metrics stays reachable only on its own address. */
export function controlBackendLines(control: ControlRender, serverAddress: string): string[] {
  return [
    `backend ${CONTROL_BACKEND}`,
    '  http-request return status 404 content-type text/plain string "not served through the edge\\n" if { path /metrics }',
    `  server control ${serverAddress}`,
    '',
  ];
}
