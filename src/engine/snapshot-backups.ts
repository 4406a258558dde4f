/**
 * The snapshot side of the backup manager (redis, nats, container accessories): take one into
 * the backup folder with its files checksummed, verify it (checksums first, then the kind's
 * own restore into a scratch container), restore it into a new accessory or in place, and
 * keep the newest `retention.full` of them. engine/backups.ts records and schedules them like
 * pgBackRest sets.
 */
import type { BackupPolicy } from '../core/backup-config';
import type { AccessoryConfig } from '../core/config';
import type { AccessoryRecord, BackupRecord, Environment } from '../core/domain';
import { errorMessage, SlipwayError } from '../core/errors';
import type { BackupFiles } from '../core/ports/backup-files';
import type { JetStreamAdmin } from '../core/ports/jetstream-admin';
import type { AccessoryLog } from './accessories';
import type { RestoreOptions, RestoreOutcome } from './backup-operations';
import { freeName, restoredName, withUsersStopped, type RestoreDeps } from './backup-restore';
import { backupView } from './backup-view';
import type { EngineContext } from './engine-context';
import { natsSnapshots } from './nats-snapshots';
import { redisSnapshots } from './redis-snapshots';
import { CheckFailed, folderOf, removeVolumesOf, runningContainer, type SnapshotMethod, type SnapshotSite, type SnapshotTaken } from './snapshot-method';
import { volumeSnapshots } from './volume-snapshots';

export interface SnapshotDeps {
  ctx: EngineContext;
  files?: BackupFiles;
  jetstream?: JetStreamAdmin;
}

export interface SnapshotTarget {
  project: string;
  env: Environment;
  record: AccessoryRecord;
  policy: BackupPolicy;
}

function methodOf(record: AccessoryRecord): SnapshotMethod {
  switch (record.kind) {
    case 'redis':
      return redisSnapshots;
    case 'nats':
      return natsSnapshots;
    case 'container':
      return volumeSnapshots;
    default:
      throw new SlipwayError('SLW_INTERNAL', `${record.kind} accessories are backed up with pgBackRest, not as snapshots`);
  }
}

export function siteOf(deps: SnapshotDeps, t: Pick<SnapshotTarget, 'project' | 'env' | 'record'>, progress: (line: string) => void): SnapshotSite {
  if (!deps.files) throw new SlipwayError('SLW_INTERNAL', 'snapshot backups need a backup folder; none is configured');
  return { ctx: deps.ctx, files: deps.files, jetstream: deps.jetstream, project: t.project, env: t.env.name, record: t.record, progress };
}

/** Takes the snapshot into the backup's folder; a failure removes what was written. */
export async function takeSnapshot(deps: SnapshotDeps & Pick<RestoreDeps, 'accessories'>, t: SnapshotTarget, backupId: string, log: AccessoryLog, progress: (line: string) => void): Promise<SnapshotTaken & { label: string }> {
  const s = siteOf(deps, t, progress);
  const folder = folderOf(s, backupId);
  const whileStopped = async (work: () => Promise<void>) => {
    await deps.accessories.whileStopped(t.project, { id: t.env.id, name: t.env.name }, t.record.name, { doing: 'copying its volumes (a consistent copy)', failed: 'the copy failed', done: 'volumes copied' }, work, log);
  };
  try {
    const taken = await methodOf(t.record).take(s, folder, whileStopped);
    progress(`written to ${s.files.describe(folder)} (${taken.files.length} file(s), checksummed)`);
    return { ...taken, label: `snapshot-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}` };
  } catch (err) {
    await s.files.remove(folder).catch(() => undefined);
    throw err;
  }
}

/**
 * Checks a snapshot: its files' checksums, then the kind's restore into a scratch container.
 * Resolves with the first failure's message, or null when every check passed.
 */
export async function verifySnapshot(deps: SnapshotDeps, t: Pick<SnapshotTarget, 'project' | 'env' | 'record'>, b: BackupRecord, pass: (name: string, detail: string) => void, fail: (name: string, detail: string) => string, progress: (line: string) => void): Promise<string | null> {
  const s = siteOf(deps, t, progress);
  const folder = folderOf(s, b.id);
  const files = b.files ?? [];
  const problems = await s.files.check(folder, files);
  if (problems.length) return fail('checksums', problems.join('; '));
  pass('checksums', `${files.length} file(s), ${files.reduce((a, f) => a + f.bytes, 0)} bytes: as written`);
  try {
    await methodOf(t.record).verify(s, b, folder, pass);
    return null;
  } catch (err) {
    return fail(err instanceof CheckFailed ? err.check : 'restore', errorMessage(err));
  }
}

