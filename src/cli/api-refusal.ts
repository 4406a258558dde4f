/** An API refusal as commands print it: every detail named by its flag (certs-format.ts apiErrorLines), then exit 1. */
import { ApiError } from '../client/api-client';
import { apiErrorLines } from './certs-format';
import { CliError } from './cli-error';

/**
 * Prints an API refusal with every detail (`flags`: a detail's path → the flag it concerns),
 * and any `extra` lines, then exits non-zero (main prints nothing more). Anything else is rethrown.
 */
export function refused(err: unknown, extra: string[] = [], flags?: Record<string, string>): never {
  if (!(err instanceof ApiError)) throw err;
  for (const line of [...apiErrorLines(err, flags), ...extra]) console.error(line);
  throw new CliError('', 1);
}
