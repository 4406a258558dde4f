/**
 * Read models the API serves and the client receives, declared once with zod. The types
 * the engine builds and the client reads are inferred from these schemas; the OpenAPI
 * document is generated from them; and with SLIPWAY_STRICT_RESPONSES=1 (the test suite)
 * the server checks every JSON answer against them. Objects are strict: a field the
 * schema does not declare (a sealed secret, say) makes the answer fail that check.
 */
import { z } from 'zod';
import type * as d from '../domain';
import { CERTIFICATE_SOURCES, CERTIFICATE_STATUSES, DEPLOYMENT_STATES, EVENT_TYPES, JOB_RUN_STATUSES, SCOPES } from '../domain';
import { hostStatsView, replicaStatsView, serviceRestartsView } from './stats';
import { CANARY_PHASES, canaryStateSchema } from '../canary-state';

const at = z.string().describe('ISO 8601 time');
const nullableAt = at.nullable();
const text = z.string();

export const deploymentStep = z.strictObject({
  deploymentId: text,
  seq: z.number().int(),
  name: text,
  status: z.enum(['running', 'done', 'failed']),
  detail: text.nullable(),
  startedAt: at,
  finishedAt: nullableAt,
});

export const deploymentLogLine = z.strictObject({
  deploymentId: text,
  seq: z.number().int(),
  level: z.enum(['info', 'warn', 'error']),
  message: text,
  at,
});

export const deploymentView = z.strictObject({
  id: text,
  serviceId: z.number().int(),
  environmentId: z.number().int(),
  kind: z.enum(['deploy', 'rollback', 'secrets', 'promote', 'repair', 'scale', 'restart', 'stop', 'start']),
  state: z.enum(DEPLOYMENT_STATES),
  releaseId: z.number().int().nullable(),
  previousReleaseId: z.number().int().nullable(),
  source: z.strictObject({ env: text, release: z.number().int(), imageDigest: text }).nullable().describe('set for promotions'),
  triggeredBy: text.nullable(),
  git: z
    .strictObject({ ref: text.describe('refs/heads/<branch> or refs/tags/<tag>'), commit: text.describe('the commit deployed (an annotated tag peeled)') })
    .nullable()
    .describe('the pushed ref and commit, when a push webhook started it; null otherwise'),
  errorCode: text.nullable(),
  error: text.nullable(),
  createdAt: at,
  startedAt: nullableAt,
  finishedAt: nullableAt,
  project: text,
  service: text,
  env: text,
  releaseNumber: z.number().int().nullable(),
  steps: z.array(deploymentStep),
  canary: canaryStateSchema.nullable().optional().describe('canary deployments: phase, step, weights and every analysis window with its figures and verdict'),
});
export type DeploymentView = z.infer<typeof deploymentView>;

export const releaseView = z.strictObject({
  number: z.number().int(),
  imageRef: text,
  imageDigest: text,
  sourceRef: text.nullable(),
  secretsVersion: z.number().int().nullable().describe("the environment's secrets version the release runs with"),
  createdAt: at,
  current: z.boolean(),
  outcome: z.enum(['live', 'was_live', 'rolled_back', 'never_live', 'deploying'])
    .describe('live now; was_live (replaced by a later deploy); rolled_back (left by a rollback); never_live (no deployment of it succeeded: failed, cancelled, interrupted, canary aborted); deploying'),
  liveUntil: at.nullable().describe('when it last stopped being live (null: live now, or never live)'),
  imagePruned: z.boolean().describe('its image is no longer on the host (removed by retention.releases): a rollback to it needs `redeploy --image` or a rebuild'),
  replicas: z.number().int().describe('replicas the release asks for'),
  domains: z.array(text),
  env: z.record(text, text).describe("plain environment variables from slipway.yml (secrets are never here: see the environment's secrets)"),
});
export type ReleaseView = z.infer<typeof releaseView>;

export const resourceLimitsView = z.strictObject({
  memoryBytes: z.number().int().nullable().describe('memory limit in bytes (null: none)'),
  cpus: z.number().nullable().describe('CPU limit in cores (null: none)'),
});

