/**
 * The composition root: the only module that imports drivers, the store, the
 * engine and the API together. It reads configuration from flags and env,
 * builds everything, recovers interrupted deployments, then serves the API.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import pino, { type Logger } from 'pino';
import { buildApi } from './api/server';
import { dashboardDir } from './api/dashboard-assets';
import { FailureLimiter } from './api/rate-limit';
import { METRICS_ACCESS, type MetricsAccess } from './api/api-deps';
import { SlipwayMetrics } from './observe/slipway-metrics';
import type { BaseImageFactory } from './core/ports/base-images';
import type { HealthReport } from './core/contract/views';
import { ACTIVE_STATES, type ServiceRef } from './core/domain';
import { errorMessage } from './core/errors';
import { DeployEngine } from './engine/deploy-engine';
import { Access, hashToken } from './engine/access';
import { AuditLog } from './engine/audit-log';
import { Webhooks } from './engine/webhooks';
import { Notifier } from './engine/notifier';
import { httpNotificationSender } from './drivers/notify/http-notification-sender';
import { NatsPublisher } from './drivers/notify/nats-publisher';
import { argon2Hasher } from './drivers/argon2/argon2-hasher';
import { Environments } from './engine/environments';
import { ProjectDeletion } from './engine/project-delete';
import { OneOffRuns } from './engine/one-off-run';
import { Secrets } from './engine/secrets';
import { JobScheduler } from './engine/job-scheduler';
import { WarmSetRetirer } from './engine/warm-set-retirer';
import { ReleaseWindows } from './observe/release-windows';
import { MasterKeyring } from './drivers/keyring/master-keyring';
import { Queries } from './engine/queries';
import { recoverAfterRestart } from './engine/recovery';
import { ServiceLogs } from './engine/service-logs';
import type { EngineContext } from './engine/engine-context';
import { Accessories } from './engine/accessories';
import { Backups } from './engine/backups';
import { HostBackupFiles } from './drivers/backup-files/host-backup-files';
import { NatsJetStreamAdmin } from './drivers/nats/jetstream-admin';
import { DbShell } from './engine/db-shell';
import { listVolumes } from './engine/volumes';
import { DockerRuntime } from './drivers/docker/docker-runtime';
import { createNodeBaseImage, createStaticBaseImage } from './drivers/docker/base-images';
import { createDebianBaseImage } from './drivers/docker/debian-base';
import { DockerAccessoryImages } from './drivers/docker/accessory-images';
import { HaproxyEdge } from './drivers/haproxy/haproxy-edge';
import { PgPostgresAdmin } from './drivers/postgres/postgres-admin';
import { httpProbe } from './drivers/probe/http-probe';
import { tcpProbe } from './drivers/probe/tcp-probe';
import { DiskSourceArchives } from './drivers/sources/disk-source-archives';
import { GitCli } from './drivers/git/git-cli';
import { fsContextGuard } from './source/context-guard';
import { RequestLogListener } from './observe/request-log-listener';
import { RequestMetrics, type IngestStats } from './observe/request-metrics';
import type { Store } from './core/ports/store';
import { parseListenAddress, requestMetricsConfig, type RequestLogListen, type RequestMetricsConfig } from './observe/request-metrics-config';
import { RequestMetricsQueries } from './observe/request-metrics-queries';
import { ProcHostProbe } from './drivers/host/proc-host-probe';
import { ensurePrivateFile, secureDataDir } from './drivers/host/data-dir-permissions';
import { loadOrCreateRequestLogKey } from './observe/request-log-key';
import { ResourceSampler } from './observe/resource-sampler';
import { Reconciler } from './engine/reconciler';
import type { SickReplica } from './engine/replica-health';
import { EdgeSupervisor } from './engine/edge-supervisor';
import { CertificateManager } from './engine/certificates';
import { AcmeClientIssuer } from './drivers/acme/acme-issuer';
import { LocalCa } from './drivers/tls/local-ca';
import { acmeDirectoryFrom, controlDomainFrom, edgeControlAddress } from './https-options';
import { checkReadiness } from './observe/readiness';
import { DiskGuard } from './engine/disk-guard';
import { DEFAULT_MIN_FREE_DISK, parseMinFreeDisk, type MinFreeDisk } from './core/disk-threshold';
import { ResourceStats } from './engine/resource-stats';
import { parseDuration } from './core/duration';
import { openSqliteStore } from './store/sqlite-store';
import { adminTokenFile, defaultDataDir, DEFAULT_API_PORT, serverInfoFile, type ServerInfo } from './cli/locations';
import { VERSION } from './core/version';

export { VERSION };

/** How long the start waits for dead accessories to be running and ready before recovery. */
const BOOT_HEAL_WAIT_MS = 60_000;

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
  /** Where SLIPWAY_MASTER_KEY(_PREVIOUS) are read from (default: process.env). */
  env?: NodeJS.ProcessEnv;
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