/** Restores a snapshot: into a new accessory `<name>-restored-<time>` (default), or in place with its users stopped. */
export async function restoreSnapshot(
  deps: SnapshotDeps & Pick<RestoreDeps, 'accessories' | 'restartService' | 'takeSafetyBackup' | 'now'>,
  t: Pick<SnapshotTarget, 'project' | 'env' | 'record'>,
  b: BackupRecord | null,
  opts: RestoreOptions,
): Promise<RestoreOutcome> {
  const progress = opts.onProgress ?? (() => undefined);
  if (!b) {
    throw new SlipwayError('SLW_BAD_REQUEST', `${t.record.name} is a ${t.record.kind} accessory: its backups are snapshots, with no point-in-time recovery; restore one with --backup ID (slipway backups ${t.record.name})`, [
      { path: 'toTime', message: 'is for postgres accessories only; give backup instead' },
    ]);
  }
  const s = siteOf(deps, t, progress);
  const folder = folderOf(s, b.id);
  const method = methodOf(t.record);
  const log: AccessoryLog = async (line) => progress(line);
  const env = { id: t.env.id, name: t.env.name };
  const cli = `--env ${t.env.name} -p ${t.project}`;
  const missing = await s.files.check(folder, b.files ?? []);
  if (missing.length) throw new SlipwayError('SLW_BACKUP_FAILED', `backup ${b.id} cannot be restored: its files are damaged (${missing.join('; ')})`);

  if (!opts.inPlace) {
    const name = await freeName(deps, t, restoredName(t.record.name, deps.now()));
    progress(`restoring backup ${b.id} (${b.label}) of ${t.record.name} into a new accessory ${name}`);
    const cfg: AccessoryConfig = { ...t.record.config, name };
    delete cfg.backup;
    if ('volumes' in method.write) {
      try {
        await method.write.volumes(s, b, folder, name, false);
      } catch (err) {
        await removeVolumesOf(s, name);
        throw err;
      }
    }
    await deps.accessories.adoptRestored(t.project, env, t.record, cfg, log);
    if ('running' in method.write) {
      const restored = await runningContainer({ ...s, record: { ...t.record, name } });
      await method.write.running(s, b, folder, restored, true).catch((err: unknown) => {
        throw new SlipwayError('SLW_BACKUP_FAILED', `${errorMessage(err)}; ${name} runs with the streams restored before the failure (remove it: slipway accessories remove ${name} ${cli} --delete-volumes --yes)`);
      });
    }
    return {
      accessory: name,
      inPlace: false,
      backup: backupView(b, t.env.name),
      toTime: null,
      safetyBackup: null,
      next: [
        `reach it from a service or one-off: host ${name}, the same port and password as ${t.record.name} (the services still use ${t.record.name})`,
        `switch ${t.record.name} to this data: slipway restore ${t.record.name} --backup ${b.id} --in-place --yes ${cli}`,
        `remove it when done: slipway accessories remove ${name} ${cli} --delete-volumes --yes`,
      ],
    };
  }

  const safety = await withUsersStopped(deps, { project: t.project, env: t.env, record: t.record }, progress, async () => {
    const write = method.write;
    if ('volumes' in write) {
      await deps.accessories.replaceData(t.project, env, t.record.name, () => write.volumes(s, b, folder, t.record.name, true), log);
    } else {
      await write.running(s, b, folder, await runningContainer(s), true);
    }
  });
  return {
    accessory: t.record.name,
    inPlace: true,
    backup: backupView(b, t.env.name),
    toTime: null,
    safetyBackup: safety ? backupView(safety, t.env.name) : null,
    next: [safety ? `undo: slipway restore ${t.record.name} --backup ${safety.id} --in-place --yes ${cli}` : 'no backup of the replaced state was taken'],
  };
}

/** Retention of snapshots: the newest `retention.full` succeeded ones stay; older ones' folders are removed and their records marked expired. */
export async function expireSnapshots(deps: SnapshotDeps, t: SnapshotTarget, progress: (line: string) => void): Promise<void> {
  const s = siteOf(deps, t, progress);
  const snapshots = (await deps.ctx.store.listBackups({ environmentId: t.env.id, accessory: t.record.name, states: ['succeeded'], limit: 10_000 })).filter((x) => x.type === 'snapshot');
  // The newest one a verification passed stays too, whatever the count: newer ones may not restore.
  const verified = snapshots.find((x) => x.verification?.state === 'passed');
  for (const b of snapshots.slice(t.policy.retention.full)) {
    if (b.id === verified?.id) continue;
    await s.files.remove(folderOf(s, b.id));
    await deps.ctx.store.updateBackup(b.id, { expiredAt: new Date().toISOString() });
    progress(`retention: removed snapshot ${b.id} (${b.label}); ${t.policy.retention.full} kept`);
  }
}
