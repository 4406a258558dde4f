/** The one place coded errors become HTTP responses: `{ error: { code, message, details } }`. */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, isSlipwayError } from '../core/errors';

const STATUS: Record<ErrorCode, number> = {
  SLW_CONFIG_INVALID: 400,
  SLW_BAD_REQUEST: 400,
  SLW_TOO_LARGE: 413,
  SLW_UNAUTHORIZED: 401,
  SLW_FORBIDDEN: 403,
  SLW_RATE_LIMITED: 429,
  SLW_NOT_FOUND: 404,
  SLW_DEPLOY_LOCKED: 409,
  SLW_CONFLICT: 409,
  SLW_DEPLOY_FAILED: 422,
  SLW_HEALTH_FAILED: 422,
  SLW_CANARY_FAILED: 422,
  SLW_CANARY_ABORTED: 409,
  SLW_SMOKE_FAILED: 422,
  SLW_BUILD_FAILED: 422,
  SLW_RELEASE_COMMAND_FAILED: 422,
  SLW_INTERRUPTED: 503,
  SLW_RUNTIME: 502,
  SLW_EDGE: 502,
  SLW_HOST_MISSING: 503,
  SLW_SECRETS_KEY: 503,
  SLW_CERT_INVALID: 422,
  SLW_ACME: 502,
  SLW_LOW_DISK: 507,
  SLW_IMAGE_PRUNED: 410,
  SLW_BACKUP_FAILED: 500,
  SLW_MIGRATION_BLOCKED: 422,
  SLW_INTERNAL: 500,
};

export function httpStatusOf(code: ErrorCode): number {
  return STATUS[code];
}

export function errorHandler(err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply): void {
  if (isSlipwayError(err)) {
    void reply.status(STATUS[err.code]).send({ error: { code: err.code, message: err.message, details: err.details } });
    return;
  }
  const fe = err as FastifyError;
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Fastify's own client errors (malformed JSON, body too large…).
    void reply.status(fe.statusCode).send({ error: { code: 'SLW_BAD_REQUEST', message: fe.message, details: [] } });
    return;
  }
  req.log.error({ err }, 'unhandled error');
  void reply.status(500).send({ error: { code: 'SLW_INTERNAL', message: 'internal error; see the server log', details: [] } });
}