export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): ControlPlaneOptions {
  return {
    dataDir: defaultDataDir(env),
    apiHost: env.SLIPWAY_API_HOST ?? '127.0.0.1',
    apiPort: intFrom(env.SLIPWAY_API_PORT, DEFAULT_API_PORT, 'SLIPWAY_API_PORT'),
    httpPort: intFrom(env.SLIPWAY_HTTP_PORT, 80, 'SLIPWAY_HTTP_PORT'),
    edgeBind: env.SLIPWAY_EDGE_BIND ?? '0.0.0.0',
    network: env.SLIPWAY_DOCKER_NETWORK ?? 'slipway',
    subnetPool: env.SLIPWAY_SUBNET_POOL || undefined,
    dockerSocket: env.DOCKER_SOCKET,
    logLevel: env.SLIPWAY_LOG_LEVEL ?? 'info',
    adminToken: env.SLIPWAY_ADMIN_TOKEN,
    adminPassword: env.SLIPWAY_ADMIN_PASSWORD,
    maxSourceBytes: bytesFrom(env.SLIPWAY_MAX_SOURCE_BYTES, 2 * 1024 ** 3, 'SLIPWAY_MAX_SOURCE_BYTES'),
    strictResponses: env.SLIPWAY_STRICT_RESPONSES === '1',
    metricsAccess: enumFrom(env.SLIPWAY_METRICS_ACCESS, METRICS_ACCESS, 'loopback', 'SLIPWAY_METRICS_ACCESS'),
    requestMetrics: requestMetricsConfig(env),
    edgePrometheus: parseListenAddress(env.SLIPWAY_EDGE_PROMETHEUS ?? 'off', 'SLIPWAY_EDGE_PROMETHEUS'),
    statsIntervalMs: durationFrom(env.SLIPWAY_STATS_INTERVAL, 5000, 'SLIPWAY_STATS_INTERVAL'),
    reconcileIntervalMs: durationFrom(env.SLIPWAY_RECONCILE_INTERVAL, 5000, 'SLIPWAY_RECONCILE_INTERVAL'),
    backupTickMs: durationFrom(env.SLIPWAY_BACKUP_TICK, 60_000, 'SLIPWAY_BACKUP_TICK'),
    statsConcurrency: countFrom(env.SLIPWAY_STATS_CONCURRENCY, 32, 'SLIPWAY_STATS_CONCURRENCY'),
    readyTimeoutMs: durationFrom(env.SLIPWAY_READY_TIMEOUT, 1000, 'SLIPWAY_READY_TIMEOUT'),
    httpsPort: env.SLIPWAY_HTTPS_PORT === 'off' ? null : intFrom(env.SLIPWAY_HTTPS_PORT, 443, 'SLIPWAY_HTTPS_PORT'),
    acmeDirectoryUrl: acmeDirectoryFrom(env.SLIPWAY_ACME),
    acmeEmail: env.SLIPWAY_ACME_EMAIL || null,
    domain: controlDomainFrom(env.SLIPWAY_DOMAIN),
    certIntervalMs: durationFrom(env.SLIPWAY_CERT_INTERVAL, 30_000, 'SLIPWAY_CERT_INTERVAL') || 30_000,
    certRetryMs: durationFrom(env.SLIPWAY_CERT_RETRY, 60_000, 'SLIPWAY_CERT_RETRY') || 60_000,
    minFreeDisk: parseMinFreeDisk(env.SLIPWAY_MIN_FREE_DISK || DEFAULT_MIN_FREE_DISK),
  };
}

