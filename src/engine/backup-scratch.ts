/**
 * A Postgres data directory rebuilt from the repository: a container of the accessory's image
 * that mounts a data volume and the accessory's backup repository (read-only), restores a
 * pgBackRest set (to its restore point, a moment in time, or its end), then runs the server
 * until recovery has finished and promoted, so the directory is an ordinary cluster. Used by
 * verification (a scratch volume, removed after) and by restore (the new accessory's own volume).
 */
import { randomBytes } from 'node:crypto';
import { ACCESSORY_KINDS, POSTGRES_SHM_BYTES } from '../core/accessory-kinds';
import { BACKUP_VOLUME, PGBACKREST_REPO_PATH, postgresBackupEnv } from '../core/backup-config';
import type { AccessoryRecord } from '../core/domain';
import { errorMessage, SlipwayError } from '../core/errors';
import { progressPercent } from '../core/pgbackrest-output';
import type { AccessoryContainer, Runtime } from '../core/ports/runtime';
import { asPostgres, mustSucceed, psqlRows } from './pg-in-container';
import { placeContainer } from './placement';

const DATA_DIR = ACCESSORY_KINDS.postgres.dataDir;
const RESTORE_TIMEOUT_MS = 6 * 3_600_000;
const RECOVERY_TIMEOUT_MS = 3_600_000;
export const SCRATCH_SPEC = 'scratch';

export type RestoreTarget = { kind: 'point'; label: string; restorePoint: string | null } | { kind: 'time'; time: string; label?: string } | { kind: 'immediate'; label: string };

export interface ScratchSite {
  project: string;
  env: string;
  /** The accessory label (and owner of the data volume): `db-verify-1a2b3c4d`, `db-restored-202612071030`. */
  name: string;
  /** The accessory whose repository is read and whose image runs. */
  source: AccessoryRecord;
  /** In place: the data volume is the source's own (restored with --delta over what is there). */
  dataOwner?: string;
}

export interface Scratch {
  container: AccessoryContainer;
  /** The server runs on the local socket only (restored, recovered, promoted). */
  restore(target: RestoreTarget, progress: (line: string) => void): Promise<void>;
  /** psql in a database of the restored cluster. */
  rows(database: string, sql: string): Promise<string[][]>;
  /** pgBackRest's own check of a set in the repository (its output). */
  verifySet(label: string): Promise<string>;
  /** Stops the server and the container; `dropData`: removes the data volume too. Never throws. */
  close(dropData: boolean): Promise<void>;
}

/** The name of the source's volume at the data directory. */
export function dataVolume(source: AccessoryRecord): string {
  return source.config.volumes.find((v) => v.path === DATA_DIR)?.volume ?? 'data';
}

