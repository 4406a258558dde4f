/**
 * Stage 6: the HTTP API — the admin token and user, the health and readiness checks, the API
 * and the dashboard listening, `<data-dir>/server.json` for the CLI, then certificate passes
 * (ACME challenges reach the API through the edge). Undone by closing the API and writing the
 * audit log's pending counts.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { FailureLimiter } from '../api/rate-limit';
import { buildApi } from '../api/server';
import { adminTokenFile, serverInfoFile, type ServerInfo } from '../cli/locations';
import type { HealthReport } from '../core/contract/views';
import type { BaseImageFactory } from '../core/ports/base-images';
import { VERSION } from '../core/version';
import { createNodeBaseImage, createStaticBaseImage } from '../drivers/docker/base-images';
import { createDebianBaseImage } from '../drivers/docker/debian-base';
import { argon2Hasher } from '../drivers/argon2/argon2-hasher';
import { Access, hashToken } from '../engine/access';
import { AuditLog } from '../engine/audit-log';
import { DbShell } from '../engine/db-shell';
import { Environments } from '../engine/environments';
import { OneOffRuns } from '../engine/one-off-run';
import { ProjectDeletion } from '../engine/project-delete';
import { Queries } from '../engine/queries';
import { ResourceStats } from '../engine/resource-stats';
import { ServiceLogs } from '../engine/service-logs';
import { listVolumes } from '../engine/volumes';
import { edgeControlAddress } from '../https-options';
import { checkReadiness } from '../observe/readiness';
import { AlertOperations } from '../engine/alert-operations';
import { RequestMetricsQueries } from '../observe/request-metrics-queries';
import type { CleanupStack } from './cleanup-stack';
import type { ResolvedOptions } from './control-plane-options';
import type { EngineStage } from './stage-engine';
import type { LoopsStage } from './stage-loops';
import type { RuntimeEdgeStage } from './stage-runtime-edge';
import type { StoreStage } from './stage-store';

export interface HttpStage {
  url: string;
  requestMetrics: RequestMetricsQueries | null;
}

export interface BuiltSoFar {
  data: StoreStage;
  host: RuntimeEdgeStage;
  core: EngineStage;
  loops: LoopsStage;
}

export async function serveHttp(o: ResolvedOptions, logger: Logger, stack: CleanupStack, { data, host, core, loops }: BuiltSoFar): Promise<HttpStage> {
  const { store, metrics } = data;
  const { runtime, edge, ingest, listener } = host;
  const { ctx, engine, secrets, certificates, edgeSupervisor, disk } = core;

  const token = ensureAdminToken(o);
  const access = new Access(store, argon2Hasher);
  const { generatedPassword } = await access.bootstrap({ adminTokenHash: hashToken(token), adminPassword: o.adminPassword });
  if (generatedPassword) {
    // Shown once on a terminal; never written to a log. Without a terminal (a service, the
    // demo) it goes to a 0600 file beside admin-token instead of stderr, which is a log.
    if (process.stderr.isTTY) {
      process.stderr.write(`\nslipway: created user "admin" with password ${generatedPassword}\n  (shown once; sign in with: slipway login --user admin)\n\n`);
      logger.warn('created the admin user; its password was printed on the terminal once');
    } else {
      const file = path.join(o.dataDir, 'admin-password');
      writeFileSync(file, `${generatedPassword}\n`, { mode: 0o600 });
      logger.warn({ file }, 'created the admin user; its password is in this file (read it, sign in, then delete the file)');
    }
  }
  const baseImageLog = logger.child({ component: 'base-image' });
  const baseImages: BaseImageFactory = {
    create: (kind, opts) => {
      switch (kind) {
        case 'node':
          return createNodeBaseImage(runtime, opts);
        case 'static':
          return createStaticBaseImage(runtime, opts);
        case 'debian':
          // debootstrap's progress goes to the server log; the API answers at the end.
          return createDebianBaseImage(runtime.docker, { ...opts, onOutput: (line) => baseImageLog.info({ kind }, line) });
      }
    },
  };
  const edgeCheck = async (notRunning: string) => {
    const down = edgeSupervisor.down();
    if (down) throw new Error(`the edge died ${Date.now() - down.since} ms ago (${down.reason}); restarting it`);
    const s = await edge.status();
    if (!s.running) throw new Error(notRunning);
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
        edge: () => edgeCheck('HAProxy is not running'),
      },
      { version: VERSION, timeoutMs: Math.max(o.readyTimeoutMs || 1000, 2000) },
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
        edge: () => edgeCheck('HAProxy is not running or its runtime socket does not answer'),
        startup: async () => {
          const booting = loops.booting();
          if (booting !== null) throw new Error(booting);
        },
        disk: async () => {
          const d = await disk.check();
          if (d.low) throw new Error(`low disk on ${d.path}: ${d.detail}; new builds and deployments are refused`);
        },
        // The edge's request lines (request metrics, canary figures) arrive there; absent with SLIPWAY_REQUEST_LOG_LISTEN=off.
        ...(listener ? { 'request-log': () => listener.checkAccepting() } : {}),
      },
      { version: VERSION, timeoutMs: o.readyTimeoutMs || 1000, critical: ['store'], startup: 'startup' },
    );
  const requestMetrics = ingest ? new RequestMetricsQueries(store, ingest.recent) : null;
  const audit = new AuditLog(store, logger.child({ component: 'audit' }));
  // Repeated refusals counted in memory are written before the store closes.
  stack.defer('audit log', () => audit.stop());
  const app = buildApi(
    {
      requestMetrics,
      engine,
      queries: new Queries(ctx),
      alerts: new AlertOperations(store),
      resourceStats: new ResourceStats(ctx),
      readiness,
      liveness: () => ({ status: 'alive', version: VERSION, uptime_s: Math.floor((Date.now() - processStartedAt) / 1000) }),
      environments: new Environments(ctx),
      projects: new ProjectDeletion(ctx, certificates),
      oneOffRuns: new OneOffRuns(ctx),
      secrets,
      serviceLogs: new ServiceLogs(ctx),
      accessories: core.accessories,
      dbShell: new DbShell(ctx),
      backups: core.backups,
      volumes: (filter, restrictedTo) => listVolumes(ctx, filter, restrictedTo),
      baseImages,
      sources: core.sources,
      maxSourceBytes: o.maxSourceBytes,
      health,
      access,
      audit,
      authLimiter: new FailureLimiter(),
      webhooks: core.webhooks,
      notifier: core.notifier,
      certificates,
      prometheus: metrics,
      metricsAccess: o.metricsAccess,
      logger,
    },
    {
      strictResponses: o.strictResponses,
      // Through the edge on SLIPWAY_DOMAIN, the client is the one HAProxy names in X-Forwarded-For.
      trustProxy: o.domain && o.httpsPort ? [...new Set(['127.0.0.1', '::1', edgeControlAddress(o.apiHost)])] : undefined,
      dashboardDir: o.dashboardDir,
    },
  );
  stack.defer('HTTP API', () => app.close());
  await app.listen({ host: o.apiHost, port: o.apiPort });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : o.apiPort;
  const url = `http://${o.apiHost.includes(':') ? `[${o.apiHost}]` : o.apiHost}:${port}`;
  writeJsonAtomic(serverInfoFile(o.dataDir), { url, pid: process.pid, httpPort: o.httpPort } satisfies ServerInfo);
  // After the API listens: ACME challenges reach it through the edge. HTTP only: nothing to manage.
  if (o.httpsPort) await certificates.start();
  logger.info({ url, dataDir: o.dataDir }, 'control plane listening');
  if (existsSync(path.join(o.dashboardDir, 'index.html'))) logger.info({ url: `${url}/` }, 'dashboard served');
  else logger.warn({ dir: o.dashboardDir }, 'the dashboard is not built (npm run build:web); / answers 503 until it is');
  return { url, requestMetrics };
}

function ensureAdminToken(o: ResolvedOptions): string {
  const file = adminTokenFile(o.dataDir);
  if (o.adminToken) {
    writeFileSync(file, `${o.adminToken}\n`, { mode: 0o600 });
    return o.adminToken;
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
