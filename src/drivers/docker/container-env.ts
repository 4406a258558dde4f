/** Environment for the Docker API: a `KEY=VALUE` array built from an object (no shell involved, values verbatim). */
import { SlipwayError } from '../../core/errors';

export function envArray(env: Record<string, string>): string[] {
  return Object.entries(env).map(([key, value]) => {
    if (key === '' || key.includes('=') || key.includes('\0')) {
      throw new SlipwayError('SLW_RUNTIME', `environment variable name ${JSON.stringify(key)} is invalid (empty, or contains "=" or NUL)`);
    }
    if (value.includes('\0')) throw new SlipwayError('SLW_RUNTIME', `environment variable ${key} contains a NUL character`);
    return `${key}=${value}`;
  });
}
