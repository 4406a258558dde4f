/** What the engine is given by the composition root: the ports and a logger. */
import type { Logger } from 'pino';
import type { ContextGuard } from '../core/ports/context-guard';
import type { Edge } from '../core/ports/edge';
import type { EdgeClient } from '../core/ports/edge-client';
import type { GitFetcher } from '../core/ports/git';
import type { HttpProbe, TcpProbe } from '../core/ports/probe';
import type { ReleaseTraffic } from '../core/ports/release-traffic';
import type { Runtime } from '../core/ports/runtime';
import type { SecretCipher } from '../core/ports/secret-cipher';
import type { SourceArchives } from '../core/ports/source-archives';
import type { Store } from '../core/ports/store';
import type { Telemetry } from '../core/ports/telemetry';
import type { DiskGuard } from './disk-guard';
import type { AccessoryLog, AccessoryOutcome } from './accessories';
import type { ProjectConfig, ServiceUse } from '../core/config';
import type { AccessoryView, BackupHealthView, BackupView } from '../core/contract/views';

/** What the deploy engine needs of the accessory manager (engine/accessories.ts). */
export interface AccessoryServices {
  ensure(project: string, env: { id: number; name: string }, config: ProjectConfig, log: AccessoryLog): Promise<AccessoryOutcome[]>;
  connectionEnv(environmentId: number, uses: ServiceUse[], role: 'app' | 'owner'): Promise<{ env: Record<string, string>; secrets: string[] }>;
  pinUses(environmentId: number, uses: ServiceUse[]): Promise<ServiceUse[]>;
  credentialValues(environmentId: number): Promise<string[]>;
  /** Restarts recorded accessories whose container died or vanished (the reconciler, before repairing services). */
  heal(): Promise<AccessoryOutcome[]>;
  /** Stops and forgets an environment's accessories (env destroy, project delete); volumes only with deleteVolumes. Absent: only the volumes are handled. */
  destroy?(project: string, env: { id: number; name: string }, opts: { deleteVolumes: boolean }): Promise<{ accessories: string[]; volumesDeleted: string[]; volumesKept: string[] }>;
  /** The environment's accessories as `status` shows them (engine/queries.ts); absent: status lists none. */
  list?(project: string, env: string): Promise<AccessoryView[]>;
}

/** What the deploy engine and the accessory views need of the backup manager (engine/backups.ts). */
export interface BackupServices {
  /** Of these accessories, the Postgres ones with backups on. */
  backedUp(environmentId: number, names: string[]): Promise<string[]>;
  /** A backup of each, linked to the deployment; throws when one fails. */
  beforeRelease(project: string, env: string, accessories: string[], deploymentId: string, log: (line: string) => Promise<void>): Promise<BackupView[]>;
  health(environmentId: number, accessory: string): Promise<BackupHealthView | null>;
  /** Its data deleted (`--delete-volumes`): the accessory's backups (all of the environment's when null) are marked expired and their snapshot files removed. */
  forget?(project: string, env: { id: number; name: string }, accessory: string | null): Promise<number>;
}

export interface EngineContext {
  store: Store;
  runtime: Runtime;
  edge: Edge;
  probe: HttpProbe;
  /** TCP connects (accessories' and `health.kind: tcp` readiness); absent in tests that need none. */
  tcpProbe?: TcpProbe;
  cipher: SecretCipher;
  sources: SourceArchives;
  git: GitFetcher;
  /** Checks build contexts and Dockerfiles (git checkouts, uploads) for symlinks before packing or building. */
  contexts: ContextGuard;
  logger: Logger;
  /** Loop timings for /metrics; absent in tests that do not measure. */
  telemetry?: Telemetry;
  /** Per-release request figures over recent windows (canary analysis); absent when request metrics are off. */
  traffic?: ReleaseTraffic;
  /** Requests through this server's edge as a client sends them (smoke checks); absent in tests that need none. */
  edgeClient?: EdgeClient;
  /** The low-disk guard (engine/disk-guard.ts): throws SLW_LOW_DISK; absent in tests that do not measure. */
  disk?: Pick<DiskGuard, 'assertRoom' | 'check'>;
  /** The accessory manager (set by main.ts once built: it needs this context); absent in tests without accessories. */
  accessories?: AccessoryServices;
  /** The backup manager (set by main.ts); absent: no backups before releases. */
  backups?: BackupServices;
  /** Work under a service lease (lease-guard.ts): aborted when the lease is lost; readiness waits end on it. */
  signal?: AbortSignal;
  /** How often a held service lease is renewed (default: a third of its TTL); unit tests shorten it. */
  leaseHeartbeatMs?: number;
}