export async function startControlPlane(opts: ControlPlaneOptions, logger: Logger = pino({ level: opts.logLevel })): Promise<ControlPlane> {
  // 0700/0600, fixed with a warning where a copy or an older version left them open (docs/operations.md).
  secureDataDir(opts.dataDir, logger);
  // SQLite gives -wal and -shm the database file's mode: a 0600 file first makes all three private.
  ensurePrivateFile(path.join(opts.dataDir, 'slipway.db'));
  const rawStore = await openSqliteStore({ file: path.join(opts.dataDir, 'slipway.db'), logger });
  await rawStore.migrate();
  // Prometheus metrics (GET /metrics). Its sources are read at scrape time, after everything below exists.
  const metrics: SlipwayMetrics = new SlipwayMetrics({
    outboxBacklog: () => notifier.backlog(),
    ingestStats: () => ({
      ...(ingest?.stats() ?? { lines: 0, malformed: 0, counted: 0, unrouted: 0, waiting: 0, flushes: 0, flushFailures: 0, lastFlushError: null }),
      unauthenticated: listener?.stats.unauthenticated ?? 0,
    }),
    deployment: (id) => rawStore.getDeployment(id),
  });
  const store: Store = metrics.timedStore(rawStore);
  const runtime = new DockerRuntime({ socketPath: opts.dockerSocket, network: opts.network, subnetPool: opts.subnetPool, logger: logger.child({ component: 'docker' }) });
  await runtime.ping();
  await runtime.ensureNetwork();
  // The request-log listener binds before the edge starts, so HAProxy's ring forwarder finds it at once.
  const metricsConfig = opts.requestMetrics ?? requestMetricsConfig(opts.env ?? process.env);
  // Per-release per-second figures for canary analysis, fed by the same hook as the Prometheus counters.
  const releaseWindows = metricsConfig.listen ? new ReleaseWindows() : null;
  const ingest: RequestMetrics | null = metricsConfig.listen
    ? new RequestMetrics({
        ...metricsConfig,
        store,
        logger: logger.child({ component: 'request-metrics' }),
        onRequest: (r) => {
          metrics.recordRequest(r);
          releaseWindows!.record(r);
        },
      })
    : null;
  // Every line the edge writes starts with this key; the listener drops the others (docs/observability.md).
  const requestLogKey = ingest ? loadOrCreateRequestLogKey(path.join(opts.dataDir, 'request-log.key')) : '';
  const listener = ingest ? new RequestLogListener((line) => ingest.ingest(line), { key: requestLogKey, logger: logger.child({ component: 'request-log' }) }) : null;
  const requestLog = metricsConfig.listen && listener
    ? { ...(await listenForRequestLog(listener, metricsConfig.listen, opts.dataDir)), key: requestLogKey, bufferBytes: metricsConfig.bufferBytes }
    : undefined;
  const edge = new HaproxyEdge({
    dataDir: path.join(opts.dataDir, 'edge'),
    httpPort: opts.httpPort,
    bindAddress: opts.edgeBind,
    requestLog,
    prometheus: opts.edgePrometheus ? { address: opts.edgePrometheus.host, port: opts.edgePrometheus.port } : undefined,
    https: opts.httpsPort ? { port: opts.httpsPort } : undefined,
    control: opts.apiPort ? { address: edgeControlAddress(opts.apiHost), port: opts.apiPort, domain: opts.domain ?? null } : undefined,
    logger: logger.child({ component: 'edge' }),
  });
  await ingest?.start();
  if (requestLog) logger.info({ listen: 'socket' in requestLog ? requestLog.socket : `${requestLog.address}:${requestLog.port}` }, 'request metrics: listening for the edge request log');

  const cipher = new MasterKeyring({ dataDir: opts.dataDir, env: opts.env });
  const sources = new DiskSourceArchives({ dir: path.join(opts.dataDir, 'sources'), logger: logger.child({ component: 'sources' }) });
  await sources.init();
  // Free space on Docker's data root: checked before each build or deployment (engine/disk-guard.ts).
  const disk = new DiskGuard({ runtime, host: new ProcHostProbe({ diskPath: opts.dataDir }), store, logger: logger.child({ component: 'disk' }), min: opts.minFreeDisk ?? parseMinFreeDisk(DEFAULT_MIN_FREE_DISK) });
  await disk.check().catch((err: Error) => logger.warn({ err: err.message }, 'could not read free disk space'));
  const ctx: EngineContext = { store, runtime, edge, probe: httpProbe, tcpProbe, cipher, sources, git: new GitCli(), contexts: fsContextGuard, logger: logger.child({ component: 'engine' }), telemetry: metrics, disk, ...(releaseWindows ? { traffic: releaseWindows } : {}) };
  // Accessories (engine/accessories.ts): the built-in images (slipway/postgres:15, slipway/redis:7,
  // slipway/nats:2) are built on first use; Postgres is provisioned over the wire from this host.
  const accessories = new Accessories({
    ctx,
    images: new DockerAccessoryImages(runtime.docker),
    postgres: new PgPostgresAdmin({ logger: logger.child({ component: 'postgres-admin' }) }),
  });
  ctx.accessories = accessories;
  // The edge is adopted, or started with the servers of the desired state (replicas that still run
  // when only the edge died while we were away), then watched and restarted at once when it dies.
  const edgeSupervisor = new EdgeSupervisor(ctx, { logger: logger.child({ component: 'edge-supervisor' }) });
  const edgeStatus = await edgeSupervisor.start();
  logger.info({ pid: edgeStatus.pid, httpPort: edgeStatus.httpPort, started: edgeStatus.started, servers: edgeStatus.servers }, 'edge running');
  const secrets = new Secrets(ctx, (ref, triggeredBy) => engine.redeployWithSecrets(ref, triggeredBy), async () => {
    await webhooks.reseal();
    await notifier.reseal();
    await certificates.reseal();
  });
  const unreadable = await secrets.unreadableVersions();
  if (unreadable > 0) logger.error({ unreadable }, 'some stored secrets cannot be opened with the master key(s) this server holds; deployments that need them will fail');
  const engine = new DeployEngine(ctx);
  engine.events.subscribeAll((id, e) => {
    if (e.type === 'state') metrics.onDeploymentState(id, e.state);
    // A deploy may have routed a new domain: it gets its certificate now, not at the next pass.
    if (e.type === 'state' && e.state === 'succeeded') certificates.wake();
  });
  const webhooks = new Webhooks(ctx, engine);
  const certificates = new CertificateManager(ctx, {
    acme: opts.acmeDirectoryUrl && opts.httpsPort ? { issuer: new AcmeClientIssuer(logger.child({ component: 'acme' })), directoryUrl: opts.acmeDirectoryUrl, email: opts.acmeEmail ?? null } : null,
    localCa: new LocalCa({ dir: path.join(opts.dataDir, 'tls') }),
    controlDomain: opts.httpsPort ? (opts.domain ?? null) : null,
    intervalMs: opts.certIntervalMs ?? 30_000,
    retry: { firstMs: opts.certRetryMs ?? 60_000, maxMs: 6 * 3_600_000 },
    logger: logger.child({ component: 'certificates' }),
  });
  const nats = new NatsPublisher();
  const notifier = new Notifier(ctx, { send: (t, e, secret) => (t.kind === 'nats' ? nats.send(t, e) : httpNotificationSender.send(t, e, secret)) });
  await notifier.ensureNatsTarget(opts.env?.NATS_URL ?? process.env.NATS_URL ?? null);
  notifier.start();
  // Backups (engine/backups.ts): what the previous process left running is failed and its scratch
  // containers removed before accessories are healed (a restore in place may have left one on the
  // accessory's volume); the schedule runs every minute.
  const backupFiles = new HostBackupFiles(path.join(opts.dataDir, 'backups'));
  const backups = new Backups({ ctx, accessories, files: backupFiles, jetstream: new NatsJetStreamAdmin(), restartService: async (ref) => {
      // Back serving before the restore answers: the repair runs to its end. The reconciler may
      // have started one first (the leases were just released): then that one is waited for.
      const d = await engine.repair(ref, 'restore in place');
      const project = await store.getProject(ref.project);
      const env = project ? await store.getEnvironment(project.id, ref.env) : null;
      const service = project ? (await store.listServices(project.id)).find((x) => x.name === ref.service) : undefined;
      const active = service && env ? (await store.listDeployments({ states: [...ACTIVE_STATES] })).filter((x) => x.serviceId === service.id && x.environmentId === env.id).map((x) => x.id) : [];
      await engine.settled(d ? [d.id, ...active] : active);
    } });
  ctx.backups = backups;
  await backups.recoverInterrupted().catch((err: unknown) => logger.warn({ err: errorMessage(err) }, 'boot: could not resolve interrupted backups'));
  const backupTimer = opts.backupTickMs === 0 ? undefined : setInterval(() => void backups.tick(), opts.backupTickMs ?? 60_000);
  backupTimer?.unref();
  // After a reboot the accessories stopped too: started before recovery converges services whose
  // health needs them; bounded, so a broken one cannot hold the start (the reconciler retries it).
  await Promise.race([
    accessories.heal().catch((err: unknown) => logger.warn({ err: errorMessage(err) }, 'boot: accessory heal failed; the reconciler retries')),
    new Promise((resolve) => setTimeout(resolve, BOOT_HEAL_WAIT_MS).unref()),
  ]);
  const recovery = await recoverAfterRestart(ctx, engine.events);
  const scheduler = new JobScheduler(ctx);
  await scheduler.start();
  // After recovery, which keeps warm sets whose keep_warm has not ended: this retires them on schedule.
  const warmSets = new WarmSetRetirer(ctx, engine.events);
  warmSets.start();
  // After recovery too: what it left is what the reconciler compares with the live releases.
  // Start from nothing (a reboot: edge gone, replicas stopped): one pass at once rather than after
  // the interval, and /readyz says `starting` until the repairs it started (in parallel) have ended.
  const bootRepairs: string[] = [];
  let booting: string | null = opts.reconcileIntervalMs !== 0 ? 'starting: the first reconcile pass runs' : null;
  const repairer = {
    repair: async (ref: ServiceRef, triggeredBy?: string, sick?: SickReplica[]) => {
      const d = await engine.repair(ref, triggeredBy, sick);
      if (d && booting !== null) bootRepairs.push(d.id);
      return d;
    },
  };
  const reconciler = new Reconciler(ctx, repairer, { intervalMs: opts.reconcileIntervalMs || 5000, logger: logger.child({ component: 'reconciler' }) });
  if (booting !== null) {
    const bootStarted = Date.now();
    void reconciler
      .pass()
      .then(async (pass) => {
        booting = `starting: ${bootRepairs.length} repair(s) of live services in progress`;
        await engine.settled(bootRepairs);
        logger.info({ services: pass.services, repairs: bootRepairs.length, ms: Date.now() - bootStarted }, 'boot: every live service checked and repaired');
      })
      .catch((err: unknown) => logger.error({ err: errorMessage(err) }, 'boot reconcile pass failed; the periodic passes take over'))
      .finally(() => {
        booting = null;
        reconciler.start();
      });
  }
  const sampler = new ResourceSampler({
    runtime,
    host: new ProcHostProbe({ diskPath: opts.dataDir }),
    store,
    logger: logger.child({ component: 'stats' }),
    intervalMs: opts.statsIntervalMs || 5000,
    concurrency: opts.statsConcurrency ?? 32,
  });
  if (opts.statsIntervalMs !== 0) sampler.start();
  if (recovery.resolved.length || recovery.orphansRemoved) logger.warn(recovery, 'recovered from an interrupted run');

  const token = ensureAdminToken(opts);
  const access = new Access(store, argon2Hasher);
  const { generatedPassword } = await access.bootstrap({ adminTokenHash: hashToken(token), adminPassword: opts.adminPassword });
  if (generatedPassword) {
    // Shown once on a terminal; never written to a log. Without a terminal (a service, the
    // demo) it goes to a 0600 file beside admin-token instead of stderr, which is a log.
    if (process.stderr.isTTY) {
      process.stderr.write(`\nslipway: created user "admin" with password ${generatedPassword}\n  (shown once; sign in with: slipway login --user admin)\n\n`);
      logger.warn('created the admin user; its password was printed on the terminal once');
    } else {
      const file = path.join(opts.dataDir, 'admin-password');
      writeFileSync(file, `${generatedPassword}\n`, { mode: 0o600 });
      logger.warn({ file }, 'created the admin user; its password is in this file (read it, sign in, then delete the file)');
    }
  }
  const baseImageLog = logger.child({ component: 'base-image' });
  const baseImages: BaseImageFactory = {
    create: (kind, o) => {
      switch (kind) {
        case 'node':
          return createNodeBaseImage(runtime, o);
        case 'static':
          return createStaticBaseImage(runtime, o);
        case 'debian':
          // debootstrap's progress goes to the server log; the API answers at the end.
          return createDebianBaseImage(runtime.docker, { ...o, onOutput: (line) => baseImageLog.info({ kind }, line) });
      }
    },
  };
  // The detailed health report: the readiness checks plus secrets, run the same way (at once,
  // each time-boxed, so a hung Docker engine cannot hold the answer for its 5 s ping timeout).
  const health = async (): Promise<HealthReport> => {
    const report = await checkReadiness(
      {
        store: async () => void (await store.listProjects()),
        docker: () => runtime.ping(),
        secrets: async () => {
          const n = await secrets.versionsWithoutKey();
          if (n > 0) throw new Error(`${n} stored secrets version(s) are sealed under a master key this server does not hold`);
        },
        edge: async () => {
          const down = edgeSupervisor.down();
          if (down) throw new Error(`the edge died ${Date.now() - down.since} ms ago (${down.reason}); restarting it`);
          const s = await edge.status();
          if (!s.running) throw new Error('HAProxy is not running');
        },
      },
      { version: VERSION, timeoutMs: Math.max(opts.readyTimeoutMs || 1000, 2000) },
    );
    const checks = Object.fromEntries(Object.entries(report.checks).map(([name, c]) => [name, { ok: c.status === 'pass', detail: c.output ?? `ok (${c.latency_ms} ms)` }]));
    return { ok: report.status === 'healthy', version: VERSION, checks };
  };
  const processStartedAt = Date.now();
  // /readyz: each dependency within SLIPWAY_READY_TIMEOUT; without the store nothing works (unhealthy).
  const readiness = () =>
    checkReadiness(
      {
        store: () => store.getSetting('readiness-probe'),
        docker: () => runtime.ping(),
        edge: async () => {
          const down = edgeSupervisor.down();
          if (down) throw new Error(`the edge died ${Date.now() - down.since} ms ago (${down.reason}); restarting it`);
          const s = await edge.status();
          if (!s.running) throw new Error('HAProxy is not running or its runtime socket does not answer');
        },
        startup: async () => {
          if (booting !== null) throw new Error(booting);
        },
        disk: async () => {
          const d = await disk.check();
          if (d.low) throw new Error(`low disk on ${d.path}: ${d.detail}; new builds and deployments are refused`);
        },
      },
      { version: VERSION, timeoutMs: opts.readyTimeoutMs || 1000, critical: ['store'], startup: 'startup' },
    );
  const requestMetricsQueries = ingest ? new RequestMetricsQueries(store, ingest.recent) : null;
  const audit = new AuditLog(store, logger.child({ component: 'audit' }));
  const app = buildApi({
    requestMetrics: requestMetricsQueries,
    engine,
    queries: new Queries(ctx),
    resourceStats: new ResourceStats(ctx),
    readiness,
    liveness: () => ({ status: 'alive', version: VERSION, uptime_s: Math.floor((Date.now() - processStartedAt) / 1000) }),
    environments: new Environments(ctx),
    projects: new ProjectDeletion(ctx, certificates),
    oneOffRuns: new OneOffRuns(ctx),
    secrets,
    serviceLogs: new ServiceLogs(ctx),
    accessories,
    dbShell: new DbShell(ctx),
    backups,
    volumes: (filter, restrictedTo) => listVolumes(ctx, filter, restrictedTo),
    baseImages,
    sources,
    maxSourceBytes: opts.maxSourceBytes,
    health,
    access,
    audit,
    authLimiter: new FailureLimiter(),
    webhooks,
    notifier,
    certificates,
    prometheus: metrics,
    metricsAccess: opts.metricsAccess,
    logger,
  }, {
    strictResponses: opts.strictResponses,
    // Through the edge on SLIPWAY_DOMAIN, the client is the one HAProxy names in X-Forwarded-For.
    trustProxy: opts.domain && opts.httpsPort ? [...new Set(['127.0.0.1', '::1', edgeControlAddress(opts.apiHost)])] : undefined,
  });
  await app.listen({ host: opts.apiHost, port: opts.apiPort });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.apiPort;
  const url = `http://${opts.apiHost.includes(':') ? `[${opts.apiHost}]` : opts.apiHost}:${port}`;
  writeJsonAtomic(serverInfoFile(opts.dataDir), { url, pid: process.pid, httpPort: opts.httpPort } satisfies ServerInfo);
  // After the API listens: ACME challenges reach it through the edge. HTTP only: nothing to manage.
  if (opts.httpsPort) await certificates.start();
  logger.info({ url, dataDir: opts.dataDir }, 'control plane listening');
  const dashboard = dashboardDir();
  if (existsSync(path.join(dashboard, 'index.html'))) logger.info({ url: `${url}/` }, 'dashboard served');
  else logger.warn({ dir: dashboard }, 'the dashboard is not built (npm run build:web); / answers 503 until it is');

  return {
    url,
    engine,
    requestMetrics: requestMetricsQueries,
    requestLogStats: () => (ingest && listener ? { ...ingest.stats(), connections: listener.stats.connections, unauthenticated: listener.stats.unauthenticated } : null),
    close: async () => {
      // The edge is never stopped: it keeps serving while the control plane is away.
      scheduler.stop();
      clearInterval(backupTimer);
      await certificates.stop();
      await warmSets.stop();
      await reconciler.stop();
      // Watching only: the edge keeps serving.
      await edgeSupervisor.stop();
      await sampler.stop();
      runtime.close();
      await notifier.stop();
      await nats.close();
      await app.close();
      // Repeated refusals counted in memory are written before the store closes.
      await audit.stop();
      // Lines sent while we are away wait in the edge's ring; what was counted is written now.
      await listener?.close();
      await ingest?.stop();
      await store.close();
    },
  };
}

