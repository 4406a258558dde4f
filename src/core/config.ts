/** Normalized configuration: what the engine and drivers use (durations in ms, defaults applied). */
export interface HealthConfig {
  path: string;
  intervalMs: number;
  timeoutMs: number;
  graceMs: number;
  successes: number;
  deadlineMs: number;
  /** Edge checks of live replicas (absent in releases recorded before them: 3, 2, 60 s, none). */
  fall?: number;
  rise?: number;
  replaceAfterMs?: number;
  /** Path the control plane probes on live replicas; null: none. */
  liveness?: string | null;
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
  p99ToleranceMs?: number;
  failureLimit: number;
}

export interface DeployConfig {
  strategy: 'rolling' | 'recreate' | 'blue-green' | 'canary';
  /** canary: the steps and the analysis. (Absent in releases recorded before canary.) */
  steps?: CanaryStep[];
  analysis?: CanaryAnalysisConfig;
  /** blue-green: how long the previous set stays warm after the flip. (Absent in releases recorded before blue-green.) */
  keepWarmMs?: number;
  maxSurge: number;
  maxUnavailable: number;
  drainTimeoutMs: number;
  stopTimeoutMs: number;
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
  command?: string[] | null;
  /** Worker readiness without a Docker HEALTHCHECK: running this long without exiting. */
  minReadyMs?: number;
  /** Cron expression of a job (UTC); jobs keep no replicas running. */
  schedule?: string | null;
  jobTimeoutMs?: number;
  domains: string[];
  /** HTTPS behaviour of the domains (absent in releases recorded before HTTPS: the defaults). */
  https?: HttpsConfig;
  health: HealthConfig;
  replicas: number;
  deploy: DeployConfig;
  env: Record<string, string>;
  /** argv run once per deployment before traffic moves; null when not configured. */
  releaseCommand: string[] | null;
  releaseTimeoutMs: number;
  /** Image retention (absent in releases recorded before it: the default, 10 releases). */
  retention?: { releases: number };
}

export interface ProjectConfig {
  project: string;
  /** The environment this config was resolved for (its overrides applied). */
  env: string;
  /** Environments that have overrides in the file. */
  environments: string[];
  /** `required`: deploys and promotions to this environment wait in awaiting_approval. */
  approval: 'required' | 'none';
  /** Git repository URL the server builds from for `slipway deploy --ref`; null when not set. */
  repository: string | null;
  /** Push webhooks: branch → environment. */
  branches: Record<string, string>;
  /** Push webhooks: forced pushes that rewind the live commit are accepted (all branches, or these). */
  allowForcePush: boolean | string[];
  services: Record<string, ServiceConfig>;
}
