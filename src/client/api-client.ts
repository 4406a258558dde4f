/**
 * Typed client of the Slipway HTTP API, used by the CLI (and the dashboard). Its argument
 * and result types are inferred from the route table (src/core/contract/routes.ts), the
 * same zod schemas the server parses requests with and checks its answers against, so the
 * client cannot drift from the server. Non-2xx answers become ApiError carrying the
 * server's code, message and details.
 */
import type { RouteBody, RouteKey, RouteQuery, RouteResponse, RouteStreamItem } from '../core/contract/routes';
import type { ErrorDetail } from '../core/errors';
import type { LogEntryView } from '../core/contract/logs';
import type { z } from 'zod';
import type { accessoryLogEntry } from '../core/contract/routes';

export type { AccessoryView, BackupHealthView, BackupView, DeliveryView, NotificationTargetView, SourceView, VolumeView, WebhookView } from '../core/contract/views';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type DeploymentStreamEvent =
  | { type: 'log'; line: RouteResponse<'GET /api/v1/deployments/:id/logs'>['lines'][number] }
  | { type: 'state'; state: string; error: string | null }
  | { type: 'end'; state: string; error: string | null; errorCode: string | null };

/** What followDeployment reports about its connection while the stream is lost. */
export type FollowConnectionEvent =
  | { type: 'lost'; problem: string; windowMs: number }
  | { type: 'retry'; waitedMs: number; delayMs: number; problem: string }
  | { type: 'back'; afterSeq: number };

export interface FollowOptions {
  /** How long to keep reconnecting after the stream is lost (default 30 s). */
  reconnectMs?: number;
  onConnection?: (e: FollowConnectionEvent) => void;
}

/** The control plane did not come back within the reconnection window; the deployment may still have ended either way. */
export class FollowLost extends Error {
  constructor(
    readonly deploymentId: string,
    readonly where: string,
    readonly problem: string,
    readonly windowMs: number,
  ) {
    super(`lost the control plane at ${where} while following deployment ${deploymentId} (${problem}) and it did not come back within ${Math.round(windowMs / 1000)} s`);
    this.name = 'FollowLost';
  }
}

export type RunEvent = RouteStreamItem<'POST /api/v1/projects/:project/services/:service/run'>;
export type { LogEntryView } from '../core/contract/logs';
/** GET …/logs: `follow` and `unmask` as booleans; `since` a duration (10m) or ISO time; `grep` a regular expression. */
export interface LogsQuery {
  env?: string;
  tail?: number;
  follow?: boolean;
  release?: number;
  since?: string;
  grep?: string;
  unmask?: boolean;
}
/** Compile-time: every LogsQuery field is a query field of the route. */
const _logsQueryFields: Exclude<keyof LogsQuery, keyof RouteQuery<'GET /api/v1/projects/:project/services/:service/logs'>> extends never ? true : false = true;
void _logsQueryFields;
export type DbShellEvent = RouteStreamItem<'POST /api/v1/projects/:project/envs/:env/accessories/:name/sql'>;
export type AccessoryLogEntry = z.output<typeof accessoryLogEntry>;
/** GET …/backups: `expired` as a boolean (the query carries it as text). */
export interface BackupsQuery {
  accessory?: string;
  limit?: number;
  expired?: boolean;
  /** Only the backups linked to this deployment (taken before its release command). */
  deployment?: string;
}
/** Compile-time: every BackupsQuery field is a query field of the route. */
const _backupsQueryFields: Exclude<keyof BackupsQuery, keyof RouteQuery<'GET /api/v1/projects/:project/envs/:env/backups'>> extends never ? true : false = true;
void _backupsQueryFields;
/** NDJSON of backing up and verifying: progress lines, then `done` (the backup) or `error`. */
export type BackupEvent = RouteStreamItem<'POST /api/v1/projects/:project/envs/:env/accessories/:name/backups'>;
/** NDJSON of a restore: progress lines, then `done` (where the data went, what to do next) or `error`. */
export type RestoreEvent = RouteStreamItem<'POST /api/v1/projects/:project/envs/:env/accessories/:name/restore'>;
/** GET …/accessories/:name/logs: `tail` lines, `follow` as a boolean, `since` a duration (10m) or ISO time. */
export interface AccessoryLogsQuery {
  tail?: number;
  follow?: boolean;
  since?: string;
}
export type SecretsChangeResult = RouteResponse<'PATCH /api/v1/projects/:project/environments/:env/secrets'>;
/** POST /api/v1/deployments: slipway.yml's text and where built services take their source. */
export type DeployBody = RouteBody<'POST /api/v1/deployments'>;

