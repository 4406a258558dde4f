/** The environment every container of a release gets: its config env, its pinned secrets, then Slipway's own variables. */
import type { Release, ServiceRef } from '../core/domain';
import type { EngineContext } from './engine-context';
import { openSecrets } from './secret-values';

export async function releaseEnv(ctx: EngineContext, ref: ServiceRef, release: Release): Promise<Record<string, string>> {
  return {
    ...release.config.env,
    // A secret wins over a plain env value of the same name (docs/secrets.md).
    ...(await openSecrets(ctx, release.environmentId, release.secretsVersion)),
    PORT: String(release.config.port),
    SLIPWAY_PROJECT: ref.project,
    SLIPWAY_SERVICE: ref.service,
    SLIPWAY_ENV: ref.env,
    SLIPWAY_RELEASE: `v${release.number}`,
  };
}
