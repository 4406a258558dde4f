/**
 * Store port: persistent state of the control plane. Implemented by src/store
 * (Kysely over better-sqlite3; Postgres later). Every method is atomic on its own.
 */
import type { ServiceConfig, ServiceType } from '../config';
import type { HostSample, ReplicaSample } from '../resource-stats';
import type {
  AccessoryRecord,
  BackupRecord,
  SealedAccessoryCredentials,
  CertificateRecord,
  ApiToken,
  ApprovalPolicy,
  AuditEntry,
  Deployment,
  DeploymentKind,
  DeploymentLogLine,
  DeploymentState,
  DeploymentStep,
  Environment,
  LogLevel,
  JobRun,
  JobRunStatus,
  Project,
  PromotionSource,
  Release,
  SealedSecrets,
  Scope,
  Service,
  StepStatus,
  User,
  Webhook,
  EventType,
  NotificationDelivery,
  NotificationTarget,
  OutboxEvent,
} from '../domain';
import type { RequestBucket, RequestBucketQuery } from '../request-metrics';

export interface NewRelease {
  serviceId: number;
  environmentId: number;
  imageRef: string;
  imageDigest: string;
  config: ServiceConfig;
  sourceRef: string | null;
  secretsVersion: number | null;
}

export interface NewDeployment {
  id: string;
  serviceId: number;
  environmentId: number;
  kind: DeploymentKind;
  previousReleaseId: number | null;
  /** Set at creation for rollbacks (the release already exists). */
  releaseId: number | null;
  source?: PromotionSource | null;
  /** Default `queued`; `awaiting_approval` with the plan to run once approved. */
  state?: 'queued' | 'awaiting_approval';
  /** What an approved deployment runs (JSON-serializable); stored only while it awaits approval. */
  plan?: unknown;
  triggeredBy?: string | null;
  /** Written atomically with the deployment (e.g. approval.needed). */
  event?: NewOutboxEvent;
}

export interface NewToken {
  id: string;
  name: string;
  /** sha256 hex of the token's secret. */
  tokenHash: string;
  scope: Scope;
  project: string | null;
  userId: number | null;
  createdBy: string;
  /** The token that created it, if any. */
  parentTokenId: string | null;
  expiresAt: string | null;
}

export interface AuditQuery {
  project?: string;
  /** ISO time: entries at or after it. */
  since?: string;
  limit?: number;
}

/** A domain event to append to the outbox in the same transaction as the change it describes. */
export interface NewOutboxEvent {
  type: EventType;
  project: string | null;
  payload: Record<string, unknown>;
}

export interface DeploymentPatch {
  /** Written atomically with the patch. */
  event?: NewOutboxEvent;
  state?: DeploymentState;
  previousReleaseId?: number | null;
  releaseId?: number;
  errorCode?: string | null;
  error?: string | null;
  startedAt?: string;
  finishedAt?: string;
}

export interface DeploymentQuery {
  serviceId?: number;
  environmentId?: number;
  states?: DeploymentState[];
  limit?: number;
}

export type NewBackup = Pick<BackupRecord, 'id' | 'environmentId' | 'accessory' | 'type' | 'trigger' | 'deploymentId' | 'triggeredBy'>;
export type BackupPatch = Partial<Omit<BackupRecord, 'id' | 'environmentId' | 'accessory' | 'trigger' | 'deploymentId' | 'triggeredBy' | 'startedAt'>>;
export interface BackupQuery {
  environmentId?: number;
  accessory?: string;
  states?: BackupRecord['state'][];
  deploymentId?: string;
  /** Newest first; default 100. */
  limit?: number;
  /** Include backups retention removed (default false). */
  expired?: boolean;
}

export interface AccessoryWrite {
  environmentId: number;
  name: string;
  kind: AccessoryRecord['kind'];
  config: AccessoryRecord['config'];
  imageDigest: string;
  specHash: string;
}

export interface Store {
  /** Applies pending schema migrations (versioned, forward-only). */
  migrate(): Promise<void>;
  close(): Promise<void>;

  upsertProject(name: string): Promise<Project>;
  getProject(name: string): Promise<Project | null>;
  listProjects(): Promise<Project[]>;
  /**
   * Deletes the project and everything recorded for it, in one transaction: its environments
   * (releases, deployments, logs, secrets, job runs, accessories and their credentials), services, webhook and its deliveries,
   * request metrics and resource samples. The audit log and the outbox are history: kept.
   */
  deleteProject(projectId: number): Promise<void>;