export interface ClientOptions {
  /** The server's base URL; '' in the dashboard (same origin, the session cookie authenticates). */
  url: string;
  token?: string;
  /** The session's CSRF token (dashboard): sent as X-CSRF-Token on calls that change something. */
  csrfToken?: string;
}

type Params = Record<string, string | number>;
type Query = Record<string, string | number | boolean | undefined>;
type Answer<K extends RouteKey> = Promise<RouteResponse<K>>;

export class SlipwayClient {
  private readonly base: string;

  constructor(private readonly opts: ClientOptions) {
    this.base = opts.url.replace(/\/+$/, '');
  }

  health(): Answer<'GET /api/v1/health'> {
    return this.call('GET /api/v1/health', {}, [200, 503]);
  }

  deploy(body: DeployBody): Answer<'POST /api/v1/deployments'> {
    return this.call('POST /api/v1/deployments', { body });
  }

  /** The project's stored build context with this sha256; null when the server does not have it. */
  async source(project: string, sha256: string): Promise<RouteResponse<'GET /api/v1/projects/:project/sources/:sha256'>['source'] | null> {
    try {
      return (await this.call('GET /api/v1/projects/:project/sources/:sha256', { params: { project, sha256 } })).source;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return null;
      throw err;
    }
  }

  /** Uploads a build context for the project (a tar archive whose bytes hash to `sha256`), streamed. */
  async uploadSource(project: string, sha256: string, body: ReadableStream<Uint8Array>, bytes: number): Answer<'PUT /api/v1/projects/:project/sources/:sha256'> {
    let res: Response;
    try {
      res = await fetch(`${this.base}/api/v1/projects/${enc(project)}/sources/${enc(sha256)}`, {
        method: 'PUT',
        headers: { ...this.authHeaders(), 'content-type': 'application/x-tar', 'content-length': String(bytes) },
        body,
        duplex: 'half',
      } as RequestInit);
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new ApiError(0, 'SLW_UNREACHABLE', `uploading the build context to ${this.base} failed (${cause})`);
    }
    if (!res.ok) throw await toApiError(res);
    return (await res.json()) as RouteResponse<'PUT /api/v1/projects/:project/sources/:sha256'>;
  }

  /** Images project-restricted tokens may deploy besides those built for their project. */
  allowedImages(): Answer<'GET /api/v1/images/allowed'> {
    return this.call('GET /api/v1/images/allowed');
  }

  allowImages(images: string[]): Answer<'POST /api/v1/images/allowed'> {
    return this.call('POST /api/v1/images/allowed', { body: { images } });
  }

  disallowImage(image: string): Answer<'DELETE /api/v1/images/allowed'> {
    return this.call('DELETE /api/v1/images/allowed', { query: { image } });
  }

  promote(body: RouteBody<'POST /api/v1/promotions'>): Answer<'POST /api/v1/promotions'> {
    return this.call('POST /api/v1/promotions', { body });
  }

  approve(id: string): Answer<'POST /api/v1/deployments/:id/approve'> {
    return this.call('POST /api/v1/deployments/:id/approve', { params: { id } });
  }

  cancel(id: string): Answer<'POST /api/v1/deployments/:id/cancel'> {
    return this.call('POST /api/v1/deployments/:id/cancel', { params: { id } });
  }

  /** pause | resume | promote | abort a running canary. */
  canary(id: string, cmd: 'pause' | 'resume' | 'promote' | 'abort'): Answer<'POST /api/v1/deployments/:id/pause'> {
    return this.call(`POST /api/v1/deployments/:id/${cmd}`, { params: { id } });
  }

  rollback(project: string, service: string, body: RouteBody<'POST /api/v1/projects/:project/services/:service/rollback'>): Answer<'POST /api/v1/projects/:project/services/:service/rollback'> {
    return this.call('POST /api/v1/projects/:project/services/:service/rollback', { params: { project, service }, body });
  }

  /** The live release again (same config, newest secrets), with its image or `body.image`; no slipway.yml, no build. */
  scale(project: string, service: string, body: RouteBody<'POST /api/v1/projects/:project/services/:service/scale'>): Answer<'POST /api/v1/projects/:project/services/:service/scale'> {
    return this.call('POST /api/v1/projects/:project/services/:service/scale', { params: { project, service }, body });
  }

  restart(project: string, service: string, body: RouteBody<'POST /api/v1/projects/:project/services/:service/restart'>): Answer<'POST /api/v1/projects/:project/services/:service/restart'> {
    return this.call('POST /api/v1/projects/:project/services/:service/restart', { params: { project, service }, body });
  }

