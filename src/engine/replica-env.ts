/** The environment every container of a release gets: its config env plus Slipway's own variables. */
import type { Release, ServiceRef } from '../core/domain';

export function releaseEnv(ref: ServiceRef, release: Release): Record<string, string> {
  return {
    ...release.config.env,
    PORT: String(release.config.port),
    SLIPWAY_PROJECT: ref.project,
    SLIPWAY_SERVICE: ref.service,
    SLIPWAY_ENV: ref.env,
    SLIPWAY_RELEASE: `v${release.number}`,
  };
}
