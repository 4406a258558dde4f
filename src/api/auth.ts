/** Bearer-token authentication against the admin token's sha256 (the token itself is never stored). */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { SlipwayError } from '../core/errors';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function makeAuthenticator(tokenHash: string) {
  const expected = Buffer.from(tokenHash, 'hex');
  return async (req: FastifyRequest): Promise<void> => {
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    if (!token) throw new SlipwayError('SLW_UNAUTHORIZED', 'missing "Authorization: Bearer <token>" header');
    const given = Buffer.from(hashToken(token), 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new SlipwayError('SLW_UNAUTHORIZED', 'invalid token');
    }
  };
}
