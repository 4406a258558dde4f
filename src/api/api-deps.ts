import type { Logger } from 'pino';
import type { BaseImageFactory } from '../core/ports/base-images';
import type { SourceArchives } from '../core/ports/source-archives';
import type { HealthReport } from '../core/contract/views';
import type { DeployEngine } from '../engine/deploy-engine';
import type { Access } from '../engine/access';
import type { AuditLog } from '../engine/audit-log';
import type { Webhooks } from '../engine/webhooks';
import type { Notifier } from '../engine/notifier';
import type { AlertOperations } from '../engine/alert-operations';
import type { CertificateManager } from '../engine/certificates';
import type { FailureLimiter } from './rate-limit';
import type { Environments } from '../engine/environments';
import type { ProjectDeletion } from '../engine/project-delete';
import type { OneOffRuns } from '../engine/one-off-run';
import type { Queries } from '../engine/queries';
import type { ResourceStats } from '../engine/resource-stats';
import type { LivenessReport, ReadinessReport } from '../core/contract/readiness';
import type { Secrets } from '../engine/secrets';
import type { ServiceLogs } from '../engine/service-logs';
import type { RequestMetricsReader } from '../core/contract/metrics';
import type { VolumeView } from '../core/contract/views';
import type { Accessories } from '../engine/accessories';
import type { DbShell } from '../engine/db-shell';
import type { BackupOperations } from '../engine/backup-operations';

/** Everything the HTTP layer may call; built by src/main.ts. */
export interface ApiDeps {
  engine: DeployEngine;
  queries: Queries;
  environments: Environments;
  /** Project deletion (DELETE /api/v1/projects/:project). */
  projects: ProjectDeletion;
  oneOffRuns: OneOffRuns;
  secrets: Secrets;
  serviceLogs: ServiceLogs;
  /** Accessories of environments: list, logs, restart, rotate (engine/accessories.ts). */
  accessories: Pick<Accessories, 'list' | 'logs' | 'restart' | 'rotate' | 'remove'>;
  /** `slipway db shell` (engine/db-shell.ts). */
  dbShell: Pick<DbShell, 'prepare'>;
  /** Backups of accessories: list, show, back up now, verify, restore (engine/backups.ts). */
  backups: Pick<BackupOperations, 'take' | 'verify' | 'restore' | 'list' | 'get'>;
  /** Volumes Slipway created (engine/volumes.ts listVolumes); `restrictedTo`: the caller's project, if its token has one. */
  volumes: (filter: { project?: string; env?: string }, restrictedTo: string | null) => Promise<VolumeView[]>;
  baseImages: BaseImageFactory;
  /** Uploaded build contexts. */
  sources: SourceArchives;
  /** Largest build context an upload may carry. */
  maxSourceBytes: number;
  health: () => Promise<HealthReport>;
  /** GET /livez: the process answers. */
  liveness: () => LivenessReport;
  /** GET /readyz: every dependency checked with a short timeout. */
  readiness: () => Promise<ReadinessReport>;
  /** Container and host stats history. */
  resourceStats: ResourceStats;
  /** Request metrics and recent requests from the edge's log; absent or null when off. */
  requestMetrics?: RequestMetricsReader | null;
  access: Access;
  audit: AuditLog;
  /** Failed sign-ins and bad tokens per client IP. */
  authLimiter: FailureLimiter;
  webhooks: Webhooks;
  notifier: Notifier;
  certificates: CertificateManager;
  /** Alerts, their rules and silences (engine/alert-operations.ts). */
  alerts: AlertOperations;
  /** Prometheus exposition of Slipway's own and per-service metrics (GET /metrics). */
  prometheus?: { contentType(): string; render(): Promise<string> };
  /** Who may scrape /metrics: `loopback` (no token from 127.0.0.1/::1, a read token otherwise; the default), `token` (always a read token), `public`. */
  metricsAccess?: MetricsAccess;
  logger: Logger;
}

export const METRICS_ACCESS = ['loopback', 'token', 'public'] as const;
export type MetricsAccess = (typeof METRICS_ACCESS)[number];
