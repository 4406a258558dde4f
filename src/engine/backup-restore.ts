/**
 * Restore a backup (to its restore point) or a moment (from the WAL archive) of a Postgres
 * accessory. By default into a NEW accessory, `<name>-restored-<yyyymmddhhmm>`, beside the live
 * one: its own data volume, the source's credentials, reachable by name on the environment's
 * network, so it can be inspected and compared. In place (`inPlace`): the services that use the
 * accessory are stopped (their replicas removed, their leases held so no repair starts them),
 * a backup of the current state is taken, the data is restored over it, the accessory starts
 * again and the services are repaired back to their live release.
 */
import type { AccessoryConfig } from '../core/config';
import type { AccessoryRecord, BackupRecord, Environment } from '../core/domain';
import { errorMessage, SlipwayError } from '../core/errors';
import { BACKUP_VOLUME } from '../core/backup-config';
import type { AccessoryLog, AccessoryOutcome } from './accessories';
import type { RestoreOptions, RestoreOutcome } from './backup-operations';
import { openScratch, type RestoreTarget } from './backup-scratch';
import { backupView } from './backup-view';
import type { EngineContext } from './engine-context';
import { psqlRows } from './pg-in-container';
import { holdLease, LEASE_TTL_MS, serviceLeaseKey } from './service-lease';
import { clearRestoreMark, markRestore } from './restore-marker';

export interface RestoreDeps {
  ctx: EngineContext;
  accessories: {
    adoptRestored(project: string, env: { id: number; name: string }, source: AccessoryRecord, cfg: AccessoryConfig, log: AccessoryLog): Promise<AccessoryOutcome>;
    replaceData(project: string, env: { id: number; name: string }, name: string, work: () => Promise<void>, log: AccessoryLog): Promise<AccessoryOutcome>;
    whileStopped(project: string, env: { id: number; name: string }, name: string, why: { doing: string; failed: string; done: string }, work: () => Promise<void>, log: AccessoryLog): Promise<AccessoryOutcome>;
  };
  /** Repairs a service back to its live release (the deploy engine's repair), after an in-place restore. */
  restartService?: (ref: { project: string; service: string; env: string }) => Promise<void>;
  takeSafetyBackup(progress: (line: string) => void): Promise<BackupRecord>;
  now(): Date;
}

export interface RestoreSource {
  project: string;
  env: Environment;
  record: AccessoryRecord;
  /** The backup asked for (checked: finished, this accessory's). */
  backup: BackupRecord | null;
}

export async function restoreAccessory(deps: RestoreDeps, src: RestoreSource, opts: RestoreOptions): Promise<RestoreOutcome> {
  const progress = opts.onProgress ?? (() => undefined);
  const log: AccessoryLog = async (line) => progress(line);
  const target = await restoreTarget(deps, src, opts, progress);
  const what = src.backup ? `backup ${src.backup.id} (${src.backup.label})` : `the moment ${opts.toTime}`;
  const env = { id: src.env.id, name: src.env.name };
  const cli = `--env ${src.env.name} -p ${src.project}`;

  if (!opts.inPlace) {
    const name = await freeName(deps, src, restoredName(src.record.name, deps.now()));
    progress(`restoring ${what} of ${src.record.name} into a new accessory ${name}`);
    const scratch = await openScratch(deps.ctx.runtime, { project: src.project, env: src.env.name, name, source: src.record });
    try {
      await scratch.restore(target, progress);
    } catch (err) {
      await scratch.close(true);
      throw err;
    }
    await scratch.close(false);
    const cfg: AccessoryConfig = { ...src.record.config, name, volumes: src.record.config.volumes.filter((v) => v.volume !== BACKUP_VOLUME) };
    delete cfg.backup;
    await deps.accessories.adoptRestored(src.project, env, src.record, cfg, log);
    return {
      accessory: name,
      inPlace: false,
      backup: src.backup ? backupView(src.backup, src.env.name) : null,
      toTime: opts.toTime ?? null,
      safetyBackup: null,
      next: [
        `inspect it: slipway db shell ${name} ${cli} -c 'select count(*) from <table>'   (the services still use ${src.record.name})`,
        `reach it from a service or one-off: host ${name}, port 5432, the same users and passwords as ${src.record.name}`,
        src.backup
          ? `switch ${src.record.name} to this data: slipway restore ${src.record.name} --backup ${src.backup.id} --in-place --yes ${cli}`
          : `switch ${src.record.name} to this data: slipway restore ${src.record.name} --to-time ${opts.toTime} --in-place --yes ${cli}`,
        `remove it when done: slipway accessories remove ${name} ${cli} --delete-volumes --yes`,
      ],
    };
  }

  const safety = await withUsersStopped(deps, src, progress, async () => {
    await deps.accessories.replaceData(src.project, env, src.record.name, async () => {
      const scratch = await openScratch(deps.ctx.runtime, { project: src.project, env: src.env.name, name: `${src.record.name}-restore`, source: src.record, dataOwner: src.record.name });
      try {
        await scratch.restore(target, progress);
      } finally {
        await scratch.close(false);
      }
    }, log);
  });
  return {
    accessory: src.record.name,
    inPlace: true,
    backup: src.backup ? backupView(src.backup, src.env.name) : null,
    toTime: opts.toTime ?? null,
    safetyBackup: safety ? backupView(safety, src.env.name) : null,
    next: [
      `check it: slipway db shell ${src.record.name} ${cli} -c 'select count(*) from <table>'`,
      safety ? `undo: slipway restore ${src.record.name} --backup ${safety.id} --in-place --yes ${cli}` : 'no backup of the replaced state was taken',
    ],
  };
}