export const replicaView = z.strictObject({
  name: text,
  release: z.number().int(),
  state: text,
  address: text.nullable(),
  edge: z.enum(['ready', 'standby', 'drain', 'maint', 'absent']).describe('standby: at the edge with weight 0 (a blue-green set before the flip, or the warm set after it)'),
  edgeHealth: z
    .enum(['up', 'down', 'unchecked'])
    .describe("the edge's health checks of it: down = failing them, out of rotation whatever its edge state (replaced after health.replace_after); unchecked: no edge server or no checks"),
  edgeHealthSeconds: z.number().int().nullable().describe('seconds since its edge health last changed (how long it has been down); null when unchecked'),
  activeRequests: z.number().int(),
  startedAt: nullableAt,
  slot: z.number().int().nullable().describe('its ordinal in its release (0, 1, …): a replacement started by a repair takes the slot of the replica it replaces; null for a replica started before slots existed'),
  restarts: z.number().int().describe('times a repair replaced the replica in this slot of its release in the last 24 h (a dead, OOM-killed, removed or unhealthy replica); deploys are not restarts'),
  stats: replicaStatsView.nullable().describe('the newest CPU/memory sample (null until the sampler has read it)'),
  resources: resourceLimitsView.optional().describe("its Docker limits (slipway.yml resources:); absent when it has none"),
  oomKilled: z.boolean().optional().describe("the kernel's OOM killer ended it (absent: no)"),
});
export type ReplicaView = z.infer<typeof replicaView>;

const canarySide = z.strictObject({
  release: z.number().int(),
  replicas: z.number().int().describe('replicas of this side in rotation at the edge'),
  edgeWeight: z.number().int().describe('sum of the edge weights of its servers'),
  sharePercent: z.number().describe('its share of new requests at the edge, from the weights'),
  requests: z.number().int(),
  errors: z.number().int().describe('5xx answers'),
  errorRate: z.number().nullable(),
  p99Ms: z.number().nullable(),
});

export const liveCanaryView = z.strictObject({
  deploymentId: text,
  release: z.number().int(),
  stableRelease: z.number().int(),
  phase: z.enum(CANARY_PHASES),
  step: z.number().int().describe('1-based; 0 before the first step'),
  steps: z.number().int(),
  weight: z.number().describe('percent of new requests the current step gives the canary'),
  paused: z.boolean(),
  stepEndsAt: nullableAt,
  secondsToNextStep: z.number().int().nullable().describe('null while paused or between steps'),
  failures: z.number().int(),
  failureLimit: z.number().int(),
  windowsJudged: z.number().int(),
  lastVerdict: z.enum(['pass', 'fail', 'inconclusive']).nullable(),
  verdictSoFar: z.enum(['passing', 'failing', 'not judged yet']),
  figuresSeconds: z.number().int().describe('the live figures below cover this many seconds up to now (the analysis interval)'),
  canary: canarySide,
  stable: canarySide,
});
export type LiveCanaryView = z.infer<typeof liveCanaryView>;

export const serviceStatusView = z.strictObject({
  service: text,
  type: z.enum(['web', 'worker', 'job']),
  env: text,
  currentRelease: releaseView.nullable(),
  desiredReplicas: z.number().int(),
  readyReplicas: z.number().int(),
  stopped: z.boolean().describe('slipway stop: the live release runs no replica (its domains answer a 503 page saying so); slipway start runs it again'),
  urls: z.array(text),
  replicas: z.array(replicaView),
  activeDeployment: z.strictObject({ id: text, state: text, kind: text }).nullable(),
  lastDeployment: z
    .strictObject({ id: text, kind: text.describe('repair: dead or unhealthy replicas replaced by the reconciler'), state: text, error: text.nullable(), finishedAt: nullableAt })
    .nullable(),
  warmSet: z
    .strictObject({ release: z.number().int(), replicas: z.number().int(), since: at, retireAt: at, deploymentId: text })
    .nullable()
    .optional()
    .describe('blue-green: the previous set, running out of rotation until retireAt; a rollback to it before then only switches traffic back'),
  canary: liveCanaryView.nullable().optional().describe('a canary in progress: the live split, per-side figures, current step and the verdict so far'),
  restarts: serviceRestartsView.describe('replicas of the live release replaced by repairs (dead, OOM-killed, removed or unhealthy); deploys are not restarts'),
});
export type ServiceStatusView = z.infer<typeof serviceStatusView>;

