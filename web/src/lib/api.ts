/**
 * The dashboard's API client: the same typed client the CLI uses (src/client/api-client.ts),
 * on this origin. The HttpOnly session cookie authenticates; calls that change something
 * carry the session's CSRF token, learnt from GET /api/v1/session.
 */
import { ApiError, SlipwayClient } from '../../../src/client/api-client';

export { ApiError };
export const api = new SlipwayClient({ url: '' });

/** A message for a toast or an inline error: the server's own words when it sent some. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    const details = err.details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message));
    return details.length > 0 ? `${err.message} (${details.join('; ')})` : err.message;
  }
  return err instanceof Error ? err.message : String(err);
}
