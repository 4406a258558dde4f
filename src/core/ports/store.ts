/**
 * Store port: persistent state of the control plane. Implemented by src/store
 * (Kysely over better-sqlite3; Postgres later). Every method is atomic on its own.
 *
 * The port is split by role (store-roles/, one interface each); `Store` is all of them plus
 * the lifecycle. A consumer that needs only one role can depend on that role's interface.
 * Writes that carry a `NewOutboxEvent` (deployments, job runs, certificates) append it in the
 * same transaction as the change, whatever their role.
 */
import type { AccessStore } from './store-roles/access-store';
import type { AlertStore } from './store-roles/alert-store';
import type { AccessoryStore } from './store-roles/accessory-store';
import type { CertificateStore } from './store-roles/certificate-store';
import type { DeploymentStore } from './store-roles/deployment-store';
import type { JobRunStore } from './store-roles/job-run-store';
import type { OutboxStore } from './store-roles/outbox-store';
import type { PlacementStore } from './store-roles/placement-store';
import type { ProjectStore } from './store-roles/project-store';
import type { ReplicaRestartStore } from './store-roles/replica-restart-store';
import type { RequestMetricsStore } from './store-roles/request-metrics-store';
import type { ResourceStatsStore } from './store-roles/resource-stats-store';
import type { SecretStore } from './store-roles/secret-store';
import type { SettingsStore } from './store-roles/settings-store';
import type { WebhookStore } from './store-roles/webhook-store';

export type { AccessStore, AuditQuery, NewToken } from './store-roles/access-store';
export type { AlertStore } from './store-roles/alert-store';
export type { AccessoryStore, AccessoryWrite, BackupPatch, BackupQuery, NewBackup } from './store-roles/accessory-store';
export type { CertificateStore } from './store-roles/certificate-store';
export type { DeploymentPatch, DeploymentQuery, DeploymentStore, NewDeployment, NewRelease } from './store-roles/deployment-store';
export type { JobRunStore } from './store-roles/job-run-store';
export type { NewOutboxEvent, OutboxStore } from './store-roles/outbox-store';
export type { PlacementStore } from './store-roles/placement-store';
export type { ProjectStore } from './store-roles/project-store';
export type { ReplicaRestartStore } from './store-roles/replica-restart-store';
export type { RequestMetricsStore } from './store-roles/request-metrics-store';
export type { ResourceStatsStore } from './store-roles/resource-stats-store';
export type { SecretStore } from './store-roles/secret-store';
export type { SettingsStore } from './store-roles/settings-store';
export type { WebhookStore } from './store-roles/webhook-store';

/** Opening and closing the whole store (not a role: every implementation has it once). */
export interface StoreLifecycle {
  /** Applies pending schema migrations (versioned, forward-only). */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

export interface Store
  extends StoreLifecycle,
    ProjectStore,
    DeploymentStore,
    PlacementStore,
    ReplicaRestartStore,
    JobRunStore,
    SecretStore,
    AccessoryStore,
    AccessStore,
    WebhookStore,
    CertificateStore,
    OutboxStore,
    ResourceStatsStore,
    RequestMetricsStore,
    SettingsStore,
    AlertStore {}