export const backupVerificationView = z.strictObject({
  state: z.enum(['running', 'passed', 'failed']),
  startedAt: at,
  finishedAt: nullableAt,
  durationMs: z.number().nullable(),
  checks: z.array(z.strictObject({ name: text, ok: z.boolean(), detail: text })).describe("each check and what it found: pgBackRest's verify, the restore, the server starting, row counts, your queries"),
  error: text.nullable().describe('the first failed check'),
});

export const backupView = z.strictObject({
  id: text,
  env: text,
  accessory: text,
  type: z.enum(['full', 'diff', 'snapshot']).describe('pgBackRest full or differential set; snapshot: the files of a redis, nats or container accessory'),
  trigger: z.enum(['schedule', 'manual', 'release', 'restore']).describe('its schedule, by hand, before a deployment\'s release command, or before a restore in place'),
  deploymentId: text.nullable(),
  triggeredBy: text.nullable(),
  state: z.enum(['running', 'succeeded', 'failed']),
  label: text.nullable().describe("pgBackRest's label of the set"),
  sizeBytes: z.number().int().nullable().describe("the database's size"),
  storedBytes: z.number().int().nullable().describe('what the backup added to the repository'),
  startedAt: at,
  finishedAt: nullableAt,
  durationMs: z.number().nullable(),
  tables: z.number().int().nullable().describe('postgres: tables whose rows were counted at its restore point; nats: streams; container: volumes'),
  rows: z.number().int().nullable().describe('postgres: rows in them; redis: keys; nats: messages; container: files'),
  contents: text.nullable().describe('what it holds, in words ("1001 keys", "2000 messages in 2 stream(s)")'),
  error: text.nullable(),
  verification: backupVerificationView.nullable().describe('its latest verification (null: not verified yet)'),
  expired: z.boolean().describe('removed from the repository by retention'),
});
export type BackupView = z.infer<typeof backupView>;

/** An accessory's backups at a glance: `status` and the dashboard. */
export const backupHealthView = z.strictObject({
  state: z.enum(['ok', 'failed', 'verify_failed', 'none']).describe('failed: the newest backup failed; verify_failed: the newest verification failed; none: no backup yet'),
  lastBackupAt: nullableAt,
  lastVerifiedAt: nullableAt,
  detail: text.nullable(),
});
export type BackupHealthView = z.infer<typeof backupHealthView>;

export const accessoryView = z.strictObject({
  name: text,
  kind: z.enum(['postgres', 'redis', 'nats', 'container']),
  env: text,
  image: text.describe('the image it runs (slipway/postgres:15 or slipway.yml\'s image)'),
  imageDigest: text.nullable(),
  version: text.nullable(),
  state: z.enum(['running', 'starting', 'exited', 'missing']).describe('missing: recorded but no container (the reconciler restarts it)'),
  ready: z.boolean().describe('its readiness check passes now'),
  address: text.nullable().describe('its name on the project network, with the port (db:5432)'),
  startedAt: nullableAt,
  oomKilled: z.boolean(),
  resources: resourceLimitsView,
  volumes: z.array(z.strictObject({ volume: text, path: text, dockerName: text })),
  usedBy: z.array(text).describe('services whose live release uses it'),
  credentialsVersion: z.number().int().describe('0: the kind has no generated credentials'),
  updatedAt: at.describe('when its config last changed (a recreate)'),
  backup: backupHealthView.nullable().optional().describe('postgres with backups: the newest backup and verification (null or absent: backups off)'),
});
export type AccessoryView = z.infer<typeof accessoryView>;

export const volumeView = z.strictObject({
  name: text.describe("Docker's name of the volume"),
  project: text,
  env: text,
  owner: text.describe('the accessory or service it belongs to'),
  volume: text.describe('its name in slipway.yml'),
  sizeBytes: z.number().int().nullable(),
  createdAt: nullableAt,
  usedBy: z.array(text).describe('containers mounting it now'),
});
export type VolumeView = z.infer<typeof volumeView>;

export const projectStatusView = z.strictObject({
  project: text,
  env: text,
  edge: z.strictObject({ running: z.boolean(), httpPort: z.number().int(), version: text.nullable() }),
  services: z.array(serviceStatusView),
  accessories: z.array(accessoryView).optional().describe('the stateful singletons of this environment (slipway.yml accessories:)'),
  host: hostStatsView.nullable().describe('the newest sample of the host the control plane runs on'),
});
export type ProjectStatusView = z.infer<typeof projectStatusView>;

