/** The environment every container of a release gets: its config env, its pinned secrets, then Slipway's own variables. */
import type { Release, ServiceRef } from '../core/domain';
import type { EngineContext } from './engine-context';
import { openSecrets, secretMasker } from './secret-values';

export async function releaseEnv(ctx: EngineContext, ref: ServiceRef, release: Release): Promise<Record<string, string>> {
  return (await releaseEnvAndMask(ctx, ref, release)).env;
}

/**
 * The env plus a masker of the release's secret values, for containers whose output the
 * control plane relays (release command, `slipway run`, jobs); the secrets are opened once.
 */
export async function releaseEnvAndMask(ctx: EngineContext, ref: ServiceRef, release: Release): Promise<{ env: Record<string, string>; mask: (text: string) => string }> {
  const secrets = await openSecrets(ctx, release.environmentId, release.secretsVersion);
  const env = {
    ...release.config.env,
    // A secret wins over a plain env value of the same name (docs/secrets.md).
    ...secrets,
    // Workers and jobs listen on nothing: no PORT rather than PORT=null.
    ...(release.config.port !== null ? { PORT: String(release.config.port) } : {}),
    SLIPWAY_PROJECT: ref.project,
    SLIPWAY_SERVICE: ref.service,
    SLIPWAY_ENV: ref.env,
    SLIPWAY_RELEASE: `v${release.number}`,
  };
  return { env, mask: secretMasker(Object.values(secrets)) };
}
