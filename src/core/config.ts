/** Normalized configuration: what the engine and drivers use (durations in ms, defaults applied). */
import type { AlertRulesLayer } from './alert-rules';
import type { BackupPolicy } from './backup-config';
export interface HealthConfig {
  path: string;
  intervalMs: number;
  timeoutMs: number;
  graceMs: number;
  successes: number;
  deadlineMs: number;
  /** Edge checks of live replicas (absent in releases recorded before them: 3, 2, 60 s, none). */
  fall: number;
  rise: number;
  replaceAfterMs: number;
  /** Path the control plane probes on live replicas; null: none. */
  liveness: string | null;
  /** Readiness probe kind (absent: http on `path`); tcp connects to the port, exec runs `command` in the container. */
  kind: ProbeKind;
  command: string[] | null;
}

/** One canary step: `weight` percent of new requests go to the canary for `pauseMs`. */
export interface CanaryStep {
  weight: number;
  pauseMs: number;
}

/** Thresholds of the canary analysis (docs/configuration.md, "Canary deploys"). */
export interface CanaryAnalysisConfig {
  intervalMs: number;
  minRequests: number;
  maxErrorRate: number;
  maxErrorRateIncrease: number;
  /** Null: no absolute p99 limit. */
  maxP99Ms: number | null;
  maxP99Ratio: number;
  /** p99 differences from the stable release below this never fail the ratio check. (Absent: 50 ms.) */
  p99ToleranceMs: number;
  failureLimit: number;
}

/** One smoke request: GET `path` through the edge; the answer must have `expectStatus` (null: any 2xx) and contain `expectBody`. */
export interface SmokeRequestConfig {
  path: string;
  expectStatus: number | null;
  expectBody: string | null;
}

/** Post-deploy smoke checks (docs/configuration.md, "Smoke checks"; core/smoke-checks.ts). */
export interface SmokeConfig {
  requests: SmokeRequestConfig[];
  /** Where the requests go: through the edge, with the service's first domain as Host (the only value). */
  through: 'edge';
  /** How long after traffic moved the requests repeat and the live figures are watched (0: one round). */
  windowMs: number;
  /** Time between two rounds of the requests. */
  intervalMs: number;
  /** How long one request may take. */
  timeoutMs: number;
  /** A failure rolls back to the previous release (false: the deployment fails, the release stays live). */
  rollback: boolean;
  /** Live traffic of the new release over the window: 5xx share and p99 limits, judged from minRequests. */
  maxErrorRate: number;
  /** Null: no p99 limit. */
  maxP99Ms: number | null;
  minRequests: number;
}

export interface DeployConfig {
  strategy: 'rolling' | 'recreate' | 'blue-green' | 'canary';
  /** canary: the steps and the analysis. (Absent in releases recorded before canary.) */
  steps: CanaryStep[];
  analysis: CanaryAnalysisConfig;
  /** blue-green: how long the previous set stays warm after the flip. (Absent in releases recorded before blue-green.) */
  keepWarmMs: number;
  maxSurge: number;
  maxUnavailable: number;
  drainTimeoutMs: number;
  stopTimeoutMs: number;
  /** Post-deploy smoke checks; null: none. (Absent in releases recorded before them: none.) */
  smoke: SmokeConfig | null;
}

export type ImageSource =
  | { kind: 'build'; context: string; dockerfile: string; args: Record<string, string> }
  | { kind: 'image'; ref: string };

/** web: port + traffic; worker: long-running, no port; job: runs to completion on a schedule. */
export type ServiceType = 'web' | 'worker' | 'job';

export interface HttpsConfig {
  /** null: redirect once a publicly trusted certificate (ACME or own) covers the domain. */
  redirect: boolean | null;
  /** Strict-Transport-Security max-age in seconds; null: no header. */
  hstsMaxAgeS: number | null;
  hstsIncludeSubdomains: boolean;
}

export interface ServiceConfig {
  name: string;
  /** web: has a port, gets traffic through the edge; worker: no port, no traffic. */
  type: ServiceType;
  source: ImageSource;
  /** Null for workers. */
  port: number | null;
  /** Replaces the image's CMD; null keeps it. (Absent in releases recorded before workers existed.) */
  command: string[] | null;
  /** Worker readiness without a Docker HEALTHCHECK: running this long without exiting. */
  minReadyMs: number;
  /**
   * Cron expression of a job (UTC); jobs keep no replicas running. Null for web services and
   * workers, and for a job whose schedule is `off` (in this environment): type `job` says what
   * the service is, this only when the scheduler runs it.
   */
  schedule: string | null;
  jobTimeoutMs: number;
  domains: string[];
  /** HTTPS behaviour of the domains (absent in releases recorded before HTTPS: the defaults). */
  https: HttpsConfig;
  health: HealthConfig;
  replicas: number;
  /** `replicas: { min: N }`: a deploy keeps a higher count the live release runs (set by `slipway scale`). */
  keepScaledReplicas: boolean;
  /**
   * Set on a release made by `slipway stop` (replicas 0): the count it ran before, which
   * `slipway start` runs again. Null otherwise (slipway.yml never sets it: replicas is 1 to 100).
   */
  stoppedReplicas: number | null;
  deploy: DeployConfig;
  env: Record<string, string>;
  /** argv run once per deployment before traffic moves; null when not configured. */
  releaseCommand: string[] | null;
  releaseTimeoutMs: number;
  /** Image retention (absent in releases recorded before it: the default, 10 releases). */
  retention: { releases: number };
  /** Accessories this service reaches, with the variables it gets (absent before accessories: none). */
  uses: ServiceUse[];
  /** Named volumes mounted into every replica (absent: none). */
  volumes: VolumeMount[];
  /** Docker limits (absent: none). */
  resources?: ResourceLimits;
  /** The release command's own image (absent: the release command runs in the service's image). */
  release?: ReleaseImageConfig | null;
  /** The migration lint's source of SQL (absent: no lint); exactly one of the two is set. */
  migrations?: MigrationsConfig;
  /**
   * Alert rules slipway.yml writes for this service (the project's `alerts:` under the service's
   * own), merged over the server-wide defaults when judged (alert-rules.ts); absent: none written.
   */
  alerts?: AlertRulesLayer;
}