/** `slipway server`: runs until SIGTERM/SIGINT, waiting briefly for running deployments. */
export async function runServerCommand(argv: string[]): Promise<void> {
  const defaults = optionsFromEnv();
  const program = new Command('slipway server')
    .allowUnknownOption(false)
    .option('--data-dir <dir>', 'data directory', defaults.dataDir)
    .option('--api-host <host>', 'API listen address', defaults.apiHost)
    .option('--api-port <port>', 'API port', String(defaults.apiPort))
    .option('--http-port <port>', 'edge HTTP port', String(defaults.httpPort))
    .option('--edge-bind <address>', 'edge listen address', defaults.edgeBind)
    .option('--network <name>', 'Docker bridge network for replicas', defaults.network)
    .option('--log-level <level>', 'pino log level', defaults.logLevel);
  program.parse(['node', 'slipway', ...argv.filter((a) => a !== 'server')]);
  const o = program.opts();
  const opts: ControlPlaneOptions = {
    ...defaults,
    dataDir: path.resolve(o.dataDir),
    apiHost: o.apiHost,
    apiPort: intFrom(o.apiPort, DEFAULT_API_PORT, '--api-port'),
    httpPort: intFrom(o.httpPort, 80, '--http-port'),
    edgeBind: o.edgeBind,
    network: o.network,
    logLevel: o.logLevel,
  };
  const logger = pino({ level: opts.logLevel });
  let cp: ControlPlane;
  try {
    cp = await startControlPlane(opts, logger);
  } catch (err) {
    logger.fatal({ code: (err as { code?: string }).code }, errorMessage(err));
    process.stderr.write(`slipway server: ${errorMessage(err)}\n`);
    process.exit(1);
  }
  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'stopping the control plane (the edge keeps serving)');
    await Promise.race([cp.engine.idle(), new Promise((r) => setTimeout(r, 30_000))]);
    await cp.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

