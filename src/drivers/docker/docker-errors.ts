/** Docker Engine API errors → coded Slipway errors (Docker's own message kept). */
import { SlipwayError, errorMessage } from '../../core/errors';

/** HTTP status of a dockerode error (404 missing, 304 not modified, 409 conflict…), if any. */
export function statusOf(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** Docker's own message: the JSON body's `message` when there is one, else the error text. */
export function dockerMessage(err: unknown): string {
  const json = (err as { json?: { message?: unknown } } | null)?.json;
  if (json && typeof json.message === 'string') return json.message;
  return errorMessage(err).replace(/^\(HTTP code \d+\)\s*[a-z ]+-\s*/i, '').trim();
}

/** Runs a Docker call; failures become SLW_RUNTIME naming what was attempted. */
export async function dockerCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SlipwayError) throw err;
    throw new SlipwayError('SLW_RUNTIME', `docker: ${what}: ${dockerMessage(err)}`);
  }
}

/** Like dockerCall, but the listed HTTP statuses (e.g. 404) resolve to `undefined` instead of failing. */
export async function dockerCallTolerating<T>(what: string, statuses: number[], fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    const status = statusOf(err);
    if (status !== undefined && statuses.includes(status)) return undefined;
    if (err instanceof SlipwayError) throw err;
    throw new SlipwayError('SLW_RUNTIME', `docker: ${what}: ${dockerMessage(err)}`);
  }
}