  /** `slipway stop`: the live release with 0 replicas (config and releases kept); its domains answer a 503 page. */
  stop(project: string, service: string, body: RouteBody<'POST /api/v1/projects/:project/services/:service/stop'>): Answer<'POST /api/v1/projects/:project/services/:service/stop'> {
    return this.call('POST /api/v1/projects/:project/services/:service/stop', { params: { project, service }, body });
  }

  /** `slipway start`: a stopped service back to the count it ran before the stop. */
  start(project: string, service: string, body: RouteBody<'POST /api/v1/projects/:project/services/:service/start'>): Answer<'POST /api/v1/projects/:project/services/:service/start'> {
    return this.call('POST /api/v1/projects/:project/services/:service/start', { params: { project, service }, body });
  }

  redeploy(project: string, service: string, body: RouteBody<'POST /api/v1/projects/:project/services/:service/redeploy'>): Answer<'POST /api/v1/projects/:project/services/:service/redeploy'> {
    return this.call('POST /api/v1/projects/:project/services/:service/redeploy', { params: { project, service }, body });
  }

  deployment(id: string): Answer<'GET /api/v1/deployments/:id'> {
    return this.call('GET /api/v1/deployments/:id', { params: { id } });
  }

  deploymentLogs(id: string, after = 0): Answer<'GET /api/v1/deployments/:id/logs'> {
    return this.call('GET /api/v1/deployments/:id/logs', { params: { id }, query: { after } });
  }

  deployments(project: string, q: RouteQuery<'GET /api/v1/projects/:project/deployments'> = {}): Answer<'GET /api/v1/projects/:project/deployments'> {
    return this.call('GET /api/v1/projects/:project/deployments', { params: { project }, query: q as Query });
  }

  status(project: string, env?: string): Answer<'GET /api/v1/projects/:project/status'> {
    return this.call('GET /api/v1/projects/:project/status', { params: { project }, query: { env } });
  }

  /** CPU, memory and restarts of the service's replicas; `since` is a duration back (1h) or an ISO time. */
  serviceStats(project: string, service: string, q: RouteQuery<'GET /api/v1/projects/:project/services/:service/stats'> = {}): Answer<'GET /api/v1/projects/:project/services/:service/stats'> {
    return this.call('GET /api/v1/projects/:project/services/:service/stats', { params: { project, service }, query: q as Query });
  }

  serverStats(server = 'local', q: RouteQuery<'GET /api/v1/servers/:server/stats'> = {}): Answer<'GET /api/v1/servers/:server/stats'> {
    return this.call('GET /api/v1/servers/:server/stats', { params: { server }, query: q as Query });
  }

  metrics(project: string, service: string, q: RouteQuery<'GET /api/v1/projects/:project/services/:service/metrics'> = {}): Answer<'GET /api/v1/projects/:project/services/:service/metrics'> {
    return this.call('GET /api/v1/projects/:project/services/:service/metrics', { params: { project, service }, query: q as Query });
  }

  metricsOverview(project: string, q: RouteQuery<'GET /api/v1/projects/:project/metrics'> = {}): Answer<'GET /api/v1/projects/:project/metrics'> {
    return this.call('GET /api/v1/projects/:project/metrics', { params: { project }, query: q as Query });
  }

  /** A service's request metrics per time step (charts): one series, or one per release with `by: 'release'`. */
  metricsSeries(project: string, service: string, q: RouteQuery<'GET /api/v1/projects/:project/services/:service/metrics/series'> = {}): Answer<'GET /api/v1/projects/:project/services/:service/metrics/series'> {
    return this.call('GET /api/v1/projects/:project/services/:service/metrics/series', { params: { project, service }, query: q as Query });
  }

  /** Every web service's request metrics per time step, one series per service (sparklines). */
  metricsOverviewSeries(project: string, q: RouteQuery<'GET /api/v1/projects/:project/metrics/series'> = {}): Answer<'GET /api/v1/projects/:project/metrics/series'> {
    return this.call('GET /api/v1/projects/:project/metrics/series', { params: { project }, query: q as Query });
  }

  recentRequests(project: string, service: string, q: RouteQuery<'GET /api/v1/projects/:project/services/:service/requests'> = {}): Answer<'GET /api/v1/projects/:project/services/:service/requests'> {
    return this.call('GET /api/v1/projects/:project/services/:service/requests', { params: { project, service }, query: q as Query });
  }

  /** GET /readyz (no token needed): answers 503 with the same report when not healthy. */
  readiness(): Answer<'GET /readyz'> {
    return this.call('GET /readyz', {}, [200, 503]);
  }

  releases(project: string, service: string, env?: string): Answer<'GET /api/v1/projects/:project/services/:service/releases'> {
    return this.call('GET /api/v1/projects/:project/services/:service/releases', { params: { project, service }, query: { env } });
  }

