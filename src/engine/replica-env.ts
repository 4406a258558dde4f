/** The environment every container of a release gets: its config env, its pinned secrets, then Slipway's own variables. */
import type { Release, ServiceRef } from '../core/domain';
import type { EngineContext } from './engine-context';
import { SlipwayError } from '../core/errors';
import { openSecrets, secretMasker } from './secret-values';

export async function releaseEnv(ctx: EngineContext, ref: ServiceRef, release: Release): Promise<Record<string, string>> {
  return (await releaseEnvAndMask(ctx, ref, release)).env;
}

/**
 * The env plus a masker of the release's secret values, for containers whose output the
 * control plane relays (release command, `slipway run`, jobs); the secrets are opened once.
 */
export async function releaseEnvAndMask(
  ctx: EngineContext,
  ref: ServiceRef,
  release: Release,
  /** `owner`: the release command (migrations) gets the Postgres owner's URL under the same names. */
  role: 'app' | 'owner' = 'app',
): Promise<{ env: Record<string, string>; mask: (text: string) => string }> {
  const secrets = await openSecrets(ctx, release.environmentId, release.secretsVersion);
  const connections = await accessoryEnv(ctx, release, role);
  const env = {
    ...release.config.env,
    // A secret wins over a plain env value of the same name (docs/secrets.md).
    ...secrets,
    // The accessories' connection variables (DATABASE_URL…) with their current credentials (a rotation invalidates older ones).
    ...connections.env,
    // Workers and jobs listen on nothing: no PORT rather than PORT=null.
    ...(release.config.port !== null ? { PORT: String(release.config.port) } : {}),
    SLIPWAY_PROJECT: ref.project,
    SLIPWAY_SERVICE: ref.service,
    SLIPWAY_ENV: ref.env,
    SLIPWAY_RELEASE: `v${release.number}`,
  };
  return { env, mask: secretMasker([...Object.values(secrets), ...connections.secrets]) };
}

async function accessoryEnv(ctx: EngineContext, release: Release, role: 'app' | 'owner'): Promise<{ env: Record<string, string>; secrets: string[] }> {
  const { uses } = release.config;
  if (uses.length === 0) return { env: {}, secrets: [] };
  if (!ctx.accessories) throw new SlipwayError('SLW_INTERNAL', 'this control plane runs without the accessory manager, but the release uses accessories');
  return ctx.accessories.connectionEnv(release.environmentId, uses, role);
}