export const healthReport = z.strictObject({
  ok: z.boolean(),
  version: text,
  checks: z.record(text, z.strictObject({ ok: z.boolean(), detail: text })),
});
export type HealthReport = z.infer<typeof healthReport>;

export const environmentView = z.strictObject({
  name: text,
  createdAt: at,
  services: z.array(z.strictObject({ service: text, release: z.number().int().nullable(), replicas: z.number().int(), domains: z.array(text) })),
});
export type EnvironmentView = z.infer<typeof environmentView>;

export const secretListView = z.strictObject({
  project: text,
  env: text,
  version: z.number().int().nullable().describe("the environment's newest secrets version (null: none set yet)"),
  secrets: z.array(z.strictObject({ name: text, version: z.number().int(), updatedAt: at })),
});
export type SecretListView = z.infer<typeof secretListView>;

export const jobRunView = z.strictObject({
  id: z.number().int(),
  project: text,
  service: text,
  env: text,
  release: z.number().int().nullable(),
  scheduledAt: at,
  startedAt: nullableAt,
  finishedAt: nullableAt,
  status: z.enum(JOB_RUN_STATUSES),
  exitCode: z.number().int().nullable(),
  note: text.nullable(),
  output: text.optional().describe('the tail of its output (secret values masked); only in single-run answers'),
});
export type JobRunView = z.infer<typeof jobRunView>;

export const jobScheduleView = z.strictObject({
  service: text,
  release: z.number().int().describe('the live release in the environment'),
  schedule: text.nullable().describe('cron (UTC) the live release runs on here; null: schedule off in this environment (deployed, never run on schedule; slipway run runs it by hand)'),
  nextRunAt: nullableAt.describe('the next tick (null: off)'),
});
export type JobScheduleView = z.infer<typeof jobScheduleView>;

export const projectSummaryView = z.strictObject({
  name: text,
  environments: z.array(text),
  services: z.array(z.strictObject({ name: text, type: text })),
});
export type ProjectSummaryView = z.infer<typeof projectSummaryView>;

const scope = z.enum(SCOPES);

export const userView = z.strictObject({ id: z.number().int(), name: text, scope, createdAt: at });

export const sessionView = z.strictObject({
  actor: text,
  scope,
  project: text.nullable(),
  tokenId: text,
  expiresAt: nullableAt,
  csrfToken: text.describe('send it as X-CSRF-Token on calls that change something'),
});
export type SessionView = z.infer<typeof sessionView>;

export const tokenView = z.strictObject({
  id: text.describe('public identifier (tok_…), not a secret'),
  name: text,
  scope,
  project: text.nullable(),
  userId: z.number().int().nullable(),
  createdBy: text,
  createdAt: at,
  expiresAt: nullableAt,
  lastUsedAt: nullableAt,
  revokedAt: nullableAt,
  parentTokenId: text.nullable().describe('the token it was created with: revoking that one revokes this one'),
});

export const auditEntryView = z.strictObject({
  seq: z.number().int(),
  at,
  actor: text,
  action: text,
  project: text.nullable(),
  target: text.nullable(),
  clientIp: text,
  outcome: z.enum(['ok', 'denied', 'error']),
  status: z.number().int(),
  detail: text.nullable(),
  count: z.number().int().min(1).describe('identical refusals (same IP, route, actor and status within a minute) this entry stands for'),
});

export const webhookView = z.strictObject({ project: text, repository: text, path: text, createdBy: text, createdAt: at });
export type WebhookView = z.infer<typeof webhookView>;

export const notificationTargetView = z.strictObject({
  id: text,
  kind: z.enum(['webhook', 'slack', 'nats']),
  url: text,
  project: text.nullable(),
  events: z.array(z.enum(EVENT_TYPES)),
  createdBy: text,
  createdAt: at,
});
export type NotificationTargetView = z.infer<typeof notificationTargetView>;

export const deliveryView = z.strictObject({
  eventId: text,
  targetId: text,
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  nextAttemptAt: at,
  lastError: text.nullable(),
  deliveredAt: nullableAt,
  type: z.enum(EVENT_TYPES),
  project: text.nullable(),
});
export type DeliveryView = z.infer<typeof deliveryView>;

