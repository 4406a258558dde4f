/**
 * The route table of the HTTP API: for every `METHOD /path`, what it takes (path params,
 * query, body — schemas in requests.ts) and what it answers (schemas in views.ts). The
 * server refuses to start with a route missing here, builds the OpenAPI document from it,
 * and (SLIPWAY_STRICT_RESPONSES=1) checks each answer against `response`; the client's
 * argument and result types are inferred from it (`RouteBody`, `RouteResponse`).
 */
import { z } from 'zod';
import * as s from './requests';
import * as v from './views';
import { READINESS_ROUTES } from './readiness';
import { STATS_ROUTES } from './stats';
import { LOGS_ROUTES } from './logs';
import { METRICS_ROUTES } from './metrics';
import { ALERT_ROUTES } from './alerts';

export interface RouteContract {
  summary: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** A body that is not JSON (uploads, signed webhook deliveries). */
  rawBody?: string;
  /** The success status (default 200) and what it means. */
  ok?: { status: number; description: string };
  /** The JSON answer on success. */
  response?: z.ZodType;
  /** For streamed answers: the content type and the schema of each item (NDJSON line or SSE data). */
  stream?: { contentType: 'application/x-ndjson' | 'text/event-stream'; item: z.ZodType };
  /** For a plain-text answer (Prometheus exposition): its content type. */
  text?: string;
  /** Statuses besides `ok` that still carry `response` (health answers 503 with its report). */
  alsoOk?: number[];
}

const ok = (status: number, description: string) => ({ status, description });
const removed = (key: string) => z.strictObject({ [key]: z.string() });

const tokenIssued = z.strictObject({ token: z.string().describe('the secret, shown once'), tokenInfo: v.tokenView });
const deployments = z.strictObject({ deployments: z.array(v.deploymentView) });
const deployment = z.strictObject({ deployment: v.deploymentView });
const webhookUrl = z.string().describe('path of the delivery endpoint');

export const runEvent = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('output'), stream: z.enum(['stdout', 'stderr']), line: z.string() }),
  z.strictObject({ type: z.literal('exit'), exitCode: z.number().int().nullable(), timedOut: z.boolean(), durationMs: z.number(), release: z.number().int() }),
  z.strictObject({ type: z.literal('error'), message: z.string() }),
]);

/** SSE of a deployment: `log` events carry a log line (id = its seq), `state` and `end` the state. */
export const deploymentEvent = z.union([
  v.deploymentLogLine,
  z.strictObject({ state: z.string(), error: z.string().nullable() }),
  z.strictObject({ state: z.string(), error: z.string().nullable(), errorCode: z.string().nullable() }),
]);

export const secretsChangeResult = z.strictObject({
  version: z.number().int().nullable().describe('the new version, or the current one when nothing changed'),
  changed: z.array(z.string()),
  unchanged: z.array(z.string()),
  rollouts: z.array(z.strictObject({ service: z.string(), deploymentId: z.string().nullable(), note: z.string().nullable() })),
});

export const webhookOutcome = z.strictObject({
  status: z.enum(['pong', 'ignored', 'deploying']),
  message: z.string(),
  ref: z.string().optional().describe('the pushed ref in full: refs/heads/<branch> or refs/tags/<tag>'),
  branch: z.string().optional(),
  tag: z.string().optional(),
  matched: z.string().optional().describe('the branches:/tags: key of slipway.yml that matched (the name itself, or a pattern)'),
  commit: z.string().optional().describe('the commit deployed (an annotated tag peeled to its commit)'),
  env: z.string().optional(),
  deployments: z.array(z.string()).optional(),
});

/** One line of an accessory's container log (generated credentials masked). */
export const accessoryLogEntry = z.strictObject({
  container: z.string().describe('container name: <project>-<accessory>-<env>-<6 hex>'),
  stream: z.enum(['stdout', 'stderr']),
  at: z.string().describe('ISO 8601 time the runtime read the line'),
  line: z.string(),
});
/** SSE data by event: `log` → a line, `error` → why the stream broke, `end` → how many lines were sent. */
export const accessoryLogEvent = z.union([accessoryLogEntry, z.strictObject({ error: z.string() }), z.strictObject({ lines: z.number().int() })]);

