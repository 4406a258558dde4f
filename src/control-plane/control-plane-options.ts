/**
 * What startControlPlane is given (ControlPlaneOptions: what `slipway server` reads from its
 * settings, or what a test passes) and what it returns (ControlPlane). Options left out take
 * the defaults of server-settings.ts; resolveOptions, the first stage, fills them in.
 */
import type { MetricsAccess } from '../api/api-deps';
import type { MinFreeDisk } from '../core/disk-threshold';
import type { DeployEngine } from '../engine/deploy-engine';
import type { RequestMetricsConfig } from '../observe/request-metrics-config';
import type { IngestStats } from '../observe/request-metrics';
import type { RequestMetricsQueries } from '../observe/request-metrics-queries';
import { readSetting, settingsError, settingsOrThrow } from './read-settings';
import { defaultOf, SETTING_KEYS, settingSpec, type SettingKey, type Settings } from './server-settings';

export interface ControlPlaneOptions {
  dataDir: string;
  apiHost: string;
  apiPort: number;
  httpPort: number;
  edgeBind: string;
  network: string;
  /** IPv4 range environment networks take their /24s from (SLIPWAY_SUBNET_POOL, default 10.213.0.0/16). */
  subnetPool?: string;
  dockerSocket?: string;
  logLevel: string;
  /** Admin token to use instead of a generated one (written to <dataDir>/admin-token). */
  adminToken?: string;
  /** Password of the `admin` user created on first start (else one is generated and printed once). */
  adminPassword?: string;
  /** Largest build context an upload may carry (SLIPWAY_MAX_SOURCE_BYTES, default 2 GiB). */
  maxSourceBytes: number;
  /** Where the settings marked envFallback in server-settings.ts are read from when left out (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** SLIPWAY_MASTER_KEY: the master key, instead of <dataDir>/master.key; null: none. */
  masterKey?: string | null;
  /** SLIPWAY_MASTER_KEY_PREVIOUS: the key before a rotation; null: none. */
  masterKeyPrevious?: string | null;
  /** NATS_URL: the NATS server events are published to as well; null: none. */
  natsUrl?: string | null;
  /** The dashboard build served at / (SLIPWAY_DASHBOARD_DIR, default web/dist of this checkout). */
  dashboardDir?: string;
  /** Request metrics from the edge's log (SLIPWAY_REQUEST_LOG_LISTEN…, docs/observability.md); default: from `env`. */
  requestMetrics?: RequestMetricsConfig;
  /** HAProxy's Prometheus exporter address (SLIPWAY_EDGE_PROMETHEUS); none when absent. */
  edgePrometheus?: { host: string; port: number } | null;
  /** Who may scrape GET /metrics (SLIPWAY_METRICS_ACCESS: loopback (default), token, public). */
  metricsAccess?: MetricsAccess;
  /** Check every JSON answer against its declared schema (SLIPWAY_STRICT_RESPONSES=1; the tests set it). */
  strictResponses?: boolean;
  /** Container and host stats sampling interval (SLIPWAY_STATS_INTERVAL, default 5 s); 0 turns sampling off. */
  statsIntervalMs?: number;
  /** How often the reconciler looks for dead replicas to replace; 0: never. */
  reconcileIntervalMs?: number;
  /** How often scheduled backups and verifications are checked for (default 60 s). */
  backupTickMs?: number;
  /** How often the alert rules are judged (SLIPWAY_ALERT_INTERVAL, default 10 s); 0: no alerts. */
  alertIntervalMs?: number;
  /**
   * Replicas whose stats are read at once (SLIPWAY_STATS_CONCURRENCY, default 32). Docker answers
   * a stats call at its next 1 s collection tick, so a round takes ⌈replicas / this⌉ seconds.
   */
  statsConcurrency?: number;
  /** Per-dependency timeout of GET /readyz (SLIPWAY_READY_TIMEOUT, default 1 s). */
  readyTimeoutMs?: number;
  /** The edge's HTTPS port (SLIPWAY_HTTPS_PORT, default 443); null: HTTP only. */
  httpsPort?: number | null;
  /** ACME directory (SLIPWAY_ACME: letsencrypt (default), letsencrypt-staging, a URL, or off → null). */
  acmeDirectoryUrl?: string | null;
  /** Contact address given to the ACME CA (SLIPWAY_ACME_EMAIL). */
  acmeEmail?: string | null;
  /** The control plane's own domain, served through the edge with a certificate (SLIPWAY_DOMAIN). */
  domain?: string | null;
  /** Longest time between certificate passes (SLIPWAY_CERT_INTERVAL, default 30 s). */
  certIntervalMs?: number;
  /** Wait after a first failed certificate attempt, doubled each time up to 6 h (SLIPWAY_CERT_RETRY, default 60 s). */
  certRetryMs?: number;
  /** Free space Docker's data root must keep (SLIPWAY_MIN_FREE_DISK, default "10%,2GiB"); below it builds and deployments are refused. */
  minFreeDisk?: MinFreeDisk;
  /** The repository prefix of the built-in accessory images (SLIPWAY_ACCESSORY_IMAGE_PREFIX, default `slipway`: `slipway/postgres:15`). */
  accessoryImagePrefix?: string;
}