/** Binds the request-log listener: a unix socket (default `<data-dir>/request-log.sock`) or the legacy TCP address. */
async function listenForRequestLog(listener: RequestLogListener, at: RequestLogListen, dataDir: string): Promise<{ socket: string } | { address: string; port: number }> {
  const where = 'socket' in at ? (at.socket ?? path.join(dataDir, 'request-log.sock')) : `${at.host}:${at.port}`;
  try {
    if ('socket' in at) {
      if (Buffer.byteLength(where) > 107) throw new Error(`the path is longer than a unix socket path may be (107 bytes)`);
      await listener.listenUnix(where);
      return { socket: where };
    }
    return { address: at.host, port: await listener.listen(at.host, at.port) };
  } catch (err) {
    throw new Error(`cannot listen for the edge's request log on ${where} (${errorMessage(err)}); set SLIPWAY_REQUEST_LOG_LISTEN to another socket path or address, or to off`);
  }
}

function ensureAdminToken(opts: ControlPlaneOptions): string {
  const file = adminTokenFile(opts.dataDir);
  if (opts.adminToken) {
    writeFileSync(file, `${opts.adminToken}\n`, { mode: 0o600 });
    return opts.adminToken;
  }
  if (existsSync(file)) {
    chmodSync(file, 0o600);
    return readFileSync(file, 'utf8').trim();
  }
  const token = `slw_${randomBytes(24).toString('base64url')}`;
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

/** A duration (`5s`, `500ms`, bare seconds); `0` or `off` is 0. */
function durationFrom(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  if (value === 'off') return 0;
  const ms = parseDuration(/^\d+(\.\d+)?$/.test(value) ? Number(value) : value);
  if (ms === null) throw new Error(`${name}: expected a duration such as 5s or 500ms (0 or off to disable), got "${value}"`);
  return ms;
}

function countFrom(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new Error(`${name}: expected a whole number from 1 to 1000, got "${value}"`);
  return n;
}

function bytesFrom(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name}: expected a size in bytes (a whole number ≥ 1), got "${value}"`);
  return n;
}

function intFrom(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name}: expected a port number (0-65535), got "${value}"`);
  return n;
}

function enumFrom<T extends string>(value: string | undefined, allowed: readonly T[], fallback: T, name: string): T {
  if (value === undefined || value === '') return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new Error(`${name}: expected one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}