  /** Creates the environment if missing (`production` is created with each project). */
  ensureEnvironment(projectId: number, name: string): Promise<Environment>;
  getEnvironment(projectId: number, name: string): Promise<Environment | null>;
  listEnvironments(projectId: number): Promise<Environment[]>;
  /** Records the environment's approval policy (slipway.yml's, as a deploy or promotion resolved it). */
  setEnvironmentApproval(environmentId: number, approval: ApprovalPolicy): Promise<void>;
  /** Deletes the environment and everything recorded for it (releases, deployments, logs, secrets, accessories and their credentials). */
  deleteEnvironment(environmentId: number): Promise<void>;

  upsertService(projectId: number, name: string, type: ServiceType): Promise<Service>;
  getService(projectId: number, name: string): Promise<Service | null>;
  getServiceById(id: number): Promise<Service | null>;
  listServices(projectId: number): Promise<Service[]>;

  /** Assigns the next number for the service+environment atomically (v1, v2…). */
  createRelease(release: NewRelease): Promise<Release>;
  getRelease(id: number): Promise<Release | null>;
  getReleaseByNumber(serviceId: number, environmentId: number, number: number): Promise<Release | null>;
  /** Newest first. */
  listReleases(serviceId: number, environmentId: number, limit?: number): Promise<Release[]>;

  /** The release live for the service in the environment (set when a deployment succeeds). */
  getCurrentReleaseId(serviceId: number, environmentId: number): Promise<number | null>;
  /** The live release itself (one read), or null. */
  getCurrentRelease(serviceId: number, environmentId: number): Promise<Release | null>;
  setCurrentReleaseId(serviceId: number, environmentId: number, releaseId: number | null): Promise<void>;
  /** The live release of every service in the environment (one read for a status page). */
  listCurrentReleases(environmentId: number): Promise<Release[]>;

  /** Creates a deployment in state `queued`. */
  createDeployment(d: NewDeployment): Promise<Deployment>;
  getDeployment(id: string): Promise<Deployment | null>;
  updateDeployment(id: string, patch: DeploymentPatch): Promise<Deployment>;
  /** Applies the patch only if the deployment is in state `expected` (else null): approve/cancel races. */
  updateDeploymentIf(id: string, expected: DeploymentState, patch: DeploymentPatch): Promise<Deployment | null>;
  /** The plan stored with a deployment awaiting approval, or null. */
  getDeploymentPlan(id: string): Promise<unknown>;
  /** Newest first. */
  listDeployments(q: DeploymentQuery): Promise<Deployment[]>;
  /** The newest `perService` deployments of each service in the environment, newest first (one read for a status page). */
  listRecentDeployments(environmentId: number, perService: number): Promise<Deployment[]>;

  /** Records a step starting (returns its seq) and later its outcome. */
  startStep(deploymentId: string, name: string, detail?: string): Promise<number>;
  finishStep(deploymentId: string, seq: number, status: Exclude<StepStatus, 'running'>, detail?: string): Promise<void>;
  listSteps(deploymentId: string): Promise<DeploymentStep[]>;

  appendLog(deploymentId: string, level: LogLevel, message: string): Promise<DeploymentLogLine>;
  /** Log lines with seq > afterSeq, oldest first. */
  listLogs(deploymentId: string, afterSeq?: number): Promise<DeploymentLogLine[]>;

  /**
   * Leases: one holder per key until it expires. Acquire succeeds if the key is free,
   * expired, or already held by the same holder (which renews it).
   */
  acquireLease(key: string, holder: string, ttlMs: number): Promise<boolean>;
  releaseLease(key: string, holder: string): Promise<void>;
  getLease(key: string): Promise<{ holder: string; expiresAt: string } | null>;

  /** The newest version of an environment's secrets, or the given one; null if there is none. */
  getSecrets(environmentId: number, version?: number): Promise<SealedSecrets | null>;
  /** Adds a version; fails with SLW_CONFLICT if that version already exists (a concurrent change won). */
  addSecrets(s: Omit<SealedSecrets, 'createdAt'>): Promise<SealedSecrets>;
  /** Every sealed version of every environment (for key rotation). */
  listAllSecrets(): Promise<SealedSecrets[]>;
  /** Replaces the seal of existing versions, all in one transaction. */
  resealSecrets(updates: Array<{ environmentId: number; version: number; keyId: string; sealed: string }>): Promise<void>;

