/** Kysely table types: the columns as stored (snake_case, ISO-8601 UTC timestamps as text, JSON as text). */
import type { Generated } from 'kysely';
import type { AccessoryKind, ServiceType } from '../core/config';
import type { RestartReason } from '../core/replica-restarts';
import type { ApprovalPolicy, BackupState, BackupTrigger, BackupType, AuditOutcome, CertificateSource, CertificateStatus, JobRunStatus, DeploymentKind, DeploymentState, LogLevel, Scope, StepStatus } from '../core/domain';

export interface Database {
  projects: { id: Generated<number>; name: string; created_at: string };
  /** approval: 'required' | 'none' (default 'none'), written by each deploy or promotion (0010). */
  environments: { id: Generated<number>; project_id: number; name: string; approval: Generated<ApprovalPolicy>; created_at: string };
  services: { id: Generated<number>; project_id: number; name: string; type: ServiceType; created_at: string };
  releases: {
    id: Generated<number>;
    service_id: number;
    environment_id: number;
    number: number;
    image_ref: string;
    image_digest: string;
    /** The resolved ServiceConfig, JSON. */
    config: string;
    source_ref: string | null;
    secrets_version: number | null;
    created_at: string;
  };
  current_releases: { service_id: number; environment_id: number; release_id: number | null };
  deployments: {
    id: string;
    service_id: number;
    environment_id: number;
    kind: DeploymentKind;
    state: DeploymentState;
    release_id: number | null;
    previous_release_id: number | null;
    /** PromotionSource JSON, for promotions. */
    source: string | null;
    /** The plan (JSON) of a deployment awaiting approval. */
    plan: string | null;
    error_code: string | null;
    error: string | null;
    created_at: string;
    started_at: string | null;
    finished_at: string | null;
    /** Who asked for it (an audit actor such as `user:alice`), null before 0005. */
    triggered_by: string | null;
    /** The pushed ref and its commit when a push webhook started it (0027); null otherwise. */
    git_ref: string | null;
    git_commit: string | null;
  };
  deployment_steps: {
    deployment_id: string;
    seq: number;
    name: string;
    status: StepStatus;
    detail: string | null;
    started_at: string;
    finished_at: string | null;
  };
  deployment_logs: { deployment_id: string; seq: number; level: LogLevel; message: string; at: string };
  leases: { key: string; holder: string; expires_at: string };
  /** `names` is JSON: Record<name, SecretMeta>. */
  secrets: { environment_id: number; version: number; key_id: string; sealed: string; names: string; created_at: string };
  /** Accessories (0020): `config` is the resolved AccessoryConfig, JSON; `credentials_version` 0 = none yet. */
  accessories: {
    id: Generated<number>;
    environment_id: number;
    name: string;
    kind: AccessoryKind;
    config: string;
    image_digest: string;
    spec_hash: string;
    credentials_version: Generated<number>;
    created_at: string;
    updated_at: string;
  };
  /** Backups of accessories (0021): `table_counts`, `verify` and `files` (0023) are JSON. */
  backups: {
    id: string;
    environment_id: number;
    accessory: string;
    type: BackupType;
    trigger: BackupTrigger;
    deployment_id: string | null;
    triggered_by: string | null;
    state: BackupState;
    label: string | null;
    restore_point: string | null;
    size_bytes: number | null;
    stored_bytes: number | null;
    wal_start: string | null;
    wal_stop: string | null;
    table_counts: string | null;
    error: string | null;
    verify: string | null;
    files: string | null;
    started_at: string;
    finished_at: string | null;
    expired_at: string | null;
  };
  /** Generated credentials per accessory and version (0020), sealed under the master key. */
  accessory_credentials: { accessory_id: number; version: number; key_id: string; sealed: string; created_at: string };
  /** Migration files present when a release command succeeded (0022): what the migration lint skips. */
  applied_migrations: { service_id: number; environment_id: number; name: string; applied_at: string };
  job_runs: {
    id: Generated<number>;
    service_id: number;
    environment_id: number;
    release_id: number;
    scheduled_at: string;
    started_at: string | null;
    finished_at: string | null;
    status: JobRunStatus;
    exit_code: number | null;
    note: string | null;
    output: string;
  };
  settings: { key: string; value: string };
  replica_placements: { replica: string; server: string; service_id: number; environment_id: number; release: number; deployment_id: string; placed_at: string };
  /** Restarts of replica slots (0025): `at` epoch ms; one row per replacement by a repair. */
  replica_restarts: { id: Generated<number>; project: string; env: string; service: string; release: number; slot: number; at: number; reason: RestartReason; exit_code: number | null; replica: string | null; deployment_id: string };
  /** Alerts (0026): one row per firing; `silenced` 0/1. */
  alerts: {
    id: Generated<number>;
    rule: string;
    subject: string;
    project: string | null;
    env: string | null;
    service: string | null;
    state: 'firing' | 'resolved';
    started_at: string;
    ended_at: string | null;
    value: number | null;
    summary: string;
    link: string | null;
    explain: string | null;
    silenced: number;
  };
  alert_silences: { id: Generated<number>; rule: string; subject: string | null; project: string | null; until: string; reason: string | null; created_by: string; created_at: string };
  outbox: { seq: Generated<number>; event_id: string; type: string; project: string | null; payload: string; created_at: string };
  notification_targets: { id: string; kind: 'webhook' | 'slack' | 'nats'; url: string; key_id: string | null; sealed: string | null; project: string | null; events: string; created_by: string; created_at: string };
  notification_deliveries: { event_id: string; target_id: string; status: 'pending' | 'delivered' | 'failed'; attempts: number; next_attempt_at: string; last_error: string | null; delivered_at: string | null };
  webhooks: { project: string; repository: string; path: string; key_id: string; sealed: string; created_by: string; created_at: string };
  webhook_deliveries: { project: string; delivery_id: string; received_at: string };
  webhook_pushes: { project: string; ref: string; commit_sha: string; body_sha256: string; delivery_id: string; received_at: string };
  certificates: {
    domain: string;
    source: CertificateSource;
    status: CertificateStatus;
    cert_pem: string | null;
    key_id: string | null;
    sealed_key: string | null;
    /** JSON array of the names the certificate covers. */
    domains: string;
    not_before: string | null;
    not_after: string | null;
    issuer: string | null;
    fingerprint256: string | null;
    renew_at: string | null;
    issued_at: string | null;
    last_error: string | null;
    failures: number;
    next_attempt_at: string | null;
    created_at: string;
    updated_at: string;
  };
  users: { id: Generated<number>; name: string; password_hash: string; scope: Scope; created_at: string };
  api_tokens: {
    id: string;
    name: string;
    token_hash: string;
    scope: Scope;
    project: string | null;
    user_id: number | null;
    created_by: string;
    created_at: string;
    expires_at: string | null;
    last_used_at: string | null;
    revoked_at: string | null;
    /** The token that created this one (0013): revoking it revokes this one. */
    parent_token_id: string | null;
  };
  /** Resource samples (0009): times are epoch ms; a series per replica. */
  replica_series: { id: Generated<number>; replica: string; project: string; service: string; env: string; release: number; last_at: number };
  replica_stats: { series_id: number; at: number; span_ms: number; cpu_percent: number | null; memory_used: number; memory_limit: number; restarts: number };
  host_stats: {
    server: string;
    at: number;
    span_ms: number;
    cpu_percent: number | null;
    cpus: number;
    memory_used: number;
    memory_total: number;
    disk_used: number;
    disk_total: number;
    disk_available: number;
  };
  /** Request metrics (0008): `start` epoch seconds, `release` 0 = none, `histogram` little-endian uint32 counts. */
  request_metrics: {
    project: string;
    env: string;
    service: string;
    span: number;
    start: number;
    release: number;
    route: string;
    requests: number;
    s1xx: number;
    s2xx: number;
    s3xx: number;
    s4xx: number;
    s5xx: number;
    bytes: number;
    duration_ms: number;
    histogram: Uint8Array;
  };
  audit_log: {
    seq: Generated<number>;
    at: string;
    actor: string;
    action: string;
    project: string | null;
    target: string | null;
    client_ip: string;
    outcome: AuditOutcome;
    status: number;
    detail: string | null;
    /** Identical refusals this row stands for (0013). */
    count: Generated<number>;
  };
}