/**
 * The bracket of every restore in place: the services whose live release uses the accessory
 * are stopped (their replicas removed, their leases held and renewed so no deploy or repair
 * starts them), a backup of the current state is taken when the accessory runs, `work`
 * replaces the data, and the services are repaired back to their live release whatever
 * happened. Resolves with the safety backup (null when the accessory was down).
 */
export async function withUsersStopped(
  deps: Pick<RestoreDeps, 'ctx' | 'restartService' | 'takeSafetyBackup' | 'now'>,
  src: Pick<RestoreSource, 'project' | 'env' | 'record'>,
  progress: (line: string) => void,
  work: () => Promise<void>,
): Promise<BackupRecord | null> {
  const users = await usersOf(deps, src);
  progress(`restoring into ${src.record.name} in place${users.length ? `; stopping ${users.map((u) => u.service).join(', ')} first` : ''}`);
  const holder = `restore-${src.record.name}-${deps.now().getTime()}`;
  const held: string[] = [];
  const heartbeats: Array<() => void> = [];
  let safety: BackupRecord | null = null;
  let marked: string | null = null;
  try {
    for (const u of users) {
      const key = serviceLeaseKey(u.serviceId, src.env.id);
      if (!(await deps.ctx.store.acquireLease(key, holder, LEASE_TTL_MS))) {
        throw new SlipwayError('SLW_DEPLOY_LOCKED', `${u.service} in ${src.env.name} is being deployed; restore in place once it finished (it would start its replicas against the data being replaced)`);
      }
      held.push(key);
      heartbeats.push(holdLease(deps.ctx.store, key, holder, { heartbeatMs: deps.ctx.leaseHeartbeatMs, onLost: () => progress(`warning: the deploy lease of ${u.service} could not be renewed`) }).stop);
    }
    for (const u of users) {
      for (const r of await deps.ctx.runtime.listReplicas({ project: src.project, service: u.service, env: src.env.name })) {
        await deps.ctx.runtime.stopReplica(r.id, 10_000);
        await deps.ctx.store.forgetPlacements([r.name]);
      }
      progress(`stopped ${u.service}`);
    }
    const mark = await markRestore(deps.ctx.store, src.env.id, src.record.name);
    if (!mark.taken) throw new SlipwayError('SLW_CONFLICT', `${mark.reason}; wait for it to finish`, [{ path: 'name', message: 'a restore in place runs' }]);
    if (mark.tookOver) progress(`an earlier restore in place of ${src.record.name} was interrupted; this one replaces its data again`);
    marked = mark.holder;
    const running = (await deps.ctx.runtime.listAccessories({ project: src.project, env: src.env.name, accessory: src.record.name })).some((c) => c.state === 'running');
    if (running) {
      progress('taking a backup of the current state first');
      safety = await deps.takeSafetyBackup(progress);
    } else {
      // The disaster case: the accessory does not run, so its state cannot be backed up; the restore goes on.
      progress(`warning: ${src.record.name} is not running: no backup of its current state can be taken; restoring without one`);
    }
    await work();
  } finally {
    if (marked) await clearRestoreMark(deps.ctx.store, src.env.id, src.record.name, marked).catch(() => undefined);
    for (const stop of heartbeats) stop();
    for (const key of held) await deps.ctx.store.releaseLease(key, holder).catch(() => undefined);
    for (const u of users) {
      await deps.restartService?.({ project: src.project, service: u.service, env: src.env.name }).then(
        () => progress(`started ${u.service} again`),
        (err: unknown) => progress(`could not start ${u.service} again (${errorMessage(err)}); the reconciler retries`),
      );
    }
  }
  return safety;
}