  /** A backup starts `running` (startedAt now). */
  createBackup(b: NewBackup): Promise<BackupRecord>;
  updateBackup(id: string, patch: BackupPatch): Promise<BackupRecord>;
  getBackup(id: string): Promise<BackupRecord | null>;
  listBackups(q: BackupQuery): Promise<BackupRecord[]>;
  /** The migration files recorded for a service in an environment (the migration lint skips them), by name. */
  listAppliedMigrations(serviceId: number, environmentId: number): Promise<string[]>;
  /** Adds these names to the recorded ones (names already recorded are kept as they were). */
  recordAppliedMigrations(serviceId: number, environmentId: number, names: string[]): Promise<void>;
  /** Accessories of one environment (all environments when absent: the reconciler), by name. */
  listAccessories(environmentId?: number): Promise<AccessoryRecord[]>;
  getAccessory(environmentId: number, name: string): Promise<AccessoryRecord | null>;
  /** Creates or updates (by environment and name) what was applied; keeps the credentials version. */
  saveAccessory(a: AccessoryWrite): Promise<AccessoryRecord>;
  /** Deletes the record and its credentials (the container and volumes are the runtime's); no-op when already gone. */
  deleteAccessory(id: number): Promise<void>;
  /** Adds the next credentials version and makes it the accessory's current one, atomically. */
  addAccessoryCredentials(accessoryId: number, sealed: { keyId: string; sealed: string }): Promise<SealedAccessoryCredentials>;
  /** The given version, or the current one; null if there is none. */
  getAccessoryCredentials(accessoryId: number, version?: number): Promise<SealedAccessoryCredentials | null>;
  /** Every version of every accessory (master key rotation re-seals them). */
  listAllAccessoryCredentials(): Promise<SealedAccessoryCredentials[]>;
  resealAccessoryCredentials(updates: Array<{ accessoryId: number; version: number; keyId: string; sealed: string }>): Promise<void>;

  /** Records a scheduled run (status running) or a skipped one. */
  createJobRun(r: Omit<JobRun, 'id' | 'finishedAt' | 'exitCode' | 'output'> & { output?: string }): Promise<JobRun>;
  finishJobRun(id: number, patch: { status: JobRunStatus; exitCode: number | null; note?: string | null; output: string; event?: NewOutboxEvent }): Promise<JobRun>;
  getJobRun(id: number): Promise<JobRun | null>;
  /** Newest first. */
  listJobRuns(q: { environmentId: number; serviceId?: number; status?: JobRunStatus; limit?: number }): Promise<JobRun[]>;

  /** Fails with SLW_CONFLICT when the name is taken. */
  createUser(u: { name: string; passwordHash: string; scope: Scope }): Promise<User>;
  getUserByName(name: string): Promise<(User & { passwordHash: string }) | null>;
  getUserById(id: number): Promise<User | null>;
  listUsers(): Promise<User[]>;
  /** Removes the user and the tokens issued to them; false if there was none. */
  deleteUser(name: string): Promise<boolean>;

  createToken(t: NewToken): Promise<ApiToken>;
  getTokenByHash(tokenHash: string): Promise<ApiToken | null>;
  listTokens(): Promise<ApiToken[]>;
  /** Marks it revoked (kept for the audit trail); false if unknown or already revoked. */
  revokeToken(id: string): Promise<boolean>;
  touchToken(id: string, at: string): Promise<void>;

  /** Append-only: there is no update or delete. */
  /** `count` defaults to 1. */
  appendAudit(e: Omit<AuditEntry, 'seq' | 'at' | 'count'> & { count?: number }): Promise<AuditEntry>;
  /** Newest first. */
  listAudit(q: AuditQuery): Promise<AuditEntry[]>;

