/** Domain records as the store returns them and the API serves them. */
import type { StoredFile } from './ports/backup-files';
import type { AccessoryConfig, AccessoryKind, ServiceConfig, ServiceType } from './config';

export const DEPLOYMENT_STATES = ['awaiting_approval', 'queued', 'building', 'releasing', 'rolling', 'succeeded', 'failed', 'cancelled', 'rolled_back'] as const;
export type DeploymentState = (typeof DEPLOYMENT_STATES)[number];
/** States of a deployment the engine is working on (it holds the service's lease). */
export const ACTIVE_STATES: readonly DeploymentState[] = ['queued', 'building', 'releasing', 'rolling'];
/** Waiting for `slipway approve` (or cancel); holds no lease and survives restarts. */
export const PENDING_STATES: readonly DeploymentState[] = ['awaiting_approval'];
export const isTerminal = (s: DeploymentState): boolean => !ACTIVE_STATES.includes(s) && !PENDING_STATES.includes(s);

export interface Project {
  id: number;
  name: string;
  createdAt: string;
}

/** `required`: deploys, promotions and image-changing redeploys to the environment wait in awaiting_approval. */
export type ApprovalPolicy = 'required' | 'none';

export interface Environment {
  id: number;
  projectId: number;
  name: string;
  /**
   * The environment's `approval:` from slipway.yml, as the last deploy or promotion to it
   * resolved it (`none` until then): what a redeploy, which carries no slipway.yml, honours.
   */
  approval: ApprovalPolicy;
  createdAt: string;
}

export interface Service {
  id: number;
  projectId: number;
  name: string;
  type: ServiceType;
  createdAt: string;
}

/** Where a replica runs: recorded when the engine starts it, dropped when it retires it. */
export interface ReplicaPlacement {
  /** The replica's (container) name. */
  replica: string;
  server: string;
  serviceId: number;
  environmentId: number;
  release: number;
  deploymentId: string;
  placedAt: string;
}

export interface Release {
  id: number;
  serviceId: number;
  environmentId: number;
  /** v1, v2… per service per environment. */
  number: number;
  imageRef: string;
  /** Content address of the image (`sha256:…`): the local image ID, or the registry digest when pulled. */
  imageDigest: string;
  /** The resolved, normalized service config this release runs with. */
  config: ServiceConfig;
  /** Git commit or source content hash the image was built from, if known. */
  sourceRef: string | null;
  /** The environment's secrets version this release runs with (null: no secrets were set). */
  secretsVersion: number | null;
  createdAt: string;
}

/** Plaintext facts about a secret: never its value. */
export interface SecretMeta {
  /** The secrets version that last changed this secret. */
  version: number;
  updatedAt: string;
}

/**
 * One immutable version of an environment's secrets: every value, sealed together
 * (AES-256-GCM) so a release can pin it, plus the plaintext names and history.
 */
export interface SealedSecrets {
  environmentId: number;
  version: number;
  /** Id of the master key that sealed `sealed`. */
  keyId: string;
  sealed: string;
  names: Record<string, SecretMeta>;
  createdAt: string;
}

/**
 * An accessory of an environment as last applied: its resolved config, the hash of the
 * container it should run (core/accessory-spec.ts) and its current credentials version.
 */
export interface AccessoryRecord {
  id: number;
  environmentId: number;
  name: string;
  kind: AccessoryKind;
  config: AccessoryConfig;
  /** The image ID the container was created from (built-in images are built on first use). */
  imageDigest: string;
  specHash: string;
  /** 0 for kinds without credentials (`container`). */
  credentialsVersion: number;
  createdAt: string;
  updatedAt: string;
}

/** pgBackRest's full and differential sets; `snapshot`: the files of a redis, nats or container accessory, copied whole. */
export type BackupType = 'full' | 'diff' | 'snapshot';
/** What asked for it: the accessory's schedule, a person, a deployment's release command, or a restore in place (the state it replaces). */
export type BackupTrigger = 'schedule' | 'manual' | 'release' | 'restore';
/** `running` until pgBackRest finished; a backup interrupted (control plane restarted) is `failed`, never listed as good. */
export type BackupState = 'running' | 'succeeded' | 'failed';
export interface BackupVerification {
  state: 'running' | 'passed' | 'failed';
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  /** Each check and what it found (pgBackRest's verify, the restore, the server starting, row counts, user queries). */
  checks: Array<{ name: string; ok: boolean; detail: string }>;
  /** The first failed check's detail. */
  error: string | null;
}