/** Where the migration lint reads the SQL the release command will run. */
export interface MigrationsConfig {
  /** A directory of the release image: its `.sql` files, in name order. */
  dir: string | null;
  /** An argv run in a one-off of the release image that prints the SQL. */
  lintCommand: string[] | null;
}

export interface ProjectConfig {
  project: string;
  /** The environment this config was resolved for (its overrides applied). */
  env: string;
  /** Environments that have overrides in the file. */
  environments: string[];
  /** `required`: deploys and promotions to this environment wait in awaiting_approval. */
  approval: 'required' | 'none';
  /** A deployment with a release command backs up the Postgres accessories its service uses first (absent: production only). */
  backupBeforeRelease?: boolean;
  /** Git repository URL the server builds from for `slipway deploy --ref`; null when not set. */
  repository: string | null;
  /** Push webhooks: branch name or pattern → environment (core/ref-triggers.ts), in the file's order. */
  branches: Record<string, string>;
  /** Push webhooks: tag name or pattern → environment, in the file's order. */
  tags: Record<string, string>;
  /** Push webhooks: pushes that rewind the live commit are accepted (all, or these branches/patterns and refs/tags/<pattern>). */
  allowForcePush: boolean | string[];
  services: Record<string, ServiceConfig>;
  /** Stateful singletons of this environment (absent in configs recorded before accessories: none). */
  accessories?: Record<string, AccessoryConfig>;
}

/** Docker's limits for a container; null: none. */
export interface ResourceLimits {
  memoryBytes: number | null;
  /** CPUs as a fraction (0.5 = half a core); Docker's NanoCpus = cpus × 1e9. */
  cpus: number | null;
}

/** A named volume mounted into a container. `volume` is the name in slipway.yml (`data`), not Docker's. */
export interface VolumeMount {
  volume: string;
  path: string;
  readOnly: boolean;
  /** Another owner's volume of the same environment (a scratch restore reads the accessory's backup repository); absent: the container's own. */
  owner?: string;
}

export type AccessoryKind = 'postgres' | 'redis' | 'nats' | 'container';

/**
 * How readiness (and the reconciler's liveness view) of an accessory, or of a service with
 * `health.kind` tcp/exec, is checked: an HTTP GET on a path, a TCP connect to the port, or a
 * command run inside the container (exit 0 = ready).
 */
export type ProbeKind = 'http' | 'tcp' | 'exec';

export interface AccessoryHealth {
  kind: ProbeKind;
  /** http: the path; port: the accessory's `health.port` or its port. */
  path: string | null;
  /** The port probed (tcp/http); null: the accessory's port. */
  port: number | null;
  /** exec: argv run inside the container. */
  command: string[] | null;
  intervalMs: number;
  timeoutMs: number;
  /** How long a (re)started accessory may take to become ready before the deploy fails. */
  deadlineMs: number;
}

export interface AccessoryConfig {
  name: string;
  kind: AccessoryKind;
  /** The image to run: a built-in one (`slipway/postgres:15`, built on first use) or `image:`. */
  image: string;
  /** True when `image` is a built-in accessory image Slipway builds itself (core/accessory-kinds.ts). */
  builtIn: boolean;
  /** The kind's version (postgres 15, redis 7, nats 2); null for `container`. */
  version: string | null;
  /** Port it listens on inside the project network; null when it listens on none. */
  port: number | null;
  volumes: VolumeMount[];
  env: Record<string, string>;
  /** Replaces the image's CMD; null keeps it (built-in kinds compute theirs). */
  command: string[] | null;
  /** Null: ready once running (a `container` accessory without port or health). */
  health: AccessoryHealth | null;
  resources: ResourceLimits;
  stopTimeoutMs: number;
  /** postgres: the database services get (default: the project name, `-` → `_`). */
  database: string | null;
  /** pgBackRest backups (absent: none). */
  backup?: BackupPolicy;
}

/**
 * A service's use of an accessory: the variables it receives, injected like secrets and
 * pinned per release. `vars` maps a role (`url`, and for postgres `owner_url`) to the
 * variable name (`DATABASE_URL`); defaults from core/accessory-kinds.ts.
 */
export interface ServiceUse {
  accessory: string;
  kind: AccessoryKind;
  vars: Record<string, string>;
  /** Credentials version current when the release was created (a record, set by the engine; containers get the current one). */
  credentialsVersion?: number;
}

/** `release: { image | build, command }`: the release command runs from its own image. */
export interface ReleaseImageConfig {
  source: ImageSource;
  /** Pinned by the engine when the release is created (the built or inspected image ID). */
  imageDigest?: string;
  imageRef?: string;
}
