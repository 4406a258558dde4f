/**
 * The backup manager: pgBackRest backups of Postgres accessories into the repository volume
 * beside their data (WAL archived continuously by the server itself), each followed by a restore
 * point at which every table's rows were counted; verification restores a set into a scratch
 * container and checks it (backup-verify.ts); restore puts a set or a moment into a new
 * accessory or in place (backup-restore.ts). Redis, nats and container accessories are backed
 * up as snapshots into the control plane's backup folder (snapshot-backups.ts), recorded,
 * scheduled, verified and restored through the same calls. One backup per accessory at a time;
 * a backup the control plane did not see finish is failed, never listed as good.
 */
import { randomUUID } from 'node:crypto';
import type { BackupPolicy } from '../core/backup-config';
import type { BackupHealthView, BackupView } from '../core/contract/views';
import type { AccessoryRecord, BackupRecord, BackupType, Environment, EventType, Project } from '../core/domain';
import { errorMessage, SlipwayError } from '../core/errors';
import { newBackupLabel, parsePgBackRestInfo, progressPercent, type PgBackRestSet } from '../core/pgbackrest-output';
import { planBackupExpiry } from '../core/plan-backup-expiry';
import { parseCron } from '../core/cron';
import type { AccessoryContainer } from '../core/ports/runtime';
import type { AccessoryRef, BackupOperations, RestoreOptions, RestoreOutcome, TakeBackupOptions } from './backup-operations';
import { SCRATCH_SPEC } from './backup-scratch';
import { restoreAccessory, type RestoreDeps } from './backup-restore';
import { recordVerification, verifyBackup } from './backup-verify';
import { interruptedRestore, restoreInterrupted, restoreMarked } from './restore-marker';
import { expireSnapshots, restoreSnapshot, takeSnapshot, verifySnapshot } from './snapshot-backups';
import type { BackupFiles } from '../core/ports/backup-files';
import type { JetStreamAdmin } from '../core/ports/jetstream-admin';
import { backupHealth, backupView } from './backup-view';
import type { EngineContext } from './engine-context';
import { asPostgres, countAndMarkSql, mustSucceed, parseCounts, pgBackRest, psqlRows } from './pg-in-container';
import { backupMethod, PGBACKREST_STANZA } from '../core/backup-config';

const BACKUP_TIMEOUT_MS = 6 * 3_600_000;
const ARCHIVE_WAIT_MS = 120_000;

export interface BackupDeps {
  ctx: EngineContext;
  /** Where snapshot backups (redis, nats, container accessories) are written; absent: only pgBackRest backups work. */
  files?: BackupFiles;
  /** NATS backups: JetStream stream snapshots through the server's API. */
  jetstream?: JetStreamAdmin;
  /** Starts a restored accessory like any other, or replaces an accessory's data (engine/accessories.ts). */
  accessories: RestoreDeps['accessories'];
  /** After an in-place restore: the services that use it back to their live release (the deploy engine's repair). */
  restartService?: RestoreDeps['restartService'];
  now?: () => Date;
}

interface Target {
  project: Project;
  env: Environment;
  record: AccessoryRecord;
  policy: BackupPolicy;
}

export class Backups implements BackupOperations {
  private readonly ctx: EngineContext;
  /** Accessories being backed up (`<env id>:<name>` → backup id). */
  private readonly running = new Map<string, string>();
  /** Callers waiting for a backup to end (woken at every end; they look again). */
  private readonly waiters: Array<() => void> = [];
  private ticking = false;
  /** Backups being verified (by id). */
  private readonly verifying = new Set<string>();