  environments(project: string): Answer<'GET /api/v1/projects/:project/environments'> {
    return this.call('GET /api/v1/projects/:project/environments', { params: { project } });
  }

  createEnvironment(project: string, name: string): Answer<'POST /api/v1/projects/:project/environments'> {
    return this.call('POST /api/v1/projects/:project/environments', { params: { project }, body: { name } satisfies RouteBody<'POST /api/v1/projects/:project/environments'> });
  }

  deleteProject(project: string): Answer<'DELETE /api/v1/projects/:project'> {
    return this.call('DELETE /api/v1/projects/:project', { params: { project }, query: { confirm: project } });
  }

  /** Destroys the environment; its volumes (accessories' data) are kept unless `deleteVolumes`. */
  destroyEnvironment(project: string, env: string, opts: { deleteVolumes?: boolean } = {}): Answer<'DELETE /api/v1/projects/:project/environments/:env'> {
    return this.call('DELETE /api/v1/projects/:project/environments/:env', { params: { project, env }, query: { confirm: env, ...(opts.deleteVolumes ? { deleteVolumes: true } : {}) } });
  }

  accessories(project: string, env: string): Answer<'GET /api/v1/projects/:project/envs/:env/accessories'> {
    return this.call('GET /api/v1/projects/:project/envs/:env/accessories', { params: { project, env } });
  }

  /** Removes an accessory no live release uses; its volumes only with deleteVolumes. */
  removeAccessory(project: string, env: string, name: string, q: { deleteVolumes: boolean }): Answer<'DELETE /api/v1/projects/:project/envs/:env/accessories/:name'> {
    return this.call('DELETE /api/v1/projects/:project/envs/:env/accessories/:name', { params: { project, env, name }, query: { deleteVolumes: String(q.deleteVolumes) } });
  }

  restartAccessory(project: string, env: string, name: string): Answer<'POST /api/v1/projects/:project/envs/:env/accessories/:name/restart'> {
    return this.call('POST /api/v1/projects/:project/envs/:env/accessories/:name/restart', { params: { project, env, name } });
  }

  /** New credentials for the accessory; the services using it are redeployed (their deployment ids are in `rollouts`). */
  rotateAccessory(project: string, env: string, name: string): Answer<'POST /api/v1/projects/:project/envs/:env/accessories/:name/rotate'> {
    return this.call('POST /api/v1/projects/:project/envs/:env/accessories/:name/rotate', { params: { project, env, name } });
  }

  volumes(q: RouteQuery<'GET /api/v1/volumes'> = {}): Answer<'GET /api/v1/volumes'> {
    return this.call('GET /api/v1/volumes', { query: q as Query });
  }

