/**
 * The dashboard's session: the bearer token travels in an HttpOnly, SameSite=Strict cookie
 * instead of an Authorization header, so page scripts never hold it. Because browsers
 * attach cookies on their own, a call authenticated by the cookie that changes anything
 * must also carry the CSRF token in a header: a value derived from the session token that
 * only a page of this origin can learn (from GET /api/v1/session). It needs no storage and
 * survives server restarts.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { SlipwayError } from '../core/errors';

export const SESSION_COOKIE = 'slipway_session';
export const CSRF_HEADER = 'x-csrf-token';

/** The session token from the request's Cookie header, if any. */
export function sessionTokenOf(req: FastifyRequest): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      if (value.length === 0) return undefined;
      try {
        return decodeURIComponent(value);
      } catch {
        // Not percent-encoding ("%E0%A4%A"): no token of ours, so a 401 like any unknown token, not a 500.
        throw new SlipwayError('SLW_UNAUTHORIZED', `the ${SESSION_COOKIE} cookie is malformed (not percent-encoded); sign in again`, [
          { path: `cookies.${SESSION_COOKIE}`, message: 'must be the percent-encoded token a sign-in set' },
        ]);
      }
    }
  }
  return undefined;
}

export function csrfTokenFor(sessionToken: string): string {
  return createHash('sha256').update(`slipway-csrf:${sessionToken}`).digest('base64url');
}

export function csrfMatches(sessionToken: string, presented: string | string[] | undefined): boolean {
  if (typeof presented !== 'string') return false;
  const want = Buffer.from(csrfTokenFor(sessionToken));
  const got = Buffer.from(presented);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** Methods that change nothing, so a cookie alone may authenticate them. */
export function isSafeMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
}

/**
 * Secure when the browser reached us over TLS: directly, or through the edge on this
 * host (a loopback peer saying X-Forwarded-Proto: https; a remote peer cannot claim it).
 */
function overTls(req: FastifyRequest): boolean {
  if (req.protocol === 'https') return true;
  const peer = req.socket.remoteAddress ?? '';
  const loopback = peer === '::1' || peer.startsWith('127.') || peer.startsWith('::ffff:127.');
  return loopback && req.headers['x-forwarded-proto'] === 'https';
}

export function sessionCookie(req: FastifyRequest, token: string, maxAgeSeconds: number | null): string {
  const attrs = [`${SESSION_COOKIE}=${encodeURIComponent(token)}`, 'Path=/', 'HttpOnly', 'SameSite=Strict'];
  if (maxAgeSeconds !== null) attrs.push(`Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`);
  if (overTls(req)) attrs.push('Secure');
  return attrs.join('; ');
}

export function clearedSessionCookie(req: FastifyRequest): string {
  return sessionCookie(req, '', 0);
}