/** One backup of an accessory (a pgBackRest set) and its latest verification. */
export interface BackupRecord {
  id: string;
  environmentId: number;
  accessory: string;
  type: BackupType;
  trigger: BackupTrigger;
  deploymentId: string | null;
  triggeredBy: string | null;
  state: BackupState;
  /** pgBackRest's label of the set (`20261207-102339F`); null until it finished. */
  label: string | null;
  /** The restore point made right after it, at which the row counts were read: verification restores to it. */
  restorePoint: string | null;
  /** The database's size, and what the set added to the repository. */
  sizeBytes: number | null;
  storedBytes: number | null;
  walStart: string | null;
  walStop: string | null;
  /** Rows per table (`schema.table`) at the restore point. */
  tableCounts: Record<string, number> | null;
  error: string | null;
  verification: BackupVerification | null;
  /** Snapshot backups: the files written to the backup folder, with sizes and checksums; null for pgBackRest sets. */
  files: StoredFile[] | null;
  startedAt: string;
  finishedAt: string | null;
  /** Removed from the repository by retention. */
  expiredAt: string | null;
}

/** One version of an accessory's generated credentials, sealed under the master key (JSON of core/accessory-kinds.ts AccessoryCredentials). */
export interface SealedAccessoryCredentials {
  accessoryId: number;
  version: number;
  keyId: string;
  sealed: string;
  createdAt: string;
}

/**
 * deploy: build (or reuse) from slipway.yml; rollback: an earlier release as it was;
 * secrets: the live release again with the environment's newest secrets; promote: the
 * image another environment runs, with this environment's config and secrets; repair: the
 * live release's missing replicas started again after some died (by the reconciler); scale,
 * restart: the live release with another count, or new containers; stop: the live release with
 * 0 replicas (`slipway stop`), start: back to the count before the stop (`slipway start`).
 */
export type DeploymentKind = 'deploy' | 'rollback' | 'secrets' | 'promote' | 'repair' | 'scale' | 'restart' | 'stop' | 'start';

/**
 * Where a built service's context comes from: an archive the client uploaded (its
 * sha256; `commit` when the client's directory was a clean git checkout), or a git
 * repository the server fetches (`path`: the directory of slipway.yml in the repository,
 * which build contexts are relative to).
 */
export type BuildSource =
  | { kind: 'archive'; sha256: string; commit: string | null }
  | { kind: 'git'; url: string; ref: string; path: string };

/** The git ref a push webhook deployed (`refs/heads/<branch>`, `refs/tags/<tag>`) and its commit (a tag peeled). */
export interface GitTrigger {
  ref: string;
  commit: string;
}

/** Where a promoted release's image came from. */
export interface PromotionSource {
  env: string;
  release: number;
  imageDigest: string;
}