  /** `db shell`: runs SQL with psql as the database owner; yields its output lines, then the exit. */
  async *sql(project: string, env: string, name: string, body: RouteBody<'POST /api/v1/projects/:project/envs/:env/accessories/:name/sql'>): AsyncGenerator<DbShellEvent> {
    const res = await fetch(`${this.base}/api/v1/projects/${enc(project)}/envs/${enc(env)}/accessories/${enc(name)}/sql`, {
      method: 'POST',
      headers: { ...this.authHeaders(), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).catch((err: Error) => {
      throw new ApiError(0, 'SLW_UNREACHABLE', `cannot reach the Slipway server at ${this.where} (${err.message})`);
    });
    if (!res.ok) throw await toApiError(res);
    yield* ndjson<DbShellEvent>(res.body!);
  }

  /** The environment's backups, newest first (`accessory`: only its; `expired`: also those retention removed). */
  backups(project: string, env: string, q: BackupsQuery = {}): Answer<'GET /api/v1/projects/:project/envs/:env/backups'> {
    return this.call('GET /api/v1/projects/:project/envs/:env/backups', { params: { project, env }, query: q as Query });
  }

  backup(id: string): Answer<'GET /api/v1/backups/:id'> {
    return this.call('GET /api/v1/backups/:id', { params: { id } });
  }

  /** Backs up an accessory now; yields progress lines, then the backup (or the error). */
  createBackup(project: string, env: string, name: string, body: RouteBody<'POST /api/v1/projects/:project/envs/:env/accessories/:name/backups'> = {}): AsyncGenerator<BackupEvent> {
    return this.postNdjson<BackupEvent>(`/api/v1/projects/${enc(project)}/envs/${enc(env)}/accessories/${enc(name)}/backups`, body);
  }

  /** Verifies a backup (restored into a scratch container and checked); yields progress, then the backup with its verification. */
  verifyBackup(id: string): AsyncGenerator<BackupEvent> {
    return this.postNdjson<BackupEvent>(`/api/v1/backups/${enc(id)}/verify`, {});
  }

  /** Restores a backup or a point in time (a new accessory, or in place); yields progress, then the outcome. */
  restore(project: string, env: string, name: string, body: RouteBody<'POST /api/v1/projects/:project/envs/:env/accessories/:name/restore'>): AsyncGenerator<RestoreEvent> {
    return this.postNdjson<RestoreEvent>(`/api/v1/projects/${enc(project)}/envs/${enc(env)}/accessories/${enc(name)}/restore`, body);
  }

  /** A POST answered with NDJSON: a refusal before the stream (bad input, 404, 403) is an ApiError. */
  private async *postNdjson<T>(path: string, body: unknown): AsyncGenerator<T> {
    const res = await fetch(`${this.base}${path}`, {
      method: 'POST',
      headers: { ...this.authHeaders(), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).catch((err: Error) => {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? err.message;
      throw new ApiError(0, 'SLW_UNREACHABLE', `cannot reach the Slipway server at ${this.where} (${cause}); is "slipway server" running?`);
    });
    if (!res.ok) throw await toApiError(res);
    yield* ndjson<T>(res.body!);
  }

  /** An accessory's container log (SSE, credentials masked); with `follow`, until the signal fires. */
  accessoryLogs(project: string, env: string, name: string, q: AccessoryLogsQuery, signal?: AbortSignal): AsyncGenerator<AccessoryLogEntry> {
    const url = `${this.base}/api/v1/projects/${enc(project)}/envs/${enc(env)}/accessories/${enc(name)}/logs${query(q as Query)}`;
    return this.sseLog<AccessoryLogEntry>(url, q.follow ?? false, signal);
  }

  secrets(project: string, env: string): Answer<'GET /api/v1/projects/:project/environments/:env/secrets'> {
    return this.call('GET /api/v1/projects/:project/environments/:env/secrets', { params: { project, env } });
  }

  changeSecrets(project: string, env: string, body: RouteBody<'PATCH /api/v1/projects/:project/environments/:env/secrets'>): Promise<SecretsChangeResult> {
    return this.call('PATCH /api/v1/projects/:project/environments/:env/secrets', { params: { project, env }, body });
  }

  rotateSecretsKey(): Answer<'POST /api/v1/secrets/rotate-key'> {
    return this.call('POST /api/v1/secrets/rotate-key');
  }

  jobRuns(project: string, q: RouteQuery<'GET /api/v1/projects/:project/jobs'> = {}): Answer<'GET /api/v1/projects/:project/jobs'> {
    return this.call('GET /api/v1/projects/:project/jobs', { params: { project }, query: q as Query });
  }

  jobRun(id: number): Answer<'GET /api/v1/jobs/:id'> {
    return this.call('GET /api/v1/jobs/:id', { params: { id } });
  }

  /** Dashboard sign-in: the answer sets the session cookie (browsers keep it; HttpOnly). */
  signIn(body: RouteBody<'POST /api/v1/session'>): Answer<'POST /api/v1/session'> {
    return this.call('POST /api/v1/session', { body });
  }

  session(): Answer<'GET /api/v1/session'> {
    return this.call('GET /api/v1/session');
  }

  signOut(): Answer<'DELETE /api/v1/session'> {
    return this.call('DELETE /api/v1/session');
  }

  login(body: RouteBody<'POST /api/v1/login'>): Answer<'POST /api/v1/login'> {
    return this.call('POST /api/v1/login', { body });
  }

  whoami(): Answer<'GET /api/v1/whoami'> {
    return this.call('GET /api/v1/whoami');
  }

  projects(): Answer<'GET /api/v1/projects'> {
    return this.call('GET /api/v1/projects');
  }

  tokens(): Answer<'GET /api/v1/tokens'> {
    return this.call('GET /api/v1/tokens');
  }

  createToken(body: RouteBody<'POST /api/v1/tokens'>): Answer<'POST /api/v1/tokens'> {
    return this.call('POST /api/v1/tokens', { body });
  }

  revokeToken(id: string): Answer<'DELETE /api/v1/tokens/:id'> {
    return this.call('DELETE /api/v1/tokens/:id', { params: { id } });
  }

  users(): Answer<'GET /api/v1/users'> {
    return this.call('GET /api/v1/users');
  }

  createUser(body: RouteBody<'POST /api/v1/users'>): Answer<'POST /api/v1/users'> {
    return this.call('POST /api/v1/users', { body });
  }

  deleteUser(name: string): Answer<'DELETE /api/v1/users/:name'> {
    return this.call('DELETE /api/v1/users/:name', { params: { name } });
  }

  audit(q: RouteQuery<'GET /api/v1/audit'> = {}): Answer<'GET /api/v1/audit'> {
    return this.call('GET /api/v1/audit', { query: q as Query });
  }

  createWebhook(project: string, body: RouteBody<'PUT /api/v1/projects/:project/webhook'>): Answer<'PUT /api/v1/projects/:project/webhook'> {
    return this.call('PUT /api/v1/projects/:project/webhook', { params: { project }, body });
  }

  webhook(project: string): Answer<'GET /api/v1/projects/:project/webhook'> {
    return this.call('GET /api/v1/projects/:project/webhook', { params: { project } });
  }

  removeWebhook(project: string): Answer<'DELETE /api/v1/projects/:project/webhook'> {
    return this.call('DELETE /api/v1/projects/:project/webhook', { params: { project } });
  }

  notificationTargets(): Answer<'GET /api/v1/notifications/targets'> {
    return this.call('GET /api/v1/notifications/targets');
  }

  addNotificationTarget(body: RouteBody<'POST /api/v1/notifications/targets'>): Answer<'POST /api/v1/notifications/targets'> {
    return this.call('POST /api/v1/notifications/targets', { body });
  }

  removeNotificationTarget(id: string): Answer<'DELETE /api/v1/notifications/targets/:id'> {
    return this.call('DELETE /api/v1/notifications/targets/:id', { params: { id } });
  }

  notificationDeliveries(limit = 50): Answer<'GET /api/v1/notifications/deliveries'> {
    return this.call('GET /api/v1/notifications/deliveries', { query: { limit } });
  }

  certificates(): Answer<'GET /api/v1/certificates'> {
    return this.call('GET /api/v1/certificates');
  }

  addCertificate(body: RouteBody<'POST /api/v1/certificates'>): Answer<'POST /api/v1/certificates'> {
    return this.call('POST /api/v1/certificates', { body });
  }

  renewCertificate(domain: string): Answer<'POST /api/v1/certificates/:domain/renew'> {
    return this.call('POST /api/v1/certificates/:domain/renew', { params: { domain } });
  }

  removeCertificate(domain: string): Answer<'DELETE /api/v1/certificates/:domain'> {
    return this.call('DELETE /api/v1/certificates/:domain', { params: { domain } });
  }

  /** Alerts firing (all: 'true': resolved ones too) and the silences in force; `project`: that project's only. */
  alerts(q: RouteQuery<'GET /api/v1/alerts'> = {}): Answer<'GET /api/v1/alerts'> {
    return this.call('GET /api/v1/alerts', { query: q as Query });
  }

  /** The rules in force: the server-wide defaults as written, host rules, each live service's. */
  alertRules(q: RouteQuery<'GET /api/v1/alerts/rules'> = {}): Answer<'GET /api/v1/alerts/rules'> {
    return this.call('GET /api/v1/alerts/rules', { query: q as Query });
  }

  /** Replaces the server-wide alert defaults (admin): the written rules, e.g. `{ disk: { above: '80%' }, p99: 'off' }`. */
  setAlertDefaults(body: RouteBody<'PUT /api/v1/alerts/defaults'>): Answer<'PUT /api/v1/alerts/defaults'> {
    return this.call('PUT /api/v1/alerts/defaults', { body });
  }

  /** Silences a rule for a while (deploy scope): for a service, a project's services, one host subject, or everywhere. */
  silenceAlert(body: RouteBody<'POST /api/v1/alerts/silences'>): Answer<'POST /api/v1/alerts/silences'> {
    return this.call('POST /api/v1/alerts/silences', { body });
  }

  endSilence(id: number): Answer<'DELETE /api/v1/alerts/silences/:id'> {
    return this.call('DELETE /api/v1/alerts/silences/:id', { params: { id } });
  }

  servers(): Answer<'GET /api/v1/servers'> {
    return this.call('GET /api/v1/servers');
  }

  createBaseImage(kind: RouteBody<'POST /api/v1/base-images'>['kind'], force = false): Answer<'POST /api/v1/base-images'> {
    return this.call('POST /api/v1/base-images', { body: { kind, force } });
  }

  /**
   * One JSON call of the route table: the key gives the method and path (`:name` filled
   * from params, URL-encoded); the result is typed by the route's response schema.
   */
  private call<K extends RouteKey>(key: K, req: { params?: Params; query?: Query; body?: unknown } = {}, okStatuses?: number[]): Answer<K> {
    const space = key.indexOf(' ');
    const method = key.slice(0, space);
    const path = key.slice(space + 1).replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => {
      const value = req.params?.[name];
      if (value === undefined) throw new Error(`${key}: missing path parameter ${name}`);
      return enc(String(value));
    });
    // Mutating calls always carry a JSON body (Fastify refuses an empty one with a JSON content type).
    const body = req.body ?? (method === 'POST' || method === 'PUT' || method === 'PATCH' ? {} : undefined);
    return this.request(method, `${path}${query(req.query ?? {})}`, body, okStatuses);
  }

  /** For messages: the base URL, or the page's origin in the dashboard (base ''). */
  private get where(): string {
    return this.base || (globalThis as { location?: { origin: string } }).location?.origin || 'this origin';
  }

  /** The base URL this client talks to (for printing webhook URLs). */
  get url(): string {
    return this.base;
  }

  /**
   * Follows a deployment's events (SSE) until it ends. A lost stream (the control plane
   * restarting, a network cut) is reopened with Last-Event-ID = the last log line received,
   * so no line is repeated or missed, with backoff for up to `reconnectMs` (30 s) from the
   * loss; after that it throws FollowLost. `onConnection` hears of the loss, each retry and
   * the reconnection (the CLI prints them).
   */
  async *followDeployment(id: string, signal?: AbortSignal, opts: FollowOptions = {}): AsyncGenerator<DeploymentStreamEvent> {
    const windowMs = opts.reconnectMs ?? 30_000;
    let lastId = 0;
    let lostAt: number | null = null;
    let retries = 0;
    for (;;) {
      let problem = 'the stream closed before the deployment ended';
      try {
        const res = await fetch(`${this.base}/api/v1/deployments/${enc(id)}/events`, {
          headers: { ...this.authHeaders(), accept: 'text/event-stream', 'last-event-id': String(lastId) },
          signal,
        });
        // 5xx: a proxy in front with the control plane gone, or one still starting; anything else is an answer.
        if (!res.ok && res.status < 500) throw await toApiError(res);
        if (!res.ok) problem = (await toApiError(res)).message;
        else {
          if (lostAt !== null) opts.onConnection?.({ type: 'back', afterSeq: lastId });
          lostAt = null;
          retries = 0;
          for await (const ev of parseSse(res.body!)) {
            if (ev.id) lastId = Number(ev.id);
            const data = JSON.parse(ev.data);
            if (ev.event === 'log') yield { type: 'log', line: data };
            else if (ev.event === 'state') yield { type: 'state', ...data };
            else if (ev.event === 'end') {
              yield { type: 'end', ...data };
              return;
            }
          }
        }
      } catch (err) {
        if (signal?.aborted) return;
        if (err instanceof ApiError) throw err;
        // undici: "fetch failed" with the socket's code as cause (ECONNREFUSED), or "terminated" mid-body ("other side closed").
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        problem = cause?.code && !cause.code.startsWith('UND_ERR') ? cause.code : (cause?.message ?? (err as Error).message);
      }
      if (signal?.aborted) return;
      if (lostAt === null) {
        lostAt = Date.now();
        opts.onConnection?.({ type: 'lost', problem, windowMs });
      }
      const waitedMs = Date.now() - lostAt;
      if (waitedMs >= windowMs) throw new FollowLost(id, this.where, problem, windowMs);
      const delayMs = Math.min(250 * 2 ** retries++, 2000, windowMs - waitedMs);
      opts.onConnection?.({ type: 'retry', waitedMs, delayMs, problem });
      await abortableSleep(delayMs, signal);
    }
  }

  /** Runs a one-off command in the live release; yields its output and finally its exit. */
  async *run(project: string, service: string, body: RouteBody<'POST /api/v1/projects/:project/services/:service/run'>): AsyncGenerator<RunEvent> {
    const res = await fetch(`${this.base}/api/v1/projects/${enc(project)}/services/${enc(service)}/run`, {
      method: 'POST',
      headers: { ...this.authHeaders(), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).catch((err: Error) => {
      throw new ApiError(0, 'SLW_UNREACHABLE', `cannot reach the Slipway server at ${this.where} (${err.message})`);
    });
    if (!res.ok) throw await toApiError(res);
    yield* ndjson<RunEvent>(res.body!);
  }

  /**
   * A service's container logs (SSE), every replica's merged in time order; with `follow`,
   * until the signal fires. A dropped connection is reopened with Last-Event-ID = the last
   * entry received, so nothing is repeated; it gives up after 30 failed attempts in a row.
   */
  logs(project: string, service: string, q: LogsQuery, signal?: AbortSignal): AsyncGenerator<LogEntryView> {
    const url = `${this.base}/api/v1/projects/${enc(project)}/services/${enc(service)}/logs${query(q as Query)}`;
    return this.sseLog<LogEntryView>(url, q.follow ?? false, signal);
  }

  /** A log stream (SSE) of the service and accessory log routes, reconnecting as `logs` describes. */
  private async *sseLog<T>(url: string, follow: boolean, signal?: AbortSignal): AsyncGenerator<T> {
    let lastId: string | null = null;
    let connected = false;
    for (let failures = 0; ; ) {
      let problem: string;
      try {
        const headers: Record<string, string> = { ...this.authHeaders(), accept: 'text/event-stream', ...(lastId ? { 'last-event-id': lastId } : {}) };
        const res: Response = await fetch(url, { headers, signal }).catch((err: Error) => {
          // Never connected: a server that is not there is an error now, not after 30 retries.
          if (connected || signal?.aborted) throw err;
          const cause = (err as { cause?: { code?: string } }).cause?.code ?? err.message;
          throw new ApiError(0, 'SLW_UNREACHABLE', `cannot reach the Slipway server at ${this.where} (${cause}); is "slipway server" running?`);
        });
        if (!res.ok) throw await toApiError(res);
        connected = true;
        problem = 'the stream closed early';
        for await (const ev of parseSse(res.body!)) {
          if (ev.event === 'log') {
            failures = 0;
            if (ev.id) lastId = ev.id;
            yield JSON.parse(ev.data) as T;
          } else if (ev.event === 'end') {
            return;
          } else if (ev.event === 'error') {
            problem = (JSON.parse(ev.data) as { error: string }).error;
            if (!follow) throw new ApiError(502, 'SLW_RUNTIME', `reading logs failed: ${problem}`);
          }
        }
      } catch (err) {
        if (signal?.aborted) return;
        if (err instanceof ApiError) throw err;
        problem = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      }
      if (signal?.aborted) return;
      if (++failures >= 30) throw new ApiError(0, 'SLW_UNREACHABLE', `following logs from ${this.base} failed 30 times in a row (${problem})`);
      await abortableSleep(1000, signal);
    }
  }

  /** The dashboard learns its CSRF token after signing in. */
  setCsrfToken(token: string | undefined): void {
    this.opts.csrfToken = token;
  }

  private authHeaders(): Record<string, string> {
    return {
      ...(this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {}),
      ...(this.opts.csrfToken ? { 'x-csrf-token': this.opts.csrfToken } : {}),
    };
  }

  private async request<T>(method: string, path: string, body?: unknown, okStatuses?: number[]): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: { ...this.authHeaders(), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new ApiError(0, 'SLW_UNREACHABLE', `cannot reach the Slipway server at ${this.where} (${cause}); is "slipway server" running?`);
    }
    if (!res.ok && !okStatuses?.includes(res.status)) throw await toApiError(res);
    return (await res.json()) as T;
  }
}

async function toApiError(res: Response): Promise<ApiError> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { error?: { code: string; message: string; details?: ErrorDetail[] } };
    if (body.error) return new ApiError(res.status, body.error.code, body.error.message, body.error.details ?? []);
  } catch {
    // not JSON
  }
  return new ApiError(res.status, 'SLW_HTTP', `HTTP ${res.status}: ${text.slice(0, 200)}`);
}

async function* ndjson<T>(body: ReadableStream<Uint8Array>): AsyncGenerator<T> {
  let buf = '';
  const decoder = new TextDecoder();
  for await (const chunk of chunksOf(body)) {
    buf += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim()) yield JSON.parse(line) as T;
    }
  }
}

async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<{ id?: string; event: string; data: string }> {
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of chunksOf(body)) {
    buf += decoder.decode(chunk, { stream: true });
    let sep: number;
    while ((sep = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, sep);
      buf = buf.slice(sep + 2);
      const ev: { id?: string; event: string; data: string } = { event: 'message', data: '' };
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const i = line.indexOf(':');
        const field = i < 0 ? line : line.slice(0, i);
        const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
        if (field === 'id') ev.id = value;
        else if (field === 'event') ev.event = value;
        else if (field === 'data') ev.data += (ev.data ? '\n' : '') + value;
      }
      if (ev.data) yield ev;
    }
  }
}

/** A body's chunks through a reader (browsers without ReadableStream async iteration too). */
async function* chunksOf(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      yield value;
    }
  } finally {
    // A consumer that stops early closes the stream (and with it the connection).
    if (!finished) await reader.cancel().catch(() => undefined);
  }
}

const enc = encodeURIComponent;

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

function query(q: Record<string, string | number | boolean | undefined>): string {
  const entries = Object.entries(q).filter(([, v]) => v !== undefined) as [string, string | number | boolean][];
  return entries.length ? `?${entries.map(([k, v]) => `${enc(k)}=${enc(String(v))}`).join('&')}` : '';
}