/** NDJSON of `db shell`: psql's output lines (credentials masked), then its exit. */
export const dbShellEvent = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('output'), stream: z.enum(['stdout', 'stderr']), line: z.string() }),
  z.strictObject({ type: z.literal('exit'), exitCode: z.number().int().nullable(), timedOut: z.boolean(), durationMs: z.number() }),
  z.strictObject({ type: z.literal('error'), message: z.string() }),
]);

/** Long backup operations stream NDJSON: progress lines, then the outcome. */
export const backupEvent = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('progress'), line: z.string() }),
  z.strictObject({ type: z.literal('done'), backup: v.backupView }),
  z.strictObject({ type: z.literal('error'), code: z.string(), message: z.string(), backup: v.backupView.nullable() }),
]);

export const restoreEvent = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('progress'), line: z.string() }),
  z.strictObject({
    type: z.literal('done'),
    accessory: z.string().describe('the accessory the data was restored into (a new one unless in place)'),
    inPlace: z.boolean(),
    backup: v.backupView.nullable().describe('the backup restored (null for a point in time)'),
    toTime: z.string().nullable(),
    safetyBackup: v.backupView.nullable().describe('in place: the backup of the state it replaced'),
    next: z.array(z.string()).describe('how to inspect it, and how to switch to it'),
  }),
  z.strictObject({ type: z.literal('error'), code: z.string(), message: z.string() }),
]);

export const accessoryRotateResult = z.strictObject({
  accessory: z.string(),
  version: z.number().int().describe('the new credentials version'),
  rollouts: z.array(z.strictObject({ service: z.string(), deploymentId: z.string().nullable(), note: z.string().nullable() }))
    .describe('the services using it, each redeployed with the new credentials (note: why not)'),
});

