/**
 * Redis snapshots: the live server writes a fresh RDB of its whole dataset (`redis-cli --rdb`,
 * the replication path: consistent, and independent of the server's own save settings) into
 * its data volume, `redis-check-rdb` validates it and counts its keys, and the file is copied
 * to the backup folder through the volume. Verification loads the copy into a scratch server
 * and compares its keys with the count; a restore writes it into the data volume and rebuilds
 * the append-only file from it (with `appendonly yes`, Redis ignores an RDB it finds alone).
 */
import { SlipwayError } from '../core/errors';
import { mustSucceed } from './pg-in-container';
import { CheckFailed, credentialsOf, dataVolumeOf, openHelper, removeVolumesOf, runningContainer, verifyScratchName, type SnapshotMethod, type SnapshotSite } from './snapshot-method';

/** The RDB's name in the data volume while it is copied, and in the backup's tar. */
const RDB = '.slipway-backup.rdb';
const TAR = 'redis-rdb.tar';
const DIR = '/data';
const TIMEOUT_MS = 3_600_000;

/** `redis-check-rdb`'s summary: keys read and keys with an expiry. */
export function parseRdbCheck(output: string): { keys: number; expires: number } | null {
  if (!/RDB looks OK/.test(output)) return null;
  const keys = /\[info\] (\d+) keys read/.exec(output)?.[1];
  const expires = /\[info\] (\d+) expires/.exec(output)?.[1];
  return keys === undefined ? null : { keys: Number(keys), expires: Number(expires ?? 0) };
}

/** Keys per database summed from `INFO keyspace` (`db0:keys=3,expires=0,avg_ttl=0`). */
export function keyspaceKeys(info: string): number {
  let n = 0;
  for (const m of info.matchAll(/^db\d+:keys=(\d+)/gm)) n += Number(m[1]);
  return n;
}

async function check(s: SnapshotSite, containerId: string, file: string): Promise<{ keys: number; expires: number }> {
  const out = await mustSucceed('redis-check-rdb', s.ctx.runtime.exec(containerId, ['redis-check-rdb', file], { timeoutMs: TIMEOUT_MS }));
  const parsed = parseRdbCheck(out);
  if (!parsed) throw new SlipwayError('SLW_BACKUP_FAILED', `redis-check-rdb did not report the file sound: ${out.split('\n').slice(-3).join(' ')}`);
  return parsed;
}

/** A server on a unix socket only, loading `dbfilename` from /data; resolves once it answers (loading done). */
const LOCAL_SERVER = (socket: string, dbfile: string) =>
  `redis-server --port 0 --unixsocket ${socket} --dir ${DIR} --dbfilename ${dbfile} --appendonly no --save '' --daemonize yes --logfile /tmp/slipway-redis.log
for i in $(seq 1 36000); do [ "$(redis-cli -s ${socket} ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done
[ "$(redis-cli -s ${socket} ping)" = PONG ] || { tail -n 5 /tmp/slipway-redis.log; exit 1; }`;

