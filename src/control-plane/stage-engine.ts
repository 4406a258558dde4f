/**
 * Stage 4: the engine and what it works with — the master keyring, build sources, the disk
 * guard, accessories, the edge supervisor (adopts or starts the edge), the deploy engine,
 * certificates, webhooks, the notifier, secrets and backups — then the boot: interrupted
 * backups resolved, accessories healed, interrupted deployments recovered. Undone by stopping
 * the notifier, the NATS connection, certificate passes and the edge supervisor (which only
 * watches: the edge keeps serving).
 */
import path from 'node:path';
import type { Logger } from 'pino';
import { ACTIVE_STATES } from '../core/domain';
import { errorMessage } from '../core/errors';
import { AcmeClientIssuer } from '../drivers/acme/acme-issuer';
import { HostBackupFiles } from '../drivers/backup-files/host-backup-files';
import { DockerAccessoryImages } from '../drivers/docker/accessory-images';
import { GitCli } from '../drivers/git/git-cli';
import { ProcHostProbe } from '../drivers/host/proc-host-probe';
import { MasterKeyring } from '../drivers/keyring/master-keyring';
import { NatsJetStreamAdmin } from '../drivers/nats/jetstream-admin';
import { httpNotificationSender } from '../drivers/notify/http-notification-sender';
import { NatsPublisher } from '../drivers/notify/nats-publisher';
import { PgPostgresAdmin } from '../drivers/postgres/postgres-admin';
import { httpEdgeClient } from '../drivers/probe/edge-client';
import { httpProbe } from '../drivers/probe/http-probe';
import { tcpProbe } from '../drivers/probe/tcp-probe';
import { DiskSourceArchives } from '../drivers/sources/disk-source-archives';
import { LocalCa } from '../drivers/tls/local-ca';
import { Accessories } from '../engine/accessories';
import { Backups } from '../engine/backups';
import { CertificateManager } from '../engine/certificates';
import { DeployEngine } from '../engine/deploy-engine';
import { DiskGuard } from '../engine/disk-guard';
import { EdgeSupervisor } from '../engine/edge-supervisor';
import type { EngineContext } from '../engine/engine-context';
import { Notifier } from '../engine/notifier';
import { recoverAfterRestart } from '../engine/recovery';
import { Secrets } from '../engine/secrets';
import { Webhooks } from '../engine/webhooks';
import { fsContextGuard } from '../source/context-guard';
import type { CleanupStack } from './cleanup-stack';
import type { ResolvedOptions } from './control-plane-options';
import type { RuntimeEdgeStage } from './stage-runtime-edge';
import type { StoreStage } from './stage-store';

/** How long the start waits for dead accessories to be running and ready before recovery. */
const BOOT_HEAL_WAIT_MS = 60_000;

export interface EngineStage {
  ctx: EngineContext;
  engine: DeployEngine;
  accessories: Accessories;
  backups: Backups;
  secrets: Secrets;
  certificates: CertificateManager;
  webhooks: Webhooks;
  notifier: Notifier;
  edgeSupervisor: EdgeSupervisor;
  disk: DiskGuard;
  sources: DiskSourceArchives;
}