  constructor(private readonly deps: BackupDeps) {
    this.ctx = deps.ctx;
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  async take(ref: AccessoryRef, opts: TakeBackupOptions): Promise<BackupView> {
    const t = await this.target(ref);
    if (opts.type && backupMethod(t.record.kind) === 'snapshot') {
      throw new SlipwayError('SLW_BAD_REQUEST', `type: ${t.record.name} is a ${t.record.kind} accessory; its backups are whole snapshots (full and differential are pgBackRest's, for postgres)`, [{ path: 'type', message: 'is for postgres accessories only' }]);
    }
    return backupView(await this.takeFor(t, opts), t.env.name);
  }

  private async takeFor(t: Target, opts: TakeBackupOptions): Promise<BackupRecord> {
    const { store } = this.ctx;
    const key = `${t.env.id}:${t.record.name}`;
    const progress = opts.onProgress ?? (() => undefined);
    const busy = this.running.get(key);
    if (busy && opts.trigger === 'manual') throw new SlipwayError('SLW_CONFLICT', `a backup of ${t.record.name} is already running (${busy}); wait for it (slipway backups ${t.record.name} --env ${t.env.name})`);
    // A deployment or a restore waits for the running backup (one pgBackRest backup per stanza at a time), then takes its own.
    while (this.running.has(key)) {
      progress(`waiting for backup ${this.running.get(key)} of ${t.record.name} to finish`);
      await this.waitIdle(key);
    }
    if (opts.trigger !== 'restore' && (await restoreMarked(store, t.env.id, t.record.name))) {
      throw new SlipwayError('SLW_CONFLICT', `${t.record.name} is being restored in place (or a restore in place of it was interrupted): no backup of its data until that is over`, [{ path: 'name', message: 'a restore in place holds it' }]);
    }
    const id = randomUUID();
    this.running.set(key, id);
    try {
      const snapshot = backupMethod(t.record.kind) === 'snapshot';
      const type = snapshot ? 'snapshot' : (opts.type ?? (await this.dueType(t)));
      let b = await store.createBackup({ id, environmentId: t.env.id, accessory: t.record.name, type, trigger: opts.trigger, deploymentId: opts.deploymentId ?? null, triggeredBy: opts.triggeredBy ?? null });
      try {
        progress(`backup ${id} of ${t.record.name} (${type}) started`);
        if (snapshot) return await this.takeSnapshot(t, b, opts, progress);
        const c = await this.liveContainer(t);
        await this.prepareStanza(c, progress);
        const out = await mustSucceed(
          'pgbackrest backup',
          pgBackRest(this.ctx.runtime, c.id, [`--type=${type}`, '--log-level-console=detail', 'backup'], {
            timeoutMs: BACKUP_TIMEOUT_MS,
            onOutput: relay('backup', progress),
            onLocked: () => progress('another pgBackRest process holds the repository lock; waiting for it'),
          }),
        );
        const info = await this.info(c);
        const label = newBackupLabel(out) ?? info.sets.at(-1)?.label ?? null;
        const set = info.sets.find((s) => s.label === label);
        if (!label || !set) throw new SlipwayError('SLW_BACKUP_FAILED', 'pgbackrest finished but its repository does not list the new backup');
        progress(`backup ${label}: ${set.type}, ${formatMb(set.sizeBytes)} database, ${formatMb(set.storedBytes)} stored`);
        const mark = await this.markRestorePoint(c, t.record, id, progress);
        b = await store.updateBackup(id, {
          state: 'succeeded',
          type: set.type === 'full' ? 'full' : 'diff',
          label,
          restorePoint: mark.restorePoint,
          sizeBytes: set.sizeBytes,
          storedBytes: set.storedBytes,
          walStart: set.walStart,
          walStop: set.walStop,
          tableCounts: mark.counts,
          finishedAt: this.now().toISOString(),
        });
        progress(`backup ${id} succeeded${mark.counts ? ` (${Object.keys(mark.counts).length} tables counted at its restore point)` : ''}`);
        // Not before a restore in place: the set being restored must not be expired under it.
        if (opts.trigger !== 'restore') await this.expire(t, c, info.sets, progress).catch((err: unknown) => progress(`retention: ${errorMessage(err)} (the backups stay; retried after the next backup)`));
        return b;
      } catch (err) {
        const message = errorMessage(err);
        b = await store.updateBackup(id, { state: 'failed', error: message.slice(0, 4000), finishedAt: this.now().toISOString() });
        await this.event('backup.failed', t, b, message.split('\n')[0]!);
        throw new SlipwayError('SLW_BACKUP_FAILED', `backup of ${t.record.name} in ${t.project.name} ${t.env.name} failed: ${message}`, [{ path: 'backup', message: id }]);
      }
    } finally {
      this.running.delete(key);
      for (const wake of this.waiters.splice(0)) wake();
    }
  }

  private async takeSnapshot(t: Target, b: BackupRecord, opts: TakeBackupOptions, progress: (line: string) => void): Promise<BackupRecord> {
    const st = { project: t.project.name, env: t.env, record: t.record, policy: t.policy };
    const taken = await takeSnapshot(this.deps, st, b.id, async (line) => progress(line), progress);
    const done = await this.ctx.store.updateBackup(b.id, {
      state: 'succeeded',
      label: taken.label,
      sizeBytes: taken.sizeBytes,
      storedBytes: taken.files.reduce((a, f) => a + f.bytes, 0),
      tableCounts: taken.counts,
      files: taken.files,
      finishedAt: this.now().toISOString(),
    });
    progress(`backup ${b.id} succeeded (${taken.files.length} file(s), ${formatMb(done.storedBytes ?? 0)} stored)`);
    if (opts.trigger !== 'restore') await expireSnapshots(this.deps, st, progress).catch((err: unknown) => progress(`retention: ${errorMessage(err)} (the backups stay; retried after the next backup)`));
    return done;
  }

  private waitIdle(key: string): Promise<void> {
    return new Promise((resolve) => {
      if (!this.running.has(key)) resolve();
      else this.waiters.push(resolve);
    });
  }

  async verify(id: string, opts: { onProgress?: (line: string) => void; project?: string | null }): Promise<BackupView> {
    const { b, t } = await this.backupTarget(id, opts.project ?? null);
    // Two verifications of one backup would share its scratch volume.
    if (this.verifying.has(id)) throw new SlipwayError('SLW_CONFLICT', `backup ${id} is being verified already; wait for it (slipway backups ${t.record.name} --env ${t.env.name})`);
    this.verifying.add(id);
    const progress = opts.onProgress ?? (() => undefined);
    const done = await this.verifyOnce(id, () =>
      backupMethod(t.record.kind) === 'snapshot'
        ? recordVerification(this.ctx, b.id, progress, (pass, fail) => {
            progress(`verifying backup ${b.id} (${b.label}) of ${t.record.name}: its files, then a restore into a scratch container`);
            return verifySnapshot(this.deps, { project: t.project.name, env: t.env, record: t.record }, b, pass, fail, progress);
          })
        : verifyBackup(this.ctx, { project: t.project.name, env: t.env.name, record: t.record, policy: t.policy, backup: b }, progress),
    );
    if (done.verification?.state === 'failed') await this.event('backup.verify_failed', t, done, done.verification.error ?? 'a check failed');
    return backupView(done, t.env.name);
  }

  private async verifyOnce(id: string, run: () => Promise<BackupRecord>): Promise<BackupRecord> {
    try {
      return await run();
    } finally {
      this.verifying.delete(id);
    }
  }

  async restore(ref: AccessoryRef, opts: RestoreOptions): Promise<RestoreOutcome> {
    const t = await this.target(ref);
    let backup: BackupRecord | null = null;
    if (opts.backupId) {
      backup = (await this.backupTarget(opts.backupId, ref.project)).b;
      if (backup.environmentId !== t.env.id || backup.accessory !== t.record.name) {
        throw new SlipwayError('SLW_BAD_REQUEST', `backup ${backup.id} is a backup of ${backup.accessory} in another environment or of another accessory, not of ${t.record.name} in ${t.env.name}`, [{ path: 'backup', message: 'must be a backup of this accessory' }]);
      }
    }
    const deps = {
      ctx: this.ctx,
      accessories: this.deps.accessories,
      restartService: this.deps.restartService,
      takeSafetyBackup: (progress: (line: string) => void) => this.takeFor(t, { trigger: 'restore', triggeredBy: opts.triggeredBy ?? null, onProgress: progress }),
      now: () => this.now(),
    };
    if (backupMethod(t.record.kind) === 'snapshot') return restoreSnapshot({ ...deps, files: this.deps.files, jetstream: this.deps.jetstream }, { project: t.project.name, env: t.env, record: t.record }, backup, opts);
    return restoreAccessory(deps, { project: t.project.name, env: t.env, record: t.record, backup }, opts);
  }

  async list(project: string, env: string, q: { accessory?: string; limit: number; expired: boolean; deploymentId?: string }): Promise<BackupView[]> {
    const e = await this.environment(project, env);
    return (await this.ctx.store.listBackups({ environmentId: e.env.id, accessory: q.accessory, limit: q.limit, expired: q.expired, deploymentId: q.deploymentId })).map((b) => backupView(b, env));
  }

  async get(id: string, project?: string | null): Promise<BackupView> {
    const { b, env } = await this.backupWhere(id, project ?? null);
    return backupView(b, env.name);
  }

  async health(environmentId: number, accessory: string): Promise<BackupHealthView | null> {
    const record = await this.ctx.store.getAccessory(environmentId, accessory);
    if (!record?.config.backup) return null;
    return backupHealth(await this.ctx.store.listBackups({ environmentId, accessory, limit: 20 }));
  }

  async forget(project: string, env: { id: number; name: string }, accessory: string | null): Promise<number> {
    const gone = (await this.ctx.store.listBackups({ environmentId: env.id, accessory: accessory ?? undefined, limit: 100_000 })).filter((b) => b.state !== 'running');
    const at = this.now().toISOString();
    for (const b of gone) {
      await this.ctx.store.updateBackup(b.id, { expiredAt: at });
      if (b.type === 'snapshot') await this.deps.files?.remove({ project, env: env.name, accessory: b.accessory, backupId: b.id }).catch(() => undefined);
    }
    return gone.length;
  }

  /**
   * The deploy engine, before a release command: a backup of each Postgres accessory with
   * backups the service uses, linked to the deployment. Throws (the release command never runs) when one fails.
   */
  async beforeRelease(project: string, env: string, accessories: string[], deploymentId: string, log: (line: string) => Promise<void>): Promise<BackupView[]> {
    const out: BackupView[] = [];
    for (const accessory of accessories) {
      const t = await this.target({ project, env, accessory });
      let lines: Promise<void> = Promise.resolve();
      const b = await this.takeFor(t, { trigger: 'release', deploymentId, triggeredBy: `deployment ${deploymentId}`, onProgress: (line) => {
        lines = lines.then(() => log(line));
      } });
      await lines;
      out.push(backupView(b, env));
    }
    return out;
  }

  /** Which accessories of an environment a backup before a release applies to (Postgres with backups on). */
  async backedUp(environmentId: number, names: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const n of names) {
      const r = await this.ctx.store.getAccessory(environmentId, n);
      if (r?.kind === 'postgres' && r.config.backup) out.push(n);
    }
    return out;
  }

