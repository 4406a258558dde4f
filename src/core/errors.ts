/**
 * Coded errors. The core and engine throw these; the API maps codes to HTTP
 * statuses in exactly one place (src/api/error-response.ts). Messages must never
 * contain secret values.
 */
export const ERROR_CODES = [
  'SLW_CONFIG_INVALID',
  'SLW_BAD_REQUEST',
  'SLW_TOO_LARGE',
  'SLW_UNAUTHORIZED',
  'SLW_FORBIDDEN',
  'SLW_RATE_LIMITED',
  'SLW_NOT_FOUND',
  'SLW_DEPLOY_LOCKED',
  'SLW_CONFLICT',
  'SLW_DEPLOY_FAILED',
  'SLW_HEALTH_FAILED',
  'SLW_BUILD_FAILED',
  'SLW_RELEASE_COMMAND_FAILED',
  'SLW_CANARY_FAILED',
  'SLW_CANARY_ABORTED',
  'SLW_SMOKE_FAILED',
  'SLW_INTERRUPTED',
  'SLW_RUNTIME',
  'SLW_EDGE',
  'SLW_HOST_MISSING',
  'SLW_SECRETS_KEY',
  'SLW_CERT_INVALID',
  'SLW_ACME',
  'SLW_LOW_DISK',
  'SLW_IMAGE_PRUNED',
  'SLW_BACKUP_FAILED',
  'SLW_MIGRATION_BLOCKED',
  'SLW_INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorDetail {
  /** Dotted path of the offending field, e.g. `services.web.health.path`. */
  path?: string;
  message: string;
}

export class SlipwayError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetail[];

  constructor(code: ErrorCode, message: string, details: ErrorDetail[] = []) {
    super(message);
    this.name = 'SlipwayError';
    this.code = code;
    this.details = details;
  }
}

export function isSlipwayError(err: unknown): err is SlipwayError {
  return err instanceof SlipwayError;
}

/** A readable message for anything thrown; never includes stack traces. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