export interface ControlPlane {
  url: string;
  engine: DeployEngine;
  /** Request metrics and recent requests; null when SLIPWAY_REQUEST_LOG_LISTEN=off. */
  requestMetrics: RequestMetricsQueries | null;
  /** Lines received from the edge and what became of them (benchmarks, diagnostics); null when off. */
  requestLogStats(): (IngestStats & { connections: number; unauthenticated: number }) | null;
  close(): Promise<void>;
}

/** The options with every one filled in: what the stages read. Only the admin token and password may stay absent. */
export type ResolvedOptions = Omit<Required<ControlPlaneOptions>, 'adminToken' | 'adminPassword' | 'env'> & Pick<ControlPlaneOptions, 'adminToken' | 'adminPassword'>;

/** Settings as read (flat) → the options startControlPlane takes. */
export function toOptions(s: Settings): ControlPlaneOptions & ResolvedOptions {
  return {
    dataDir: s.dataDir,
    apiHost: s.apiHost,
    apiPort: s.apiPort,
    httpPort: s.httpPort,
    edgeBind: s.edgeBind,
    network: s.network,
    subnetPool: s.subnetPool,
    dockerSocket: s.dockerSocket,
    logLevel: s.logLevel,
    adminToken: s.adminToken ?? undefined,
    adminPassword: s.adminPassword ?? undefined,
    maxSourceBytes: s.maxSourceBytes,
    masterKey: s.masterKey,
    masterKeyPrevious: s.masterKeyPrevious,
    natsUrl: s.natsUrl,
    dashboardDir: s.dashboardDir,
    requestMetrics: {
      listen: s.requestLogListen,
      bufferBytes: s.requestLogBufferBytes,
      trustedProxies: s.trustedProxies,
      recentPerService: s.recentRequests,
      maxRoutesPerService: s.routesPerService,
      retentionMs: s.metricsRetentionMs,
      flushIntervalMs: s.metricsFlushIntervalMs,
    },
    edgePrometheus: s.edgePrometheus,
    metricsAccess: s.metricsAccess,
    strictResponses: s.strictResponses,
    statsIntervalMs: s.statsIntervalMs,
    reconcileIntervalMs: s.reconcileIntervalMs,
    backupTickMs: s.backupTickMs,
    alertIntervalMs: s.alertIntervalMs,
    statsConcurrency: s.statsConcurrency,
    readyTimeoutMs: s.readyTimeoutMs,
    httpsPort: s.httpsPort,
    acmeDirectoryUrl: s.acmeDirectoryUrl,
    acmeEmail: s.acmeEmail,
    domain: s.domain,
    certIntervalMs: s.certIntervalMs,
    certRetryMs: s.certRetryMs,
    minFreeDisk: s.minFreeDisk,
    accessoryImagePrefix: s.accessoryImagePrefix,
  };
}

/** The options of `slipway server` from an environment alone (every SLIPWAY_* variable; no flags). */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): ControlPlaneOptions {
  return toOptions(settingsOrThrow({ env }));
}

/**
 * The first stage: options left out take their defaults — read from `opts.env` (else the
 * process's environment) for the settings marked envFallback, as the control plane always
 * did for those, the table's default for the others.
 */
export function resolveOptions(opts: ControlPlaneOptions): ResolvedOptions {
  const env = opts.env ?? process.env;
  const base: Partial<Record<SettingKey, unknown>> = {};
  const problems: string[] = [];
  for (const key of SETTING_KEYS) {
    const r = settingSpec(key).envFallback && !isGiven(opts, key) ? readSetting(key, { env }) : { ok: true as const, value: defaultOf(key) };
    if (r.ok) base[key] = r.value;
    else problems.push(r.problem);
  }
  if (problems.length) throw settingsError(problems);
  const given = Object.fromEntries(Object.entries(opts).filter(([k, v]) => v !== undefined && k !== 'env'));
  return { ...toOptions(base as Settings), ...given } as ResolvedOptions;
}

/** The request-metrics settings are one option, `requestMetrics`. */
const REQUEST_METRICS_KEYS: readonly SettingKey[] = ['requestLogListen', 'requestLogBufferBytes', 'trustedProxies', 'recentRequests', 'routesPerService', 'metricsRetentionMs', 'metricsFlushIntervalMs'];

function isGiven(opts: ControlPlaneOptions, key: SettingKey): boolean {
  const field = (REQUEST_METRICS_KEYS.includes(key) ? 'requestMetrics' : key) as keyof ControlPlaneOptions;
  return opts[field] !== undefined;
}