  /**
   * At boot: backups and verifications the previous process did not see finish are failed, and
   * scratch containers it left behind are removed.
   */
  async recoverInterrupted(): Promise<{ backups: number; verifications: number; scratch: number }> {
    const { store, runtime } = this.ctx;
    let verifications = 0;
    const interrupted = await store.listBackups({ states: ['running'], limit: 1000, expired: true });
    for (const b of interrupted) {
      const snapshot = b.type === 'snapshot';
      await store.updateBackup(b.id, { state: 'failed', error: `the control plane stopped during the backup: it is not counted as a backup (${snapshot ? 'its partial files were removed' : 'pgBackRest keeps or discards the partial copy itself'})`, finishedAt: this.now().toISOString() });
      if (snapshot) await this.removeSnapshotFiles(b);
    }
    for (const b of await store.listBackups({ states: ['succeeded'], limit: 1000 })) {
      if (b.verification?.state !== 'running') continue;
      verifications++;
      const at = this.now().toISOString();
      await store.updateBackup(b.id, { verification: { ...b.verification, state: 'failed', finishedAt: at, durationMs: Date.parse(at) - Date.parse(b.verification.startedAt), error: 'the control plane stopped during the verification; verify again with slipway backups verify' } });
    }
    let scratch = 0;
    for (const c of await runtime.listAccessories({})) {
      if (c.labels.spec !== SCRATCH_SPEC) continue;
      await runtime.stopAccessory(c.id, 5000).catch(() => undefined);
      if (/-verify-[0-9a-f]{8}$/.test(c.labels.accessory)) {
        for (const v of await runtime.listVolumes({ project: c.labels.project, env: c.labels.env, sizes: false })) {
          if (v.owner === c.labels.accessory) await runtime.removeVolume(v.name).catch(() => undefined);
        }
      }
      scratch++;
    }
    // A restore in place the previous process did not finish: said loudly; heal keeps the accessory stopped.
    for (const r of await store.listAccessories()) {
      const left = await interruptedRestore(store, r.environmentId, r.name);
      if (!left) continue;
      const where = await this.environmentOf(r.environmentId);
      const message = restoreInterrupted(where?.env.name ?? '?', r.name, left.since).message;
      this.ctx.logger.error({ project: where?.project.name, accessory: r.name }, message);
      if (where) await store.appendOutboxEvent({ type: 'accessory.failed', project: where.project.name, payload: { project: where.project.name, env: where.env.name, accessory: r.name, detail: message } }).catch(() => undefined);
    }
    if (interrupted.length || verifications || scratch) this.ctx.logger.warn({ backups: interrupted.length, verifications, scratch }, 'backups interrupted by the restart marked failed; scratch containers removed');
    return { backups: interrupted.length, verifications, scratch };
  }

