/**
 * A release's config as read back from the store: parsed, not cast. Releases keep the
 * normalized ServiceConfig of the Slipway version that created them, and fields were added
 * since (the release command, health kinds and edge checks, canary steps and analysis, keep_warm, smoke checks, HTTPS, retention,
 * workers' command and min_ready, jobs, accessories' `uses`, volumes). Here, and only here,
 * a field an older release lacks gets its default — the default slipway.yml gives a service
 * that does not write it (SERVICE_DEFAULTS, from the config schema itself) — so the engine
 * reads every field as present. A stored config that is not a service config at all (a
 * corrupted row) is an error naming the field, not a crash somewhere in a rollout.
 */
import { z } from 'zod';
import type { ServiceConfig } from './config';
import { SlipwayError } from './errors';
import { formatErrors, parseProjectConfig } from './parse-config';

/** What slipway.yml gives a web service that writes nothing but its image and port. */
function serviceDefaults(): ServiceConfig {
  const r = parseProjectConfig('project: defaults\nservices:\n  web:\n    image: defaults\n    port: 1\n');
  if (!r.ok) throw new Error(`the config defaults do not parse: ${formatErrors(r.errors)}`);
  return r.config.services.web!;
}

export const SERVICE_DEFAULTS: Readonly<ServiceConfig> = serviceDefaults();
const D = SERVICE_DEFAULTS;

const argv = z.array(z.string());
const strings = z.record(z.string(), z.string());
const imageSource = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('image'), ref: z.string() }),
  z.object({ kind: z.literal('build'), context: z.string(), dockerfile: z.string(), args: strings.default({}) }),
]);
const probeKind = z.enum(['http', 'tcp', 'exec']);

const health = z.object({
  path: z.string(),
  intervalMs: z.number(),
  timeoutMs: z.number(),
  graceMs: z.number(),
  successes: z.number(),
  deadlineMs: z.number(),
  fall: z.number().default(D.health.fall),
  rise: z.number().default(D.health.rise),
  replaceAfterMs: z.number().default(D.health.replaceAfterMs),
  liveness: z.string().nullable().default(D.health.liveness),
  kind: probeKind.default(D.health.kind),
  command: argv.nullable().default(null),
});

const analysis = z.object({
  intervalMs: z.number(),
  minRequests: z.number(),
  maxErrorRate: z.number(),
  maxErrorRateIncrease: z.number(),
  maxP99Ms: z.number().nullable(),
  maxP99Ratio: z.number(),
  p99ToleranceMs: z.number().default(D.deploy.analysis.p99ToleranceMs),
  failureLimit: z.number(),
});

const smoke = z.object({
  requests: z.array(z.object({ path: z.string(), expectStatus: z.number().nullable(), expectBody: z.string().nullable() })),
  through: z.literal('edge'),
  windowMs: z.number(),
  intervalMs: z.number(),
  timeoutMs: z.number(),
  rollback: z.boolean(),
  maxErrorRate: z.number(),
  maxP99Ms: z.number().nullable(),
  minRequests: z.number(),
});

const deploy = z.object({
  strategy: z.enum(['rolling', 'recreate', 'blue-green', 'canary']),
  steps: z.array(z.object({ weight: z.number(), pauseMs: z.number() })).default(D.deploy.steps),
  analysis: analysis.default(D.deploy.analysis),
  keepWarmMs: z.number().default(D.deploy.keepWarmMs),
  maxSurge: z.number(),
  maxUnavailable: z.number(),
  drainTimeoutMs: z.number(),
  stopTimeoutMs: z.number(),
  smoke: smoke.nullable().default(D.deploy.smoke),
});

const volumeMount = z.object({ volume: z.string(), path: z.string(), readOnly: z.boolean(), owner: z.string().optional() });

const n = z.number().optional();
const alertLayer = z.object({
  error_rate: z.object({ above: n, forMs: n, minRequests: n, clearForMs: n }).nullable().optional(),
  p99: z.object({ aboveMs: n, forMs: n, minRequests: n, clearForMs: n }).nullable().optional(),
  crash_loop: z.object({ restarts: n, withinMs: n }).nullable().optional(),
  oom: z.object({ withinMs: n }).nullable().optional(),
  disk: z.object({ above: n, forMs: n, clearForMs: n }).nullable().optional(),
  memory: z.object({ above: n, forMs: n, clearForMs: n }).nullable().optional(),
  certificate: z.object({ failures: n }).nullable().optional(),
  backup_verify: z.object({}).nullable().optional(),
  edge_down: z.object({ forMs: n }).nullable().optional(),
});

const serviceConfig = z.object({
  name: z.string(),
  type: z.enum(['web', 'worker', 'job']),
  source: imageSource,
  port: z.number().nullable(),
  command: argv.nullable().default(null),
  minReadyMs: z.number().default(D.minReadyMs),
  schedule: z.string().nullable().default(null),
  jobTimeoutMs: z.number().default(D.jobTimeoutMs),
  domains: z.array(z.string()),
  https: z.object({ redirect: z.boolean().nullable(), hstsMaxAgeS: z.number().nullable(), hstsIncludeSubdomains: z.boolean() }).default(D.https),
  health,
  replicas: z.number(),
  keepScaledReplicas: z.boolean().default(false),
  stoppedReplicas: z.number().int().nullable().default(null),
  deploy,
  env: strings,
  releaseCommand: argv.nullable().default(null),
  releaseTimeoutMs: z.number().default(D.releaseTimeoutMs),
  retention: z.object({ releases: z.number() }).default(D.retention),
  uses: z.array(z.object({ accessory: z.string(), kind: z.enum(['postgres', 'redis', 'nats', 'container']), vars: strings, credentialsVersion: z.number().optional() })).default([]),
  volumes: z.array(volumeMount).default([]),
  resources: z.object({ memoryBytes: z.number().nullable(), cpus: z.number().nullable() }).optional(),
  release: z.object({ source: imageSource, imageDigest: z.string().optional(), imageRef: z.string().optional() }).nullable().optional(),
  migrations: z.object({ dir: z.string().nullable(), lintCommand: argv.nullable() }).optional(),
  alerts: alertLayer.optional(),
});

// Compile-time: the schema reads exactly a ServiceConfig (a field added to one and not the other fails here).
type Parsed = z.output<typeof serviceConfig>;
const _sameShape: [Parsed, ServiceConfig] extends [ServiceConfig, Parsed] ? true : false = true;
void _sameShape;

/** A release's stored config (already JSON-parsed) as a ServiceConfig with every field present. */
export function readStoredServiceConfig(stored: unknown, where: string): ServiceConfig {
  const r = serviceConfig.safeParse(stored);
  if (r.success) return r.data as ServiceConfig;
  const issue = r.error.issues[0]!;
  throw new SlipwayError('SLW_INTERNAL', `${where}: the stored config is not a service config (${issue.path.join('.') || '(root)'}: ${issue.message})`, [{ path: issue.path.join('.'), message: issue.message }]);
}
