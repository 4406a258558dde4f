/**
 * NATS JetStream: each stream (KV buckets and object stores included) snapshotted through the
 * JetStream API by the control plane, which reaches the server on the environment's network —
 * the server keeps serving meanwhile. The backup is one file per stream plus `streams.json`
 * (each stream's config and state, needed to restore it). Verification restores every stream
 * into a scratch server and compares its messages and last sequence with the snapshot's; a
 * restore loads them into the target server, replacing its streams in place.
 */
import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { accessoryCommand, accessoryContainerEnv, NATS_USER } from '../core/accessory-kinds';
import { errorMessage, SlipwayError } from '../core/errors';
import type { BackupFolder, StoredFile } from '../core/ports/backup-files';
import type { JetStreamAdmin, NatsServerRef, StreamSnapshotMeta, StreamState } from '../core/ports/jetstream-admin';
import type { AccessoryContainer } from '../core/ports/runtime';
import { CheckFailed, credentialsOf, dataVolumeOf, openHelper, removeVolumesOf, runningContainer, verifyScratchName, type SnapshotMethod, type SnapshotSite } from './snapshot-method';

const INDEX = 'streams.json';
const TIMEOUT_MS = 30_000;
const START_TIMEOUT_MS = 120_000;

interface StreamIndex {
  streams: Array<{ file: string; meta: StreamSnapshotMeta }>;
}

function admin(s: SnapshotSite): JetStreamAdmin {
  if (!s.jetstream) throw new SlipwayError('SLW_INTERNAL', 'nats backups need the JetStream admin driver; it is not configured');
  return s.jetstream;
}

async function serverOf(s: SnapshotSite, c: AccessoryContainer): Promise<NatsServerRef> {
  if (!c.address) throw new SlipwayError('SLW_BACKUP_FAILED', `accessory ${s.record.name} has no address on its network`);
  const creds = await credentialsOf(s);
  return { host: c.address, port: s.record.config.port ?? 4222, user: NATS_USER, password: creds.password ?? null, timeoutMs: TIMEOUT_MS };
}

async function readIndex(s: SnapshotSite, folder: BackupFolder): Promise<StreamIndex> {
  const chunks: Buffer[] = [];
  for await (const c of s.files.read(folder, INDEX)) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as StreamIndex;
}

/** Restores every stream of the backup into `server`; `replace`: its streams are deleted first (all of them: the result is the backup's state). */
async function load(s: SnapshotSite, folder: BackupFolder, server: NatsServerRef, replace: boolean): Promise<Array<{ meta: StreamSnapshotMeta; state: StreamState }>> {
  const js = admin(s);
  const index = await readIndex(s, folder);
  if (replace) {
    for (const name of await js.listStreams(server)) {
      await js.deleteStream(server, name);
      s.progress(`stream ${name} removed`);
    }
  }
  const out: Array<{ meta: StreamSnapshotMeta; state: StreamState }> = [];
  for (const { file, meta } of index.streams) {
    const state = await js.restore(server, meta, s.files.read(folder, file));
    s.progress(`stream ${meta.stream} restored: ${state.messages} messages, last sequence ${state.lastSeq}`);
    out.push({ meta, state });
  }
  return out;
}

/** A JetStream server answering the API: waited for after a start (its monitoring port says ready before accounts are). */
async function waitForApi(js: JetStreamAdmin, server: NatsServerRef): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      await js.listStreams({ ...server, timeoutMs: 2000 });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new SlipwayError('SLW_BACKUP_FAILED', `the scratch nats server did not answer within ${START_TIMEOUT_MS / 1000} s: ${errorMessage(err)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

export const natsSnapshots: SnapshotMethod = {
  async take(s, folder) {
    const js = admin(s);
    const server = await serverOf(s, await runningContainer(s));
    const names = await js.listStreams(server);
    s.progress(names.length ? `${names.length} stream(s): ${names.join(', ')}` : 'no streams: an empty backup');
    const files: StoredFile[] = [];
    const index: StreamIndex = { streams: [] };
    const counts: Record<string, number> = {};
    let size = 0;
    for (const [i, name] of names.entries()) {
      const file = `stream-${i}.snapshot`;
      const pipe = new PassThrough();
      const written = s.files.write(folder, file, pipe);
      // A failed write (disk full, folder unwritable) ends the snapshot: never an unhandled rejection, never a wait for a drain that cannot come.
      const writeFailed = written.then(
        () => new Promise<never>(() => undefined),
        (err: unknown) => Promise.reject(err instanceof Error ? err : new Error(String(err))),
      );
      writeFailed.catch(() => undefined);
      let meta: StreamSnapshotMeta;
      try {
        meta = await js.snapshot(server, name, async (chunk) => {
          if (!pipe.write(chunk)) await Promise.race([once(pipe, 'drain'), writeFailed]);
        });
        pipe.end();
      } catch (err) {
        pipe.destroy(err as Error);
        await written.catch(() => undefined);
        // A memory stream holds nothing that survives a restart of the server either: said, and skipped.
        if (/memory-storage stream has no snapshot/.test(errorMessage(err))) {
          s.progress(`stream ${name}: memory storage, not backed up (it does not outlive the server either)`);
          continue;
        }
        throw new SlipwayError('SLW_BACKUP_FAILED', `snapshot of stream ${name}: ${errorMessage(err)}`);
      }
      files.push(await written);
      index.streams.push({ file, meta });
      counts[`stream:${name}`] = meta.summary.messages;
      size += meta.summary.bytes;
      s.progress(`stream ${name}: ${meta.summary.messages} messages, ${meta.summary.consumers} consumer(s)`);
    }
    files.push(await s.files.write(folder, INDEX, Readable.from([Buffer.from(JSON.stringify(index))])));
    return { files, counts, sizeBytes: size };
  },

  async verify(s, backup, folder, pass) {
    const js = admin(s);
    const name = verifyScratchName(s.record.name, backup.id);
    const creds = await credentialsOf(s);
    // A server like the accessory (its image, command and password) on an empty scratch volume.
    const helper = await openHelper(s, name, [{ volume: dataVolumeOf(s.record), path: '/data', readOnly: false }], {
      command: accessoryCommand(s.record.config) ?? ['nats-server', '--jetstream', '--store_dir', '/data'],
      env: accessoryContainerEnv(s.record.config, creds),
    });
    try {
      const server = await serverOf(s, helper.container);
      await waitForApi(js, server);
      const restored = await load(s, folder, server, false).catch((err: unknown) => {
        throw new CheckFailed('restore streams', errorMessage(err));
      });
      for (const { meta, state } of restored) {
        const want = meta.summary;
        if (state.messages !== want.messages || state.lastSeq !== want.lastSeq) {
          throw new CheckFailed(`stream ${meta.stream}`, `restored ${state.messages} messages up to sequence ${state.lastSeq}; the snapshot held ${want.messages} up to ${want.lastSeq}`);
        }
        pass(`stream ${meta.stream}`, `${state.messages} messages, last sequence ${state.lastSeq}, ${state.consumers} consumer(s)`);
      }
      if (restored.length === 0) pass('streams', 'the backup holds no streams');
    } finally {
      await helper.close(true);
      await removeVolumesOf(s, name);
    }
  },

  write: {
    async running(s, _backup, folder, target, replace) {
      const js = admin(s);
      const server = await serverOf(s, target);
      await waitForApi(js, server);
      await load(s, folder, server, replace);
    },
  },
};