  /** Creates or replaces the project's webhook. */
  putWebhook(w: Omit<Webhook, 'createdAt'>): Promise<Webhook>;
  getWebhook(project: string): Promise<Webhook | null>;
  listWebhooks(): Promise<Webhook[]>;
  deleteWebhook(project: string): Promise<boolean>;
  /** Re-seals webhook secrets after a key rotation, in one transaction. */
  resealWebhooks(updates: Array<{ project: string; keyId: string; sealed: string }>): Promise<void>;
  /** Creates or replaces a domain's certificate record; `event` goes to the outbox in the same transaction. */
  putCertificate(c: Omit<CertificateRecord, 'createdAt' | 'updatedAt'>, event?: NewOutboxEvent): Promise<CertificateRecord>;
  getCertificate(domain: string): Promise<CertificateRecord | null>;
  /** By domain. */
  listCertificates(): Promise<CertificateRecord[]>;
  deleteCertificate(domain: string): Promise<boolean>;
  /** Re-seals certificate keys after a key rotation, in one transaction. */
  resealCertificates(updates: Array<{ domain: string; keyId: string; sealedKey: string }>): Promise<void>;
  /** Records a delivery id; false when it was seen before (a replay). */
  recordDelivery(project: string, deliveryId: string): Promise<boolean>;
  /**
   * Records an accepted push by what was signed (ref, commit, hash of the signed bytes);
   * false when the same push was accepted before, whatever its delivery id (a replay).
   */
  recordWebhookPush(p: { project: string; ref: string; commit: string; bodySha256: string; deliveryId: string }): Promise<boolean>;
  /** Forgets delivery ids and accepted pushes received before `before` (ISO time); returns how many. */
  pruneWebhookDeliveries(before: string): Promise<number>;

  /** Appends an event that accompanies no stored change (e.g. `edge.restarted`). */
  appendOutboxEvent(e: NewOutboxEvent): Promise<void>;
  /** Outbox events after `seq`, oldest first. */
  listOutbox(afterSeq: number, limit: number): Promise<OutboxEvent[]>;
  getOutboxEvent(eventId: string): Promise<OutboxEvent | null>;
  createNotificationTarget(t: Omit<NotificationTarget, 'createdAt'>): Promise<NotificationTarget>;
  listNotificationTargets(): Promise<NotificationTarget[]>;
  deleteNotificationTarget(id: string): Promise<boolean>;
  resealNotificationTarget(id: string, keyId: string, sealed: string): Promise<void>;
  /** Creates pending deliveries of the event to these targets (existing ones are kept). */
  addDeliveries(eventId: string, targetIds: string[], at: string): Promise<void>;
  /** Pending deliveries due at `now`, oldest first. */
  dueDeliveries(now: string, limit: number): Promise<NotificationDelivery[]>;
  updateDelivery(eventId: string, targetId: string, patch: Partial<Omit<NotificationDelivery, 'eventId' | 'targetId'>>): Promise<void>;
  /** What the notifier still has to do: events after `afterSeq` (not fanned out yet) and pending deliveries. */
  outboxBacklog(afterSeq: number): Promise<{ events: number; pendingDeliveries: number }>;
  /** Newest first, with the event's type and project. */
  listDeliveries(limit: number): Promise<Array<NotificationDelivery & { type: EventType; project: string | null }>>;

  /** One sampling round of the stats sampler, in one transaction (a replica's series is created on first sight). */
  addResourceSamples(replicas: ReplicaSample[], hosts: HostSample[]): Promise<void>;
  /** The newest sample of each named replica; replicas never sampled are absent. */
  latestReplicaSamples(replicas: string[]): Promise<ReplicaSample[]>;
  latestHostSample(server: string): Promise<HostSample | null>;
  /** Samples of a service's replicas in an environment taken at or after `since` (epoch ms), by replica then time. */
  listReplicaSamples(q: { project: string; service: string; env: string; since: number }): Promise<ReplicaSample[]>;
  /** Oldest first. */
  listHostSamples(server: string, since: number): Promise<HostSample[]>;
  /**
   * Raw samples taken before `rollupBefore` (a minute boundary) are replaced by one average
   * per replica (or server) and minute; everything before `deleteBefore` is deleted.
   */
  compactResourceSamples(c: { rollupBefore: number; deleteBefore: number }): Promise<{ averaged: number; deleted: number }>;

  /**
   * Adds each bucket's counts, bytes, durations and histogram to the stored bucket with the same
   * project+env+service+release+route+span+start (created if missing), all in one transaction.
   */
  mergeRequestBuckets(buckets: RequestBucket[]): Promise<void>;
  /** Buckets of one span whose start is in [from, to), in no particular order. */
  listRequestBuckets(q: RequestBucketQuery): Promise<RequestBucket[]>;
  /** Deletes buckets that start before `before` (epoch seconds); returns how many. */
  pruneRequestBuckets(before: number): Promise<number>;

  /** Small key/value settings (e.g. admin token hash). */
  getSetting(key: string): Promise<string | null>;
  /** The settings among `keys` that exist. */
  getSettings(keys: readonly string[]): Promise<Map<string, string>>;
  setSetting(key: string, value: string): Promise<void>;
}