export interface Deployment {
  id: string;
  serviceId: number;
  environmentId: number;
  kind: DeploymentKind;
  state: DeploymentState;
  /** Null until the release is created (after the build). */
  releaseId: number | null;
  /** The release that was live when this deployment started (what a failure returns to). */
  previousReleaseId: number | null;
  /** Set for promotions. */
  source: PromotionSource | null;
  /** Who asked for it (`user:alice`, `token:ci (tok_…)`, `webhook:shop`, `system`); null when unknown. */
  triggeredBy: string | null;
  /** The pushed ref and commit it deploys, when a push webhook started it; null otherwise. */
  git: GitTrigger | null;
  errorCode: string | null;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export type StepStatus = 'running' | 'done' | 'failed';

export interface DeploymentStep {
  deploymentId: string;
  seq: number;
  name: string;
  status: StepStatus;
  detail: string | null;
  startedAt: string;
  finishedAt: string | null;
}

export type LogLevel = 'info' | 'warn' | 'error';

export interface DeploymentLogLine {
  deploymentId: string;
  seq: number;
  level: LogLevel;
  message: string;
  at: string;
}

/** Names that identify a service in one environment, used across API and engine. */
export interface ServiceRef {
  project: string;
  service: string;
  env: string;
}

export const JOB_RUN_STATUSES = ['running', 'succeeded', 'failed', 'timed_out', 'skipped', 'interrupted'] as const;
export type JobRunStatus = (typeof JOB_RUN_STATUSES)[number];

/** One scheduled run of a job service (or a skipped one: the previous run was still going). */
export interface JobRun {
  id: number;
  serviceId: number;
  environmentId: number;
  releaseId: number;
  /** The schedule tick this run is for. */
  scheduledAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  status: JobRunStatus;
  exitCode: number | null;
  /** Why it was skipped, failed or interrupted. */
  note: string | null;
  /** The last lines of its output (secret values masked). */
  output: string;
}

/** What a token or user may do; each includes the ones before it: read < deploy < admin. */
export const SCOPES = ['read', 'deploy', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export function scopeAllows(held: Scope, needed: Scope): boolean {
  return SCOPES.indexOf(held) >= SCOPES.indexOf(needed);
}

export interface User {
  id: number;
  name: string;
  scope: Scope;
  createdAt: string;
}

export interface ApiToken {
  /** Public identifier (`tok_…`), shown in lists and the audit log; not a secret. */
  id: string;
  name: string;
  scope: Scope;
  /** Only this project's resources are visible, when set. */
  project: string | null;
  /** The user it was issued to by `slipway login`, if any. */
  userId: number | null;
  createdBy: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
  /** The token it was created with (null: by a sign-in, the server, or before 0013); it never outlives it. */
  parentTokenId: string | null;
}

export type AuditOutcome = 'ok' | 'denied' | 'error';

export interface AuditEntry {
  seq: number;
  at: string;
  /** `user:<name>`, `token:<name> (<id>)`, `webhook:<project>`, `anonymous`. */
  actor: string;
  /** e.g. `POST /api/v1/deployments`, `login`, `webhook.push`. */
  action: string;
  project: string | null;
  target: string | null;
  clientIp: string;
  outcome: AuditOutcome;
  status: number;
  detail: string | null;
  /** How many identical refusals (same IP, route, actor, status, within a minute) this entry stands for; 1 otherwise. */
  count: number;
}

/** A project's push webhook; `sealed` is its HMAC secret under the master key. */
export interface Webhook {
  project: string;
  repository: string;
  /** Directory of slipway.yml in the repository ("" = root). */
  path: string;
  keyId: string;
  sealed: string;
  createdBy: string;
  createdAt: string;
}

/** Domain events the notifier delivers. */
export const EVENT_TYPES = ['deployment.started', 'deployment.succeeded', 'deployment.failed', 'deployment.rolled_back', 'approval.needed', 'job.failed', 'certificate.issued', 'certificate.failed', 'edge.restarted', 'edge.corrected', 'disk.low', 'replica.unhealthy', 'replica.replaced', 'replica.oom_killed', 'accessory.restarted', 'accessory.recreated', 'accessory.failed', 'backup.failed', 'backup.verify_failed', 'alert.firing', 'alert.resolved'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface OutboxEvent {
  seq: number;
  /** Idempotency key: receivers dedupe on it (deliveries are at least once). */
  eventId: string;
  type: EventType;
  project: string | null;
  payload: Record<string, unknown>;
  createdAt: string;
}

export interface NotificationTarget {
  id: string;
  /** `nats` is managed by the server from NATS_URL; the others are added by users. */
  kind: 'webhook' | 'slack' | 'nats';
  url: string;
  /** Sealed HMAC secret of a generic webhook target. */
  keyId: string | null;
  sealed: string | null;
  project: string | null;
  /** Event types it receives; empty = all. */
  events: EventType[];
  createdBy: string;
  createdAt: string;
}

export interface NotificationDelivery {
  eventId: string;
  targetId: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  deliveredAt: string | null;
}

/** acme: obtained and renewed from an ACME CA; own: brought by a user (never renewed by Slipway); local: the development CA (*.localhost). */
export const CERTIFICATE_SOURCES = ['acme', 'own', 'local'] as const;
export type CertificateSource = (typeof CERTIFICATE_SOURCES)[number];
/** pending: none obtained yet; valid: the last attempt succeeded; failed: the last attempt failed (an earlier certificate may still be served). */
export const CERTIFICATE_STATUSES = ['pending', 'valid', 'failed'] as const;
export type CertificateStatus = (typeof CERTIFICATE_STATUSES)[number];

/** A domain's certificate and the state of obtaining or renewing it. */
export interface CertificateRecord {
  domain: string;
  source: CertificateSource;
  status: CertificateStatus;
  /** Chain, leaf first (public); null until one is obtained. */
  certPem: string | null;
  /** The private key, sealed under the master key `keyId`. */
  keyId: string | null;
  sealedKey: string | null;
  /** Names the certificate covers. */
  domains: string[];
  notBefore: string | null;
  notAfter: string | null;
  issuer: string | null;
  fingerprint256: string | null;
  /** When renewal is due (2/3 of the lifetime for ACME and local certificates); null for own certificates. */
  renewAt: string | null;
  issuedAt: string | null;
  lastError: string | null;
  /** Failed attempts in a row (reset by a success). */
  failures: number;
  /** The earliest next attempt after a failure (backoff). */
  nextAttemptAt: string | null;
  createdAt: string;
  updatedAt: string;
}