export async function openScratch(runtime: Runtime, site: ScratchSite): Promise<Scratch> {
  const container = await runtime.startAccessory({
    server: placeContainer(runtime),
    name: `${site.project}-${site.name}-${site.env}-${randomBytes(3).toString('hex')}`,
    image: site.source.imageDigest,
    env: { ...postgresBackupEnv(DATA_DIR), PGDATA: DATA_DIR },
    // The image's entrypoint runs any other command as is: the server is started by hand after the restore.
    command: ['sleep', 'infinity'],
    labels: { project: site.project, env: site.env, accessory: site.name, spec: SCRATCH_SPEC },
    shmBytes: POSTGRES_SHM_BYTES,
    volumes: [
      // The accessory's volume at the data directory (`data`, or one of the user's own there).
      { volume: dataVolume(site.source), path: DATA_DIR, readOnly: false, ...(site.dataOwner ? { owner: site.dataOwner } : {}) },
      { volume: BACKUP_VOLUME, path: PGBACKREST_REPO_PATH, readOnly: true, owner: site.source.name },
    ],
  });
  let serverUp = false;
  const pg = (argv: string[], timeoutMs: number, onOutput?: (l: string) => void) => asPostgres(runtime, container.id, argv, { timeoutMs, onOutput });
  return {
    container,
    async verifySet(label) {
      return mustSucceed('pgbackrest verify', pg(['pgbackrest', 'verify', `--set=${label}`, '--log-level-console=detail'], RESTORE_TIMEOUT_MS));
    },
    async restore(target, progress) {
      const args = ['pgbackrest', 'restore', '--log-level-console=detail', '--target-action=promote'];
      if (site.dataOwner) {
        args.push('--delta');
        // The accessory's container is stopped (replaceData); a server that crashed left its pid file, which pgBackRest takes for a running one.
        await pg(['rm', '-f', `${DATA_DIR}/postmaster.pid`], 30_000);
      }
      if (target.kind === 'time') args.push('--type=time', `--target=${target.time}`, ...(target.label ? [`--set=${target.label}`] : []));
      else if (target.kind === 'point' && target.restorePoint) args.push(`--set=${target.label}`, '--type=name', `--target=${target.restorePoint}`);
      else args.push(`--set=${target.label}`, '--type=immediate');
      let shown = -10;
      await mustSucceed(
        'pgbackrest restore',
        pg(args, RESTORE_TIMEOUT_MS, (line) => {
          const pct = progressPercent(line);
          if (pct !== null) {
            if (pct >= shown + 10) {
              shown = Math.floor(pct / 10) * 10;
              progress(`restore: ${shown}%`);
            }
          } else if (/ INFO: /.test(line) && !/command (begin|end)/.test(line)) progress(`restore: ${line.replace(/^.* INFO: /, '')}`);
        }),
      );
      progress('recovery: replaying WAL to the target, then promoting');
      // hot_standby off: no connections until recovery promoted, and recovery does not demand
      // max_connections & co. at least the source's (an accessory `command` may raise them).
      try {
        await mustSucceed('starting the restored server', pg(['pg_ctl', '-D', DATA_DIR, '-w', '-t', String(RECOVERY_TIMEOUT_MS / 1000), '-l', '/tmp/slipway-restore.log', '-o', "-c listen_addresses='' -c archive_mode=off -c hot_standby=off", 'start'], RECOVERY_TIMEOUT_MS + 30_000));
      } catch (err) {
        throw new SlipwayError('SLW_BACKUP_FAILED', `${errorMessage(err)}\n${await serverLog()}`);
      }
      serverUp = true;
      const deadline = Date.now() + RECOVERY_TIMEOUT_MS;
      for (;;) {
        let inRecovery: string[][] = [['t']];
        try {
          inRecovery = await psqlRows(runtime, container.id, 'postgres', 'SELECT pg_is_in_recovery();');
        } catch (err) {
          // Without hot standby nothing connects until recovery ends (pg_ctl -w returns once it reached standby): only a stopped server is a failure.
          const status = await pg(['pg_ctl', '-D', DATA_DIR, 'status'], 30_000);
          if (status.exitCode !== 0) throw new SlipwayError('SLW_BACKUP_FAILED', `the restored server stopped during recovery: ${errorMessage(err)}\n${await serverLog()}`);
        }
        if (inRecovery[0]?.[0] === 'f') break;
        if (Date.now() > deadline) throw new SlipwayError('SLW_BACKUP_FAILED', `recovery did not finish within ${RECOVERY_TIMEOUT_MS / 60_000} minutes\n${await serverLog()}`);
        await new Promise((r) => setTimeout(r, 500));
      }
      if (site.dataOwner) {
        // Promotion wrote the new timeline's history file while archiving was off here, so it was
        // never marked for archiving: marked now, the accessory's archiver pushes it when it starts,
        // and a later restore (to any moment) finds the timeline taken instead of reusing it.
        await mustSucceed('marking the timeline history for archiving', pg(['sh', '-c', `cd ${DATA_DIR}/pg_wal && for f in *.history; do [ -e "$f" ] || continue; [ -e "archive_status/$f.done" ] || touch "archive_status/$f.ready"; done`], 30_000));
      }
      progress('recovery: done; the restored server accepts writes');
    },
    rows(database, sql) {
      return psqlRows(runtime, container.id, database, sql);
    },
    async close(dropData) {
      try {
        if (serverUp) await pg(['pg_ctl', '-D', DATA_DIR, '-m', 'fast', '-w', '-t', '120', 'stop'], 150_000).catch(() => undefined);
        await runtime.stopAccessory(container.id, 10_000);
        if (dropData) {
          for (const v of await runtime.listVolumes({ project: site.project, env: site.env, sizes: false })) {
            if (v.owner === site.name) await runtime.removeVolume(v.name);
          }
        }
      } catch {
        // Leftovers are found by name at the next boot (backups.ts recoverInterrupted).
      }
    },
  };

  async function serverLog(): Promise<string> {
    const r = await runtime.exec(container.id, ['tail', '-n', '15', '/tmp/slipway-restore.log'], { timeoutMs: 10_000 }).catch(() => null);
    return r?.output ? `server log:\n${r.output}` : '';
  }
}