export const ROUTES = {
  'GET /api/v1/health': {
    summary: 'Health of the control plane and its dependencies (store, Docker, edge, secrets); 503 when one fails',
    response: v.healthReport,
    alsoOk: [503],
  },
  'GET /api/v1/openapi.json': { summary: 'This document', response: z.record(z.string(), z.unknown()) },
  'POST /api/v1/login': {
    summary: 'Sign in with a password; returns a new token (shown once)',
    body: s.loginBody,
    ok: ok(201, 'the token and its record'),
    response: tokenIssued.extend({ user: v.userView }),
  },
  'POST /api/v1/session': {
    summary: 'Dashboard sign-in (password or token): sets the HttpOnly session cookie; mutating calls made with it need the X-CSRF-Token header',
    body: s.sessionBody,
    ok: ok(201, 'the session; the cookie carries the token'),
    response: z.strictObject({ session: v.sessionView }),
  },
  'GET /api/v1/session': { summary: 'The current session (cookie or bearer token) and its CSRF token', response: z.strictObject({ session: v.sessionView }) },
  'DELETE /api/v1/session': {
    summary: 'Sign out: clears the cookie; a password sign-in also revokes its token',
    response: z.strictObject({ signedOut: z.boolean(), revoked: z.string().nullable() }),
  },
  'GET /': { summary: 'The web dashboard (a static single-page app that uses this API); public', text: 'text/html' },
  'GET /*': { summary: 'Dashboard assets, and index.html for any other path (client-side routes); /api/* paths that match no route are 404', text: 'text/html' },
  'GET /api/v1/whoami': {
    summary: 'The principal of the bearer token',
    response: z.strictObject({ actor: z.string(), scope: z.enum(['read', 'deploy', 'admin']), project: z.string().nullable(), tokenId: z.string() }),
  },
  'GET /api/v1/tokens': { summary: 'API tokens (never their secrets)', response: z.strictObject({ tokens: z.array(v.tokenView) }) },
  'POST /api/v1/tokens': { summary: 'Create a token (shown once)', body: s.tokenBody, ok: ok(201, 'the token and its record'), response: tokenIssued },
  'DELETE /api/v1/tokens/:id': { summary: 'Revoke a token', params: s.tokenParams, response: removed('revoked') },
  'GET /api/v1/users': { summary: 'Users', response: z.strictObject({ users: z.array(v.userView) }) },
  'POST /api/v1/users': { summary: 'Add a user', body: s.userBody, ok: ok(201, 'the user'), response: z.strictObject({ user: v.userView }) },
  'DELETE /api/v1/users/:name': { summary: 'Remove a user and the tokens issued to them', params: s.userParams, response: removed('deleted') },
  'GET /api/v1/audit': { summary: 'Audit entries, newest first', query: s.auditQuery, response: z.strictObject({ entries: z.array(v.auditEntryView) }) },
  'GET /api/v1/projects': {
    summary: 'Projects the token may see, with environments and services',
    response: z.strictObject({ projects: z.array(v.projectSummaryView) }),
  },
  'DELETE /api/v1/projects/:project': {
    summary: 'Delete a project: its environments (replicas, routes, releases, history, secrets), webhook, certificates of its domains, uploaded sources and images',
    params: s.projectParams,
    query: s.projectDeleteQuery,
    response: z.strictObject({
      deleted: z.strictObject({
        project: z.string(),
        environments: z.array(z.string()),
        replicasRemoved: z.number().int(),
        routesRemoved: z.number().int(),
        webhookRemoved: z.boolean(),
        certificatesRemoved: z.array(z.string()),
        sourcesRemoved: z.number().int(),
        imagesRemoved: z.array(z.string()),
        imagesKept: z.array(z.strictObject({ tag: z.string(), reason: z.string() })).describe('tags Docker refused to remove (a container still uses the image)'),
        accessoriesStopped: z.array(z.string()).describe('accessories stopped and forgotten (<env>/<name>)'),
        volumesKept: z.array(z.string()).describe('Docker names of the volumes kept: deleting a project never deletes their data'),
      }),
    }),
  },
  'GET /api/v1/projects/:project/status': {
    summary: 'Services, replicas, live releases and edge state of an environment',
    params: s.projectParams,
    query: s.envQuery,
    response: v.projectStatusView,
  },
  'GET /api/v1/projects/:project/services/:service/releases': {
    summary: 'Releases of a service, newest first',
    params: s.serviceParams,
    query: s.envQuery,
    response: z.strictObject({ releases: z.array(v.releaseView) }),
  },
  ...LOGS_ROUTES,
  ...METRICS_ROUTES,
  'POST /api/v1/projects/:project/services/:service/run': {
    summary: 'Run a one-off command in the live release; streams NDJSON output lines, then the exit',
    params: s.serviceParams,
    body: s.runBody,
    stream: { contentType: 'application/x-ndjson', item: runEvent },
  },
  'POST /api/v1/projects/:project/services/:service/rollback': {
    summary: 'Roll back to a release (default: the previous one)',
    params: s.serviceParams,
    body: s.rollbackBody,
    ok: ok(202, 'the deployment'),
    response: deployment,
  },
  'POST /api/v1/projects/:project/services/:service/redeploy': {
    summary: "Deploy the live release again (same config, newest secrets) with its image or another prebuilt image on the host; no slipway.yml, no build",
    params: s.serviceParams,
    body: s.redeployBody,
    ok: ok(202, 'the deployment (awaiting_approval when it changes the image of an environment that requires approval)'),
    response: deployment,
  },
  'POST /api/v1/projects/:project/services/:service/scale': {
    summary: 'Run the live release with another replica count as a new release (nothing else changes; no build, no release command), rolled out replica by replica',
    params: s.serviceParams,
    body: s.scaleBody,
    ok: ok(202, 'the deployment (kind scale)'),
    response: deployment,
  },
  'POST /api/v1/projects/:project/services/:service/restart': {
    summary: 'Replace every replica of the live release, one by one, as a new release with the same image, config and secrets',
    params: s.serviceParams,
    body: s.restartBody,
    ok: ok(202, 'the deployment (kind restart)'),
    response: deployment,
  },
  'POST /api/v1/projects/:project/services/:service/stop': {
    summary: 'Stop a service: a new release of the live one with 0 replicas (config and releases kept), its replicas drained and retired; the edge answers its domains with a 503 page saying it is stopped',
    params: s.serviceParams,
    body: s.stopBody,
    ok: ok(202, 'the deployment (kind stop)'),
    response: deployment,
  },
  'POST /api/v1/projects/:project/services/:service/start': {
    summary: 'Start a stopped service: a new release of the live one with the replica count it ran before the stop',
    params: s.serviceParams,
    body: s.startBody,
    ok: ok(202, 'the deployment (kind start)'),
    response: deployment,
  },
  'POST /api/v1/deployments': {
    summary: 'Deploy services of slipway.yml from uploaded contexts, git or a prebuilt image',
    body: s.deployBody,
    ok: ok(202, 'the deployments started (or awaiting approval)'),
    response: deployments,
  },
  'POST /api/v1/promotions': {
    summary: "Deploy another environment's exact image with this environment's config and secrets",
    body: s.promoteBody,
    ok: ok(202, 'the deployments'),
    response: deployments,
  },
  'POST /api/v1/deployments/:id/approve': { summary: 'Approve a deployment awaiting approval', params: s.deploymentParams, response: deployment },
  'POST /api/v1/deployments/:id/cancel': { summary: 'Cancel a deployment awaiting approval', params: s.deploymentParams, response: deployment },
  'POST /api/v1/deployments/:id/pause': { summary: 'Pause a canary: its step stops counting down (analysis and automatic abort go on)', params: s.deploymentParams, ok: ok(202, 'the command was handed to the running canary'), response: deployment },
  'POST /api/v1/deployments/:id/resume': { summary: 'Resume a paused canary where its step stood', params: s.deploymentParams, ok: ok(202, 'the command was handed to the running canary'), response: deployment },
  'POST /api/v1/deployments/:id/promote': { summary: 'Promote a canary now: remaining steps and analysis are skipped', params: s.deploymentParams, ok: ok(202, 'the command was handed to the running canary'), response: deployment },
  'POST /api/v1/deployments/:id/abort': { summary: 'Abort a canary: all traffic back to the stable release, canary replicas retired, deployment rolled_back', params: s.deploymentParams, ok: ok(202, 'the command was handed to the running canary'), response: deployment },
  'GET /api/v1/projects/:project/deployments': { summary: 'Deployments, newest first', params: s.projectParams, query: s.deploymentsQuery, response: deployments },
  'GET /api/v1/deployments/:id': { summary: 'A deployment with its steps', params: s.deploymentParams, response: deployment },
  'GET /api/v1/deployments/:id/logs': {
    summary: 'Deployment log lines after a sequence number',
    params: s.deploymentParams,
    query: s.afterQuery,
    response: z.strictObject({ lines: z.array(v.deploymentLogLine) }),
  },
  'GET /api/v1/deployments/:id/events': {
    summary: 'Deployment events as SSE: `log` (id = line seq), `state`, then `end`; resumable with Last-Event-ID',
    params: s.deploymentParams,
    query: s.afterQuery,
    stream: { contentType: 'text/event-stream', item: deploymentEvent },
  },
  'GET /api/v1/projects/:project/environments': {
    summary: 'Environments with their services and live releases',
    params: s.projectParams,
    response: z.strictObject({ environments: z.array(v.environmentView) }),
  },
  'POST /api/v1/projects/:project/environments': {
    summary: 'Create an environment',
    params: s.projectParams,
    body: s.environmentBody,
    ok: ok(201, 'the environment'),
    response: z.strictObject({ environment: v.environmentView }),
  },
  'DELETE /api/v1/projects/:project/environments/:env': {
    summary: 'Destroy an environment: replicas, routes, releases, history',
    params: s.environmentParams,
    query: s.destroyQuery,
    response: z.strictObject({
      destroyed: z.strictObject({
        environment: z.string(),
        replicasRemoved: z.number().int(),
        routesRemoved: z.number().int(),
        accessoriesStopped: z.array(z.string()).describe('accessories stopped and forgotten'),
        volumesDeleted: z.array(z.string()).describe("Docker names of the volumes deleted (deleteVolumes=true only)"),
        volumesKept: z.array(z.string()).describe('Docker names of the volumes kept (their data stays on the host)'),
      }),
    }),
  },
  'GET /api/v1/projects/:project/envs/:env/accessories': {
    summary: "The environment's accessories (databases, caches, any container of slipway.yml accessories:): state, readiness, address, volumes, users; never a credential",
    params: s.accessoriesParams,
    response: z.strictObject({ accessories: z.array(v.accessoryView) }),
  },
  'GET /api/v1/projects/:project/envs/:env/accessories/:name/logs': {
    summary: "An accessory's container log as SSE: `log` events, `error`, and `end` unless following; generated credentials are masked",
    params: s.accessoryParams,
    query: s.accessoryLogsQuery,
    stream: { contentType: 'text/event-stream', item: accessoryLogEvent },
  },
  'DELETE /api/v1/projects/:project/envs/:env/accessories/:name': {
    summary: 'Remove an accessory no live release uses (a restored copy, one dropped from slipway.yml): its container and record; its volumes only with deleteVolumes=true. Audited',
    params: s.accessoryParams,
    query: s.accessoryRemoveQuery,
    response: z.strictObject({ removed: z.strictObject({ accessory: z.string(), volumesDeleted: z.array(z.string()), volumesKept: z.array(z.string()) }) }),
  },
  'POST /api/v1/projects/:project/envs/:env/accessories/:name/restart': {
    summary: 'Restart an accessory: stop and remove its container, start a new one from its recorded spec, wait until ready (its volumes and credentials stay)',
    params: s.accessoryParams,
    response: z.strictObject({ accessory: v.accessoryView, detail: z.string() }),
  },
  'POST /api/v1/projects/:project/envs/:env/accessories/:name/rotate': {
    summary: 'New generated credentials for an accessory; the services using it are redeployed with them (one deployment each)',
    params: s.accessoryParams,
    response: accessoryRotateResult,
  },
  'POST /api/v1/projects/:project/envs/:env/accessories/:name/sql': {
    summary: "Run SQL with psql as the database owner in a one-off container on the environment's network (postgres accessories); NDJSON output lines, then the exit. Audited (statement count, never the SQL)",
    params: s.accessoryParams,
    body: s.sqlBody,
    stream: { contentType: 'application/x-ndjson', item: dbShellEvent },
  },
  'GET /api/v1/projects/:project/envs/:env/backups': {
    summary: "The environment's backups, newest first: kind, size, duration, verified or not",
    params: s.accessoriesParams,
    query: s.backupsQuery,
    response: z.strictObject({ backups: z.array(v.backupView) }),
  },
  'GET /api/v1/backups/:id': { summary: 'One backup and its latest verification', params: s.backupParams, response: z.strictObject({ backup: v.backupView }) },
  'POST /api/v1/projects/:project/envs/:env/accessories/:name/backups': {
    summary: 'Back up an accessory now; NDJSON progress lines, then the backup. Audited',
    params: s.accessoryParams,
    body: s.backupBody,
    stream: { contentType: 'application/x-ndjson', item: backupEvent },
  },
  'POST /api/v1/backups/:id/verify': {
    summary: 'Verify a backup by restoring it into a scratch container (pgBackRest verify, restore, start, row counts, your queries); NDJSON progress, then the backup. Audited',
    params: s.backupParams,
    stream: { contentType: 'application/x-ndjson', item: backupEvent },
  },
  'POST /api/v1/projects/:project/envs/:env/accessories/:name/restore': {
    summary: 'Restore a backup or a point in time into a new accessory (default) or in place; NDJSON progress, then where it went and what to do next. Audited',
    params: s.accessoryParams,
    body: s.restoreBody,
    stream: { contentType: 'application/x-ndjson', item: restoreEvent },
  },
  'GET /api/v1/volumes': {
    summary: 'Named volumes Slipway created for accessories and services, with sizes and the containers using them',
    query: s.volumesQuery,
    response: z.strictObject({ volumes: z.array(v.volumeView) }),
  },
  'GET /api/v1/projects/:project/environments/:env/secrets': {
    summary: 'Secret names, versions and update times (never values)',
    params: s.environmentParams,
    response: v.secretListView,
  },
  'PATCH /api/v1/projects/:project/environments/:env/secrets': {
    summary: 'Set or unset secrets; rolls out a new release unless deploy=false',
    params: s.environmentParams,
    body: s.secretsChangeBody,
    response: secretsChangeResult,
  },
  'POST /api/v1/secrets/rotate-key': {
    summary: 'Rotate the master key and re-seal everything',
    response: z.strictObject({ keyId: z.string(), newKeyGenerated: z.boolean(), resealed: z.number().int() }),
  },
  'GET /api/v1/projects/:project/jobs': {
    summary: 'Scheduled job runs and skipped ticks, newest first, and each job\'s schedule in the environment (off: never run on schedule there)',
    params: s.projectParams,
    query: s.jobsQuery,
    response: z.strictObject({ runs: z.array(v.jobRunView), schedules: z.array(v.jobScheduleView).describe("each job live in the environment (only the named one with service=): its schedule there, or null where it is off") }),
  },
  'GET /api/v1/jobs/:id': { summary: 'A job run with its output tail', params: s.jobRunParams, response: z.strictObject({ run: v.jobRunView }) },
  'GET /api/v1/projects/:project/sources/:sha256': {
    summary: "Whether the server has this build context for the project (another project's uploads are not visible)",
    params: s.sourceParams,
    response: z.strictObject({ source: v.sourceView }),
  },
  'PUT /api/v1/projects/:project/sources/:sha256': {
    summary: "Upload a build context for the project (tar, its sha256 in the path); only this project's deploys can use it",
    params: s.sourceParams,
    rawBody: 'application/x-tar',
    ok: ok(201, 'stored (200 when it already was)'),
    response: z.strictObject({ source: v.sourceView, existed: z.boolean() }),
    alsoOk: [200],
  },
  'GET /metrics': {
    summary: "Prometheus metrics: Slipway's own (deployments, loops, store latency, outbox backlog) and per-service requests from the edge",
    text: 'text/plain; version=0.0.4',
  },
  'GET /api/v1/servers': { summary: 'Hosts Slipway deploys to, with their Docker engine and edge', response: z.strictObject({ servers: z.array(v.serverView) }) },
  'GET /api/v1/certificates': { summary: 'Certificates the edge serves, their expiry and renewal state', response: v.certificatesOverview },
  'POST /api/v1/certificates': {
    summary: 'Install your own certificate for a domain (validated: key, chain order, domain, dates); never renewed by Slipway',
    body: s.ownCertificateBody,
    ok: ok(201, 'installed at the edge'),
    response: z.strictObject({ certificate: v.certificateView }),
  },
  'POST /api/v1/certificates/:domain/renew': {
    summary: 'Obtain or renew the certificate of a domain now (ACME or the local CA)',
    params: s.certificateParams,
    response: z.strictObject({ certificate: v.certificateView }),
  },
  'DELETE /api/v1/certificates/:domain': {
    summary: "Forget a domain's certificate (a routed domain gets an ACME or local one at the next pass)",
    params: s.certificateParams,
    response: removed('removed'),
  },
  'GET /.well-known/acme-challenge/:token': {
    summary: 'ACME HTTP-01 challenge answers (the edge sends these paths here for every host)',
    params: z.strictObject({ token: z.string().regex(/^[A-Za-z0-9_-]{1,200}$/, { error: 'must be an ACME token' }) }),
    text: 'text/plain',
  },
  'GET /api/v1/images/allowed': {
    summary: 'Images (references or patterns) that project-restricted tokens may deploy besides those built for their project',
    response: z.strictObject({ allowed: z.array(z.string()) }),
  },
  'POST /api/v1/images/allowed': {
    summary: 'Allow images (references or patterns, `*` = any characters) for every project-restricted token',
    body: s.allowImagesBody,
    response: z.strictObject({ allowed: z.array(z.string()), changed: z.array(z.string()).describe('what was added') }),
  },
  'DELETE /api/v1/images/allowed': {
    summary: 'Remove an image or pattern from the allow-list (deployed releases keep running)',
    query: s.disallowImageQuery,
    response: z.strictObject({ allowed: z.array(z.string()), changed: z.array(z.string()).describe('what was removed') }),
  },
  'POST /api/v1/base-images': { summary: 'Build an offline base image from this host', body: s.baseImageBody, response: z.strictObject({ image: v.baseImageView }) },
  'PUT /api/v1/projects/:project/webhook': {
    summary: 'Register (or re-key) the push webhook; returns its secret once',
    params: s.projectParams,
    body: s.webhookBody,
    ok: ok(201, 'the webhook, its URL and secret'),
    response: z.strictObject({ webhook: v.webhookView, secret: z.string().describe('shown once'), url: webhookUrl }),
  },
  'GET /api/v1/projects/:project/webhook': {
    summary: 'The push webhook (never its secret)',
    params: s.projectParams,
    response: z.strictObject({ webhook: v.webhookView, url: webhookUrl }),
  },
  'DELETE /api/v1/projects/:project/webhook': { summary: 'Remove the push webhook', params: s.projectParams, response: removed('removed') },
  'POST /api/v1/webhooks/:project': {
    summary: 'A push delivery, signed (X-Hub-Signature-256, or X-Slipway-Signature + timestamp + delivery id)',
    params: s.projectParams,
    rawBody: 'application/json',
    ok: ok(202, 'deploying (200 for ping or ignored pushes)'),
    response: webhookOutcome,
    alsoOk: [200],
  },
  'GET /api/v1/notifications/targets': {
    summary: 'Notification targets (never their secrets)',
    response: z.strictObject({ targets: z.array(v.notificationTargetView) }),
  },
  'POST /api/v1/notifications/targets': {
    summary: 'Add a notification target; a webhook target gets an HMAC secret, shown once',
    body: s.notificationTargetBody,
    ok: ok(201, 'the target and its secret'),
    response: z.strictObject({ target: v.notificationTargetView, secret: z.string().nullable() }),
  },
  'DELETE /api/v1/notifications/targets/:id': { summary: 'Remove a notification target', params: s.notificationTargetParams, response: removed('removed') },
  'GET /api/v1/notifications/deliveries': {
    summary: 'Deliveries of outbox events to targets, newest first',
    query: s.deliveriesQuery,
    response: z.strictObject({ deliveries: z.array(v.deliveryView) }),
  },
  ...READINESS_ROUTES,
  ...STATS_ROUTES,
  ...ALERT_ROUTES,
} satisfies Record<string, RouteContract>;

export type RouteKey = keyof typeof ROUTES;
type Route<K extends RouteKey> = (typeof ROUTES)[K];

/** What a route answers on success, as the client receives it. */
export type RouteResponse<K extends RouteKey> = Route<K> extends { response: infer R extends z.ZodType } ? z.output<R> : never;
/** The JSON body a route accepts, as the client may send it (defaults optional). */
export type RouteBody<K extends RouteKey> = Route<K> extends { body: infer B extends z.ZodType } ? z.input<B> : never;
/** The query a route accepts, as the client may send it. */
export type RouteQuery<K extends RouteKey> = Route<K> extends { query: infer Q extends z.ZodType } ? Partial<z.input<Q>> : never;
/** One item of a streamed answer. */
export type RouteStreamItem<K extends RouteKey> = Route<K> extends { stream: { item: infer I extends z.ZodType } } ? z.output<I> : never;

export const routeContract = (key: string): RouteContract | undefined => (ROUTES as Record<string, RouteContract>)[key];