  private async environmentOf(environmentId: number): Promise<{ project: Project; env: Environment } | null> {
    for (const p of await this.ctx.store.listProjects()) {
      const env = (await this.ctx.store.listEnvironments(p.id)).find((e) => e.id === environmentId);
      if (env) return { project: p, env };
    }
    return null;
  }

  /** The folder of a snapshot backup, wherever its environment is (an interrupted or expired one). */
  private async removeSnapshotFiles(b: BackupRecord): Promise<void> {
    const where = await this.environmentOf(b.environmentId);
    if (where && this.deps.files) await this.deps.files.remove({ project: where.project.name, env: where.env.name, accessory: b.accessory, backupId: b.id }).catch(() => undefined);
  }

  /**
   * The schedule (the control plane calls this every minute): each accessory whose cron came due
   * since its last scheduled backup is backed up, then verified (right after, or when
   * `verify.every` has passed since the last verification). One tick at a time.
   */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      for (const t of await this.scheduled()) {
        try {
          await this.tickOne(t);
        } catch (err) {
          this.ctx.logger.warn({ project: t.project.name, env: t.env.name, accessory: t.record.name, err: errorMessage(err) }, 'scheduled backup work failed');
        }
      }
    } finally {
      this.ticking = false;
    }
  }

  private async tickOne(t: Target): Promise<void> {
    const { store, logger } = this.ctx;
    const now = this.now();
    const recent = await store.listBackups({ environmentId: t.env.id, accessory: t.record.name, limit: 50, expired: true });
    const lastScheduled = recent.find((b) => b.trigger === 'schedule');
    const log = (line: string) => logger.info({ project: t.project.name, env: t.env.name, accessory: t.record.name }, line);
    if (t.policy.schedule) {
      const from = new Date(lastScheduled?.startedAt ?? t.record.createdAt);
      if (parseCron(t.policy.schedule).next(from).getTime() <= now.getTime() && !this.running.has(`${t.env.id}:${t.record.name}`)) {
        const b = await this.takeFor(t, { trigger: 'schedule', triggeredBy: 'schedule', onProgress: () => undefined }).catch(() => null);
        log(b ? `scheduled backup ${b.id} succeeded` : 'scheduled backup failed (see slipway backups)');
        if (b && t.policy.verify.everyMs === null) await this.verify(b.id, { onProgress: () => undefined });
        return;
      }
    }
    if (t.policy.verify.everyMs !== null) {
      const newest = recent.find((b) => b.state === 'succeeded' && !b.expiredAt);
      const lastVerified = recent.map((b) => b.verification?.startedAt).filter((v): v is string => Boolean(v)).sort().at(-1);
      if (newest && (!lastVerified || now.getTime() - Date.parse(lastVerified) >= t.policy.verify.everyMs)) {
        const v = await this.verify(newest.id, { onProgress: () => undefined });
        log(`verification of backup ${v.id}: ${v.verification?.state}`);
      }
    }
  }

  private async scheduled(): Promise<Target[]> {
    const out: Target[] = [];
    const names = new Map<number, { project: Project; env: Environment }>();
    for (const project of await this.ctx.store.listProjects()) {
      for (const env of await this.ctx.store.listEnvironments(project.id)) names.set(env.id, { project, env });
    }
    for (const record of await this.ctx.store.listAccessories()) {
      const where = names.get(record.environmentId);
      if (where && record.config.backup) out.push({ ...where, record, policy: record.config.backup });
    }
    return out;
  }

  /** Full when no full backup of ours finished within full_every; differential otherwise (pgBackRest makes it full when its repository has none). */
  private async dueType(t: Target): Promise<BackupType> {
    const recent = await this.ctx.store.listBackups({ environmentId: t.env.id, accessory: t.record.name, states: ['succeeded'], limit: 200 });
    const full = recent.find((b) => b.type === 'full');
    return full?.finishedAt && this.now().getTime() - Date.parse(full.finishedAt) < t.policy.fullEveryMs ? 'diff' : 'full';
  }

  /** The stanza exists (created on the first backup) and WAL archiving works. */
  private async prepareStanza(c: AccessoryContainer, progress: (line: string) => void): Promise<void> {
    const { runtime } = this.ctx;
    const version = await asPostgres(runtime, c.id, ['pgbackrest', 'version'], { timeoutMs: 30_000 }).catch((err: unknown) => ({ exitCode: null, output: errorMessage(err), timedOut: false }));
    if (version.exitCode !== 0) {
      throw new SlipwayError('SLW_BACKUP_FAILED', `the accessory's image has no pgBackRest (or no setpriv and postgres user): ${version.output.split('\n').slice(-2).join(' ')}; use the built-in image or one that meets docs/backups.md's image contract`);
    }
    await mustSucceed('pgbackrest stanza-create', pgBackRest(runtime, c.id, ['stanza-create'], { timeoutMs: 300_000 }));
    progress('repository ready; checking that WAL archiving works');
    await mustSucceed('pgbackrest check (WAL archiving)', pgBackRest(runtime, c.id, ['check'], { timeoutMs: 300_000 }));
  }

  private async info(c: AccessoryContainer): Promise<{ sets: PgBackRestSet[] }> {
    const out = await mustSucceed('pgbackrest info', asPostgres(this.ctx.runtime, c.id, ['pgbackrest', 'info', '--output=json', '--log-level-console=warn'], { timeoutMs: 120_000 }));
    return parsePgBackRestInfo(out, PGBACKREST_STANZA);
  }

  /**
   * The restore point after the backup, with every table's rows counted at it (writers wait for
   * the count under SHARE locks, up to 5 s each try), then archived so a restore can reach it.
   * Tables that stay locked: a restore point without counts (verification checks the rest).
   */
  private async markRestorePoint(c: AccessoryContainer, record: AccessoryRecord, id: string, progress: (line: string) => void): Promise<{ restorePoint: string; counts: Record<string, number> | null }> {
    const { runtime } = this.ctx;
    const restorePoint = `slipway-${id}`;
    const database = record.config.database ?? 'postgres';
    let rows: string[][] | null = null;
    for (let attempt = 1; attempt <= 3 && !rows; attempt++) {
      rows = await psqlRows(runtime, c.id, database, countAndMarkSql(restorePoint)).catch((err: unknown) => {
        progress(`counting rows: ${errorMessage(err).split('\n').slice(-1)[0]} (try ${attempt} of 3)`);
        return null;
      });
    }
    const counts = rows ? parseCounts(rows) : null;
    if (!rows) {
      rows = await psqlRows(runtime, c.id, database, `SELECT 'mark', pg_create_restore_point('${restorePoint}')::text; SELECT 'segment', pg_walfile_name(pg_current_wal_lsn()); SELECT pg_switch_wal() IS NOT NULL;`);
      progress('restore point made without row counts (tables stayed locked by other sessions)');
    }
    const segment = rows.find((r) => r[0] === 'segment')?.[1];
    if (segment) await this.waitArchived(c, segment, database);
    return { restorePoint, counts };
  }

  private async waitArchived(c: AccessoryContainer, segment: string, database: string): Promise<void> {
    const deadline = Date.now() + ARCHIVE_WAIT_MS;
    for (;;) {
      const [row] = await psqlRows(this.ctx.runtime, c.id, database, 'SELECT coalesce(last_archived_wal, \'\'), failed_count, coalesce(last_failed_wal, \'\') FROM pg_stat_archiver;');
      // Same timeline: WAL file names order as their positions.
      if (row && (row[0] ?? '') >= segment) return;
      if (Date.now() > deadline) throw new SlipwayError('SLW_BACKUP_FAILED', `WAL segment ${segment} was not archived within ${ARCHIVE_WAIT_MS / 1000} s (archiver: ${row?.[1] ?? '?'} failures, last failed ${row?.[2] || 'none'})`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** Retention: the full backups planBackupExpiry names go, with their differentials and the WAL only they needed. */
  private async expire(t: Target, c: AccessoryContainer, sets: PgBackRestSet[], progress: (line: string) => void): Promise<void> {
    const labels = planBackupExpiry(sets, t.policy.retention, this.now());
    for (const label of labels) {
      await mustSucceed(`pgbackrest expire --set=${label}`, pgBackRest(this.ctx.runtime, c.id, ['expire', `--set=${label}`], { timeoutMs: 600_000 }));
      const gone = await this.ctx.store.listBackups({ environmentId: t.env.id, accessory: t.record.name, limit: 1000 });
      for (const b of gone) {
        if (b.label === label || b.label?.startsWith(`${label}_`)) await this.ctx.store.updateBackup(b.id, { expiredAt: this.now().toISOString() });
      }
      progress(`retention: removed full backup ${label} and the backups that depend on it`);
    }
  }

  private async liveContainer(t: Target): Promise<AccessoryContainer> {
    const [c] = (await this.ctx.runtime.listAccessories({ project: t.project.name, env: t.env.name, accessory: t.record.name })).filter((x) => x.state === 'running');
    if (!c) throw new SlipwayError('SLW_BACKUP_FAILED', `accessory ${t.record.name} is not running (slipway accessories status --env ${t.env.name}); a backup reads the live server`);
    return c;
  }

  private async environment(project: string, env: string): Promise<{ project: Project; env: Environment }> {
    const p = await this.ctx.store.getProject(project);
    if (!p) throw new SlipwayError('SLW_NOT_FOUND', `project "${project}" does not exist; deploy it first with "slipway deploy"`);
    const e = await this.ctx.store.getEnvironment(p.id, env);
    if (!e) throw new SlipwayError('SLW_NOT_FOUND', `environment "${env}" does not exist in project "${project}"`);
    return { project: p, env: e };
  }

  private async target(ref: AccessoryRef): Promise<Target> {
    const { project, env } = await this.environment(ref.project, ref.env);
    const record = await this.ctx.store.getAccessory(env.id, ref.accessory);
    if (!record) {
      const known = (await this.ctx.store.listAccessories(env.id)).map((a) => a.name);
      throw new SlipwayError('SLW_NOT_FOUND', `accessory "${ref.accessory}" does not exist in ${ref.project} ${ref.env} (${known.length ? `accessories: ${known.join(', ')}` : 'it has no accessories'})`, [
        { path: 'name', message: 'must be an accessory of this environment' },
      ]);
    }
    if (!record.config.backup) {
      const why = record.kind === 'container' ? 'a container accessory is backed up only when its slipway.yml entry has backup:' : 'backup: off in slipway.yml, or an image other than the built-in one without backup:';
      throw new SlipwayError('SLW_BAD_REQUEST', `accessory "${record.name}" has backups off (${why}); turn them on and deploy first`, [{ path: 'name', message: 'has no backups configured' }]);
    }
    return { project, env, record, policy: record.config.backup };
  }

  /** A backup by id and where it belongs; `project`: the caller may only see this project's. */
  private async backupWhere(id: string, project: string | null): Promise<{ b: BackupRecord; project: Project; env: Environment }> {
    const b = await this.ctx.store.getBackup(id);
    const notFound = () => new SlipwayError('SLW_NOT_FOUND', `backup ${id} does not exist (slipway backups lists them)`, [{ path: 'id', message: 'no such backup' }]);
    if (!b) throw notFound();
    const where = await this.environmentOf(b.environmentId);
    if (!where || (project !== null && where.project.name !== project)) throw notFound();
    return { b, ...where };
  }

  /** A finished, unexpired backup with its accessory (verify, restore). */
  private async backupTarget(id: string, project: string | null): Promise<{ b: BackupRecord; t: Target }> {
    const { b, project: p, env } = await this.backupWhere(id, project);
    if (b.state !== 'succeeded' || !b.label) throw new SlipwayError('SLW_CONFLICT', `backup ${id} ${b.state === 'running' ? 'is still running' : 'failed'}: only a finished backup can be verified or restored`, [{ path: 'id', message: `is ${b.state}` }]);
    if (b.expiredAt) throw new SlipwayError('SLW_CONFLICT', `backup ${id} was removed from the repository by retention (${b.expiredAt})`, [{ path: 'id', message: 'expired' }]);
    return { b, t: await this.target({ project: p.name, env: env.name, accessory: b.accessory }) };
  }

  private async event(type: EventType, t: Target, b: BackupRecord, detail: string): Promise<void> {
    await this.ctx.store
      .appendOutboxEvent({ type, project: t.project.name, payload: { project: t.project.name, env: t.env.name, accessory: t.record.name, backup: b.id, detail } })
      .catch((err: unknown) => this.ctx.logger.error({ err: errorMessage(err), type }, 'could not record the backup event'));
  }
}

/** pgBackRest's console lines as progress: INFO lines as they are, file lines as every 10 %. */
function relay(what: string, progress: (line: string) => void): (line: string) => void {
  let shown = -10;
  return (line) => {
    const pct = progressPercent(line);
    if (pct !== null) {
      if (pct >= shown + 10) {
        shown = Math.floor(pct / 10) * 10;
        progress(`${what}: ${shown}%`);
      }
      return;
    }
    const info = / INFO: (.*)$/.exec(line)?.[1];
    if (info && !/command (begin|end)/.test(info)) progress(`${what}: ${info}`);
    else if (/ (WARN|ERROR): /.test(line)) progress(`${what}: ${line.replace(/^.* (WARN|ERROR): /, '$1: ')}`);
  };
}

const formatMb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;

