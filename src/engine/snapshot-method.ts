/**
 * How a snapshot backup is taken, verified and written back, per accessory kind: redis (an RDB
 * file made by the server, engine/redis-snapshots.ts), nats (JetStream stream snapshots,
 * engine/nats-snapshots.ts) and container accessories (their volumes copied while stopped,
 * engine/volume-snapshots.ts). The backup manager (engine/backups.ts) records, expires and
 * checksums them the same way for every kind.
 */
import { randomBytes } from 'node:crypto';
import type { BackupFiles, BackupFolder, StoredFile } from '../core/ports/backup-files';
import type { JetStreamAdmin } from '../core/ports/jetstream-admin';
import type { VolumeMount } from '../core/config';
import type { AccessoryContainer } from '../core/ports/runtime';
import type { AccessoryRecord, BackupRecord } from '../core/domain';
import { SlipwayError } from '../core/errors';
import { ACCESSORY_KINDS, isBuiltInKind, type AccessoryCredentials } from '../core/accessory-kinds';
import { openAccessoryCredentials } from './accessory-credentials';
import { SCRATCH_SPEC } from './backup-scratch';
import type { EngineContext } from './engine-context';
import { placeContainer } from './placement';

export interface SnapshotSite {
  ctx: EngineContext;
  files: BackupFiles;
  jetstream?: JetStreamAdmin;
  project: string;
  env: string;
  record: AccessoryRecord;
  progress: (line: string) => void;
}

export interface SnapshotTaken {
  files: StoredFile[];
  /** What it holds, checked again by verification: `keys` (redis), `stream:<name>` messages (nats), `volume:<name>` files (container). */
  counts: Record<string, number>;
  /** The data's size as the accessory holds it (null when the kind does not say). */
  sizeBytes: number | null;
}

export interface SnapshotMethod {
  /**
   * Copies the accessory's data into the backup's folder. `whileStopped`: runs work with the
   * accessory stopped and starts it again after (container accessories: a consistent copy).
   */
  take(s: SnapshotSite, folder: BackupFolder, whileStopped: (work: () => Promise<void>) => Promise<void>): Promise<SnapshotTaken>;
  /** Restores the backup into a scratch container and checks what it holds; each check reported through `pass`, the first failure thrown. */
  verify(s: SnapshotSite, backup: BackupRecord, folder: BackupFolder, pass: (name: string, detail: string) => void): Promise<void>;
  /**
   * Puts the backup's data where `owner` keeps it. `volumes`: into its volumes before it starts
   * (a new accessory, or the accessory itself while stopped: `replace` empties them first);
   * `running`: through its API into the running server (nats).
   */
  write: { volumes(s: SnapshotSite, backup: BackupRecord, folder: BackupFolder, owner: string, replace: boolean): Promise<void> } | { running(s: SnapshotSite, backup: BackupRecord, folder: BackupFolder, target: AccessoryContainer, replace: boolean): Promise<void> };
}

export const folderOf = (s: Pick<SnapshotSite, 'project' | 'env' | 'record'>, backupId: string): BackupFolder => ({ project: s.project, env: s.env, accessory: s.record.name, backupId });

/** The volume at the kind's data directory (`data`, or one of the user's own there). */
export function dataVolumeOf(record: AccessoryRecord): string {
  const dir = isBuiltInKind(record.kind) ? ACCESSORY_KINDS[record.kind].dataDir : null;
  return record.config.volumes.find((v) => v.path === dir)?.volume ?? 'data';
}

export function credentialsOf(s: SnapshotSite): Promise<AccessoryCredentials> {
  return openAccessoryCredentials(s.ctx, s.record.id, s.record.credentialsVersion, { name: s.record.name, kind: s.record.kind });
}

export async function runningContainer(s: SnapshotSite): Promise<AccessoryContainer> {
  const [c] = (await s.ctx.runtime.listAccessories({ project: s.project, env: s.env, accessory: s.record.name })).filter((x) => x.state === 'running' && x.labels.spec !== SCRATCH_SPEC);
  if (!c) throw new SlipwayError('SLW_BACKUP_FAILED', `accessory ${s.record.name} is not running (slipway accessories status --env ${s.env}); a ${s.record.kind} backup reads the live server`);
  return c;
}

/** The name of a verification's scratch accessory: found by it at boot when a restart interrupted one (backups.ts recoverInterrupted). */
export const verifyScratchName = (accessory: string, backupId: string): string => `${accessory}-verify-${backupId.slice(0, 8)}`;

export interface Helper {
  container: AccessoryContainer;
  /** Stops it; `dropVolumes`: removes the volumes owned by its name too. Never throws. */
  close(dropVolumes: boolean): Promise<void>;
}

/**
 * A container of the accessory's image labelled as scratch (removed at boot if left behind),
 * running `command` (default: `sleep infinity`, for execs) with the given volumes.
 */
export async function openHelper(s: SnapshotSite, name: string, volumes: VolumeMount[], run?: { command: string[]; env: Record<string, string> }): Promise<Helper> {
  const { runtime } = s.ctx;
  const container = await runtime.startAccessory({
    server: placeContainer(runtime),
    name: `${s.project}-${name}-${s.env}-${randomBytes(3).toString('hex')}`,
    image: s.record.imageDigest,
    env: run?.env ?? {},
    command: run?.command ?? ['sleep', 'infinity'],
    labels: { project: s.project, env: s.env, accessory: name, spec: SCRATCH_SPEC },
    volumes,
  });
  return {
    container,
    async close(dropVolumes) {
      try {
        await runtime.stopAccessory(container.id, 10_000);
        if (dropVolumes) await removeVolumesOf(s, name);
      } catch {
        // Leftovers are found by their scratch label at the next boot.
      }
    },
  };
}

export async function removeVolumesOf(s: Pick<SnapshotSite, 'ctx' | 'project' | 'env'>, owner: string): Promise<void> {
  for (const v of await s.ctx.runtime.listVolumes({ project: s.project, env: s.env, sizes: false })) {
    if (v.owner === owner) await s.ctx.runtime.removeVolume(v.name).catch(() => undefined);
  }
}

/** Fails a verification step with the check's name (backups.ts records it as the failing check). */
export class CheckFailed extends Error {
  constructor(
    readonly check: string,
    detail: string,
  ) {
    super(detail);
  }
}
