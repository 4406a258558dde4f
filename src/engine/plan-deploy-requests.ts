/**
 * From a deploy as the API receives it (slipway.yml text, the services asked for, uploaded
 * contexts or a git source, a prebuilt image) to the engine's DeployRequests, one per service:
 * slipway.yml resolved for the environment, the services checked against it, every upload
 * named for a service (or its release image) that builds, each service's build source picked.
 * Pure: nothing is read or started; a refusal is a SlipwayError naming the field.
 */
import type { ProjectConfig } from '../core/config';
import type { BuildSource, GitTrigger } from '../core/domain';
import { SlipwayError } from '../core/errors';
import { formatErrors, parseProjectConfig } from '../core/parse-config';
import type { DeployRequest } from './deploy-engine';

export interface DeployInput {
  /** slipway.yml as written. */
  config: string;
  env: string;
  /** Default: every service of slipway.yml. */
  services?: string[];
  /** Uploaded build contexts by service, and `<service>:release` for a release image's. */
  sources: Record<string, { sha256: string; commit: string | null }>;
  git?: { url: string; ref: string; path: string };
  /** The pushed ref and its commit, recorded on each deployment (push webhooks). */
  gitTrigger?: GitTrigger;
  /** A prebuilt image replacing the selected services' build or image. */
  image?: string;
  allowDestructive: boolean;
  triggeredBy: string | null;
  /** An unrestricted caller (not a project token): see image-policy.ts. */
  unrestricted: boolean;
}

const RELEASE_KEY = /:release$/;

/** slipway.yml resolved for one environment, and the services asked for (default: all). */
export function resolveServices(text: string, env: string, services: string[] | undefined): { config: ProjectConfig; names: string[] } {
  const parsed = parseProjectConfig(text, { env });
  if (!parsed.ok) throw new SlipwayError('SLW_CONFIG_INVALID', `slipway.yml is invalid:\n${formatErrors(parsed.errors)}`, parsed.errors);
  const names = services ?? Object.keys(parsed.config.services);
  const unknown = names.filter((n) => !parsed.config.services[n]);
  if (unknown.length > 0) {
    throw new SlipwayError('SLW_NOT_FOUND', `service(s) ${unknown.join(', ')} not defined in slipway.yml (defined: ${Object.keys(parsed.config.services).join(', ')})`);
  }
  return { config: parsed.config, names };
}

export function planDeployRequests(input: DeployInput): { config: ProjectConfig; names: string[]; requests: DeployRequest[] } {
  const { config, names } = resolveServices(input.config, input.env, input.services);
  const keys = Object.keys(input.sources);
  const undefinedSources = keys.filter((n) => !config.services[n.replace(RELEASE_KEY, '')]);
  if (undefinedSources.length > 0) {
    throw new SlipwayError('SLW_BAD_REQUEST', `sources name services not in slipway.yml: ${undefinedSources.join(', ')}`, undefinedSources.map((n) => ({ path: `sources.${n}`, message: 'no such service' })));
  }
  const strayRelease = keys.filter((n) => RELEASE_KEY.test(n) && config.services[n.replace(RELEASE_KEY, '')]!.release?.source.kind !== 'build');
  if (strayRelease.length > 0) {
    throw new SlipwayError('SLW_BAD_REQUEST', `sources name release images that slipway.yml does not build: ${strayRelease.join(', ')}`, strayRelease.map((n) => ({ path: `sources.${n}`, message: `services.${n.replace(RELEASE_KEY, '')}.release has no build` })));
  }
  if (input.image) for (const n of names) config.services[n]!.source = { kind: 'image', ref: input.image };
  const requests = names.map((service) => ({
    config,
    service,
    env: input.env,
    source: buildSourceOf(input, config.services[service]!.source.kind === 'build', service),
    releaseSource: buildSourceOf(input, config.services[service]!.release?.source.kind === 'build', `${service}:release`),
    triggeredBy: input.triggeredBy,
    ...(input.gitTrigger ? { gitTrigger: input.gitTrigger } : {}),
    unrestricted: input.unrestricted,
    allowDestructive: input.allowDestructive,
  }));
  return { config, names, requests };
}

/** Where a build comes from: the deploy's git repository, else the context uploaded under `key`; null when nothing builds. */
function buildSourceOf(input: DeployInput, builds: boolean, key: string): BuildSource | null {
  if (!builds) return null;
  if (input.git) return { kind: 'git', ...input.git };
  const archive = input.sources[key];
  return archive ? { kind: 'archive', sha256: archive.sha256, commit: archive.commit } : null;
}