export const redisSnapshots: SnapshotMethod = {
  async take(s, folder) {
    const live = await runningContainer(s);
    const creds = await credentialsOf(s);
    const port = String(s.record.config.port ?? 6379);
    const env = { REDISCLI_AUTH: creds.password ?? '', F: `${DIR}/${RDB}`, PORT: port };
    const { runtime } = s.ctx;
    s.progress('the server writes a snapshot of its dataset (redis-cli --rdb)');
    try {
      await mustSucceed('redis-cli --rdb', runtime.exec(live.id, ['sh', '-c', 'rm -f "$F"; redis-cli --no-auth-warning -h 127.0.0.1 -p "$PORT" --rdb "$F"'], { env, timeoutMs: TIMEOUT_MS }));
      const counted = await check(s, live.id, `${DIR}/${RDB}`);
      s.progress(`snapshot sound: ${counted.keys} keys (${counted.expires} with an expiry); copying it`);
      const tar = await runtime.exportVolume({ project: s.project, env: s.env, owner: s.record.name, volume: dataVolumeOf(s.record) }, { image: s.record.imageDigest, path: RDB });
      const file = await s.files.write(folder, TAR, tar);
      return { files: [file], counts: { keys: counted.keys }, sizeBytes: file.bytes };
    } finally {
      await runtime.exec(live.id, ['rm', '-f', `${DIR}/${RDB}`], { timeoutMs: 30_000 }).catch(() => undefined);
    }
  },

  async verify(s, backup, folder, pass) {
    const name = verifyScratchName(s.record.name, backup.id);
    const { runtime } = s.ctx;
    await runtime.importVolume({ project: s.project, env: s.env, owner: name, volume: 'data' }, s.files.read(folder, TAR), { image: s.record.imageDigest, replace: true });
    const helper = await openHelper(s, name, [{ volume: 'data', path: DIR, readOnly: false }]);
    try {
      const found = await check(s, helper.container.id, `${DIR}/${RDB}`).catch((err: unknown) => {
        throw new CheckFailed('redis-check-rdb', (err as Error).message);
      });
      const recorded = backup.tableCounts?.keys;
      if (recorded !== undefined && found.keys !== recorded) throw new CheckFailed('redis-check-rdb', `${found.keys} keys in the file, ${recorded} recorded when it was taken`);
      pass('redis-check-rdb', `checksum and structure sound, ${found.keys} keys`);
      const socket = '/tmp/slipway-verify.sock';
      await mustSucceed('starting a scratch redis on the copy', runtime.exec(helper.container.id, ['sh', '-c', LOCAL_SERVER(socket, RDB)], { timeoutMs: TIMEOUT_MS })).catch((err: unknown) => {
        throw new CheckFailed('load', (err as Error).message);
      });
      const info = await mustSucceed('redis-cli info keyspace', runtime.exec(helper.container.id, ['redis-cli', '-s', socket, 'info', 'keyspace'], { timeoutMs: 60_000 }));
      const loaded = keyspaceKeys(info);
      // Keys whose expiry passed since the backup are dropped on load: only those may be missing.
      if (loaded > found.keys || loaded < found.keys - found.expires) throw new CheckFailed('load', `the server loaded ${loaded} keys of ${found.keys} (${found.expires} with an expiry)`);
      pass('load', `a scratch server loaded it: ${loaded} keys`);
    } finally {
      await helper.close(true);
      await removeVolumesOf(s, name);
    }
  },

  write: {
    async volumes(s, _backup, folder, owner, replace) {
      const { runtime } = s.ctx;
      const volume = dataVolumeOf(s.record);
      await runtime.importVolume({ project: s.project, env: s.env, owner, volume }, s.files.read(folder, TAR), { image: s.record.imageDigest, replace });
      s.progress('rebuilding the append-only file from the snapshot');
      const helper = await openHelper(s, `${owner}-restore`, [{ volume, path: DIR, readOnly: false, owner }]);
      try {
        const socket = '/tmp/slipway-restore.sock';
        const script = [
          'set -e',
          `cd ${DIR}`,
          `rm -rf appendonlydir dump.rdb; mv ${RDB} dump.rdb`,
          LOCAL_SERVER(socket, 'dump.rdb'),
          `redis-cli -s ${socket} config set appendonly yes >/dev/null`,
          // The rewrite starts at once (or is scheduled): done when neither, and it succeeded.
          `until redis-cli -s ${socket} info persistence | grep -q '^aof_rewrite_in_progress:0' && redis-cli -s ${socket} info persistence | grep -q '^aof_rewrite_scheduled:0'; do sleep 0.2; done`,
          `redis-cli -s ${socket} info persistence | grep -q '^aof_last_bgrewrite_status:ok'`,
          `redis-cli -s ${socket} info keyspace | grep '^db' || true`,
          `redis-cli -s ${socket} shutdown >/dev/null 2>&1 || true`,
          `for i in $(seq 1 600); do [ -S ${socket} ] || break; sleep 0.1; done`,
          'ls appendonlydir/*.manifest >/dev/null',
        ].join('\n');
        const out = await mustSucceed('rebuilding the append-only file', runtime.exec(helper.container.id, ['sh', '-c', script], { timeoutMs: TIMEOUT_MS }));
        s.progress(`data written: ${keyspaceKeys(out)} keys`);
      } finally {
        await helper.close(false);
      }
    },
  },
};