/** A host Slipway deploys to (today: the one it runs on), its engine and its edge. */
export const serverView = z.strictObject({
  name: text,
  docker: z.strictObject({
    ok: z.boolean(),
    detail: text.describe('why it is not ok, or a one-line summary'),
    version: text.nullable(),
    os: text.nullable(),
    kernel: text.nullable(),
    cpus: z.number().int().nullable(),
    memoryBytes: z.number().nullable(),
    containersRunning: z.number().int().nullable(),
    images: z.number().int().nullable(),
    liveRestore: z.boolean().nullable(),
  }),
  disk: z
    .strictObject({
      path: text.describe("Docker's data root (images, layers, build cache)"),
      totalBytes: z.number(),
      availableBytes: z.number(),
      requiredBytes: z.number().describe('free space below which the disk is low (SLIPWAY_MIN_FREE_DISK)'),
      low: z.boolean().describe('new builds and deployments are refused (SLW_LOW_DISK)'),
      detail: text,
    })
    .nullable()
    .describe('null: not measured (the guard is off, or the disk could not be read)'),
  edge: z.strictObject({
    running: z.boolean(),
    pid: z.number().int().nullable(),
    version: text.nullable(),
    httpPort: z.number().int(),
    httpsPort: z.number().int().nullable().describe('null: the edge serves HTTP only'),
    reloads: z.number().int(),
  }),
});
export type ServerView = z.infer<typeof serverView>;


export const sourceView = z.strictObject({ sha256: text, bytes: z.number().int(), files: z.number().int() });
export type SourceView = z.infer<typeof sourceView>;

export const baseImageView = z.strictObject({
  id: text,
  tags: z.array(text),
  repoDigests: z.array(text),
  sizeBytes: z.number(),
  tag: text,
  reused: z.boolean(),
});

/**
 * Compile-time links between the engine's records and these schemas: each record must be
 * assignable to what the schema declares, so the server cannot return a shape the contract
 * does not describe without the type checker saying so.
 */
type Fits<T extends U, U> = T;
export type ContractChecks = [
  Fits<d.Deployment & { project: string; service: string; env: string; releaseNumber: number | null; steps: d.DeploymentStep[] }, DeploymentView>,
  Fits<d.DeploymentLogLine, z.infer<typeof deploymentLogLine>>,
  Fits<d.User, z.infer<typeof userView>>,
  Fits<d.ApiToken, z.infer<typeof tokenView>>,
  Fits<d.AuditEntry, z.infer<typeof auditEntryView>>,
  Fits<Omit<d.Webhook, 'keyId' | 'sealed'>, WebhookView>,
  Fits<Omit<d.NotificationTarget, 'keyId' | 'sealed'>, NotificationTargetView>,
  Fits<d.NotificationDelivery & { type: d.EventType; project: string | null }, DeliveryView>,
];

/** A domain's certificate at the edge (never its key). */
export const certificateView = z.strictObject({
  domain: text,
  source: z.enum(CERTIFICATE_SOURCES).describe('acme: from the ACME CA, renewed by Slipway; own: yours (never renewed by Slipway); local: the development CA'),
  status: z.enum(CERTIFICATE_STATUSES).describe('pending: none yet; valid: the last attempt succeeded; failed: the last attempt failed (an earlier certificate may still be served)'),
  domains: z.array(text).describe('names the certificate covers'),
  issuer: text.nullable(),
  notBefore: nullableAt,
  notAfter: nullableAt,
  daysLeft: z.number().nullable().describe('until notAfter, in days (negative once expired)'),
  renewAt: nullableAt.describe('when Slipway renews it (2/3 of its lifetime); null for own certificates'),
  issuedAt: nullableAt,
  fingerprint256: text.nullable(),
  lastError: text.nullable().describe("the last attempt's error, in the CA's words"),
  failures: z.number().int().describe('failed attempts in a row'),
  nextAttemptAt: nullableAt.describe('the next attempt after a failure (backoff)'),
});
export type CertificateView = z.infer<typeof certificateView>;

export const certificatesOverview = z.strictObject({
  certificates: z.array(certificateView),
  acme: z.strictObject({ directoryUrl: text.nullable().describe('null: ACME is off') }),
  localCa: z.strictObject({ caFile: text.describe('the development CA certificate (*.localhost)'), trustCommands: z.array(text) }),
});
