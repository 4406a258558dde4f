/** Versioned, forward-only migrations, applied in name order. Add a new file; never edit a shipped one. */
import type { Migration, MigrationProvider } from 'kysely';
import { m0001Initial } from './0001-initial';
import { m0002Secrets } from './0002-secrets';
import { m0003Promotions } from './0003-promotions';
import { m0004JobRuns } from './0004-job-runs';
import { m0005Access } from './0005-access';
import { m0006Webhooks } from './0006-webhooks';
import { m0007Outbox } from './0007-outbox';
import { m0008RequestMetrics } from './0008-request-metrics';
import { m0009ResourceStats } from './0009-resource-stats';
import { m0010EnvironmentApproval } from './0010-environment-approval';
import { m0011RequestMetricsSeriesRollups } from './0011-request-metrics-series-rollups';
import { m0012Certificates } from './0012-certificates';
import { m0013TokenCreatorsAuditCounts } from './0013-token-creators-audit-counts';
import { m0015WebhookPushes } from './0015-webhook-pushes';
import { m0020Accessories } from './0020-accessories';
import { m0021Backups } from './0021-backups';
import { m0022AppliedMigrations } from './0022-applied-migrations';
import { m0023BackupFiles } from './0023-backup-files';
import { m0024ReplicaPlacements } from './0024-replica-placements';
import { m0025ReplicaRestarts } from './0025-replica-restarts';
import { m0026Alerts } from './0026-alerts';
import { m0027DeploymentGitRef } from './0027-deployment-git-ref';

export const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': m0001Initial,
  '0002-secrets': m0002Secrets,
  '0003-promotions': m0003Promotions,
  '0004-job-runs': m0004JobRuns,
  '0005-access': m0005Access,
  '0006-webhooks': m0006Webhooks,
  '0007-outbox': m0007Outbox,
  '0008-request-metrics': m0008RequestMetrics,
  '0009-resource-stats': m0009ResourceStats,
  '0010-environment-approval': m0010EnvironmentApproval,
  '0011-request-metrics-series-rollups': m0011RequestMetricsSeriesRollups,
  '0012-certificates': m0012Certificates,
  '0013-token-creators-audit-counts': m0013TokenCreatorsAuditCounts,
  '0015-webhook-pushes': m0015WebhookPushes,
  '0020-accessories': m0020Accessories,
  '0021-backups': m0021Backups,
  '0022-applied-migrations': m0022AppliedMigrations,
  '0023-backup-files': m0023BackupFiles,
  '0024-replica-placements': m0024ReplicaPlacements,
  '0025-replica-restarts': m0025ReplicaRestarts,
  '0026-alerts': m0026Alerts,
  '0027-deployment-git-ref': m0027DeploymentGitRef,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