/** What pgBackRest restores to; for a moment, the live server first archives a commit past it (recovery must see one). */
async function restoreTarget(deps: RestoreDeps, src: RestoreSource, opts: RestoreOptions, progress: (line: string) => void): Promise<RestoreTarget> {
  if (src.backup) return { kind: 'point', label: src.backup.label!, restorePoint: src.backup.restorePoint };
  const at = Date.parse(opts.toTime ?? '');
  if (Number.isNaN(at)) throw new SlipwayError('SLW_BAD_REQUEST', `toTime must be an ISO 8601 time, e.g. 2026-12-07T10:30:00Z (got ${opts.toTime})`, [{ path: 'toTime', message: 'must be an ISO time' }]);
  if (at >= deps.now().getTime()) throw new SlipwayError('SLW_BAD_REQUEST', `toTime ${opts.toTime} is not in the past`, [{ path: 'toTime', message: 'must be in the past' }]);
  const [live] = (await deps.ctx.runtime.listAccessories({ project: src.project, env: src.env.name, accessory: src.record.name })).filter((c) => c.state === 'running');
  if (live) {
    progress('archiving the WAL up to now (a commit after the target, then a segment switch)');
    const db = src.record.config.database ?? 'postgres';
    const rows = await psqlRows(deps.ctx.runtime, live.id, db, "BEGIN; SELECT 'xid', txid_current(); COMMIT; SELECT 'segment', pg_walfile_name(pg_current_wal_lsn()); SELECT pg_switch_wal() IS NOT NULL;");
    const segment = rows.find((r) => r[0] === 'segment')?.[1] ?? '';
    const deadline = Date.now() + 120_000;
    for (;;) {
      const [row] = await psqlRows(deps.ctx.runtime, live.id, db, "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver;");
      if ((row?.[0] ?? '') >= segment) break;
      if (Date.now() > deadline) throw new SlipwayError('SLW_BACKUP_FAILED', `WAL segment ${segment} was not archived within 120 s: the archive cannot reach ${opts.toTime}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  } else {
    progress(`${src.record.name} is not running: restoring from what was archived before it stopped`);
  }
  // pgBackRest's format: `YYYY-MM-DD HH:MM:SS.mmm+00`.
  return { kind: 'time', time: new Date(at).toISOString().replace('T', ' ').replace('Z', '+00') };
}

/** Services whose live release uses the accessory (in place: stopped during the restore). */
async function usersOf(deps: Pick<RestoreDeps, 'ctx'>, src: Pick<RestoreSource, 'project' | 'env' | 'record'>): Promise<Array<{ service: string; serviceId: number }>> {
  const { store } = deps.ctx;
  const project = await store.getProject(src.project);
  const out: Array<{ service: string; serviceId: number }> = [];
  for (const s of project ? await store.listServices(project.id) : []) {
    const release = await store.getCurrentRelease(s.id, src.env.id);
    if (release?.config.uses.some((u) => u.accessory === src.record.name)) out.push({ service: s.name, serviceId: s.id });
  }
  return out;
}

/** A name no accessory has, nor any volume left behind (a restore never writes into, or deletes, someone's data). */
export async function freeName(deps: Pick<RestoreDeps, 'ctx'>, src: Pick<RestoreSource, 'env' | 'project'>, base: string): Promise<string> {
  const owners = new Set((await deps.ctx.runtime.listVolumes({ project: src.project, env: src.env.name, sizes: false })).map((v) => v.owner));
  for (let i = 1; ; i++) {
    const name = i === 1 ? base : `${base}-${i}`;
    if (!owners.has(name) && !(await deps.ctx.store.getAccessory(src.env.id, name))) return name;
  }
}

/**
 * `<name>-restored-<yyyymmddhhmm>`, within the 40 characters of an accessory name (a `-N`
 * suffix included, when two restores fall in one minute): a long name is shortened.
 */
export function restoredName(name: string, now: Date): string {
  const tail = `-restored-${stamp(now)}`;
  const room = 40 - tail.length - 3;
  return `${name.length > room ? name.slice(0, room).replace(/-+$/, '') : name}${tail}`;
}

/** `202612071030` (UTC, to the minute). */
const stamp = (d: Date): string => d.toISOString().replace(/[-:T]/g, '').slice(0, 12);