export async function startEngine(o: ResolvedOptions, logger: Logger, stack: CleanupStack, { store, metrics, feeds }: StoreStage, { runtime, edge, releaseWindows }: RuntimeEdgeStage): Promise<EngineStage> {
  const cipher = new MasterKeyring({ dataDir: o.dataDir, env: { SLIPWAY_MASTER_KEY: o.masterKey ?? undefined, SLIPWAY_MASTER_KEY_PREVIOUS: o.masterKeyPrevious ?? undefined } });
  const sources = new DiskSourceArchives({ dir: path.join(o.dataDir, 'sources'), logger: logger.child({ component: 'sources' }) });
  await sources.init();
  // Free space on Docker's data root: checked before each build or deployment (engine/disk-guard.ts).
  const disk = new DiskGuard({ runtime, host: new ProcHostProbe({ diskPath: o.dataDir }), store, logger: logger.child({ component: 'disk' }), min: o.minFreeDisk });
  await disk.check().catch((err: Error) => logger.warn({ err: err.message }, 'could not read free disk space'));
  const ctx: EngineContext = { store, runtime, edge, probe: httpProbe, tcpProbe, cipher, sources, git: new GitCli(), contexts: fsContextGuard, logger: logger.child({ component: 'engine' }), telemetry: metrics, disk, ...(releaseWindows ? { traffic: releaseWindows } : {}) };
  // Smoke checks reach the edge on this host as a client does (its HTTP port, loopback when it listens everywhere).
  ctx.edgeClient = httpEdgeClient({ bind: o.edgeBind, httpPort: o.httpPort, httpsPort: o.httpsPort ?? null });
  // Accessories (engine/accessories.ts): the built-in images (slipway/postgres:15, slipway/redis:7,
  // slipway/nats:2; another prefix with SLIPWAY_ACCESSORY_IMAGE_PREFIX) are built on first use;
  // Postgres is provisioned over the wire from this host.
  const accessories = new Accessories({
    ctx,
    images: new DockerAccessoryImages(runtime.docker, { repositoryPrefix: o.accessoryImagePrefix }),
    postgres: new PgPostgresAdmin({ logger: logger.child({ component: 'postgres-admin' }) }),
  });
  ctx.accessories = accessories;

  // The edge is adopted, or started with the servers of the desired state (replicas that still run
  // when only the edge died while we were away), then watched and restarted at once when it dies.
  const edgeSupervisor = new EdgeSupervisor(ctx, { logger: logger.child({ component: 'edge-supervisor' }) });
  const edgeStatus = await edgeSupervisor.start();
  // Watching only: the edge keeps serving.
  stack.defer('edge supervisor', () => edgeSupervisor.stop());
  logger.info({ pid: edgeStatus.pid, httpPort: edgeStatus.httpPort, started: edgeStatus.started, servers: edgeStatus.servers }, 'edge running');

  const engine = new DeployEngine(ctx);
  // Started after the API listens (HTTP stage): ACME challenges reach it through the edge.
  const certificates = new CertificateManager(ctx, {
    acme: o.acmeDirectoryUrl && o.httpsPort ? { issuer: new AcmeClientIssuer(logger.child({ component: 'acme' })), directoryUrl: o.acmeDirectoryUrl, email: o.acmeEmail } : null,
    localCa: new LocalCa({ dir: path.join(o.dataDir, 'tls') }),
    controlDomain: o.httpsPort ? o.domain : null,
    intervalMs: o.certIntervalMs,
    retry: { firstMs: o.certRetryMs, maxMs: 6 * 3_600_000 },
    logger: logger.child({ component: 'certificates' }),
  });
  // Also stops passes a successful deployment asked for (wake), started or not.
  stack.defer('certificate passes', () => certificates.stop());
  engine.events.subscribeAll((id, e) => {
    if (e.type === 'state') metrics.onDeploymentState(id, e.state);
    // A deploy may have routed a new domain: it gets its certificate now, not at the next pass.
    if (e.type === 'state' && e.state === 'succeeded') certificates.wake();
  });
  const webhooks = new Webhooks(ctx, engine);
  const nats = new NatsPublisher();
  stack.defer('NATS connection', () => nats.close());
  const notifier = new Notifier(ctx, { send: (t, e, secret) => (t.kind === 'nats' ? nats.send(t, e) : httpNotificationSender.send(t, e, secret)) });
  await notifier.ensureNatsTarget(o.natsUrl);
  notifier.start();
  stack.defer('notifier', () => notifier.stop());
  feeds.outboxBacklog = () => notifier.backlog();
  // Secrets changed or re-sealed under a new master key: what else holds sealed values re-seals too.
  const secrets = new Secrets(ctx, (ref, triggeredBy) => engine.redeployWithSecrets(ref, triggeredBy), async () => {
    await webhooks.reseal();
    await notifier.reseal();
    await certificates.reseal();
  });
  const unreadable = await secrets.unreadableVersions();
  if (unreadable > 0) logger.error({ unreadable }, 'some stored secrets cannot be opened with the master key(s) this server holds; deployments that need them will fail');

  // Backups (engine/backups.ts): what the previous process left running is failed and its scratch
  // containers removed before accessories are healed (a restore in place may have left one on the
  // accessory's volume); the schedule is a background loop.
  const backups = new Backups({
    ctx,
    accessories,
    files: new HostBackupFiles(path.join(o.dataDir, 'backups')),
    jetstream: new NatsJetStreamAdmin(),
    restartService: async (ref) => {
      // Back serving before the restore answers: the repair runs to its end. The reconciler may
      // have started one first (the leases were just released): then that one is waited for.
      const d = await engine.repair(ref, 'restore in place');
      const project = await store.getProject(ref.project);
      const env = project ? await store.getEnvironment(project.id, ref.env) : null;
      const service = project ? (await store.listServices(project.id)).find((x) => x.name === ref.service) : undefined;
      const active = service && env ? (await store.listDeployments({ states: [...ACTIVE_STATES] })).filter((x) => x.serviceId === service.id && x.environmentId === env.id).map((x) => x.id) : [];
      await engine.settled(d ? [d.id, ...active] : active);
    },
  });
  ctx.backups = backups;
  await backups.recoverInterrupted().catch((err: unknown) => logger.warn({ err: errorMessage(err) }, 'boot: could not resolve interrupted backups'));

  // After a reboot the accessories stopped too: started before recovery converges services whose
  // health needs them; bounded, so a broken one cannot hold the start (the reconciler retries it).
  await Promise.race([
    accessories.heal().catch((err: unknown) => logger.warn({ err: errorMessage(err) }, 'boot: accessory heal failed; the reconciler retries')),
    new Promise((resolve) => setTimeout(resolve, BOOT_HEAL_WAIT_MS).unref()),
  ]);
  const recovery = await recoverAfterRestart(ctx, engine.events);
  if (recovery.resolved.length || recovery.orphansRemoved) logger.warn(recovery, 'recovered from an interrupted run');
  return { ctx, engine, accessories, backups, secrets, certificates, webhooks, notifier, edgeSupervisor, disk, sources };
}
