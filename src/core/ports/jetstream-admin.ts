/**
 * JetStreamAdmin port: what the backups engine needs to back up a NATS accessory (a
 * nats-server with JetStream) stream by stream, to verify a backup by restoring it into a
 * scratch server, and to restore. Implemented by src/drivers/nats over the JetStream API
 * (`$JS.API.STREAM.SNAPSHOT` / `RESTORE`); the control plane reaches the server from the host.
 *
 * A snapshot is the server's own archive of a stream (a tar compressed with S2: message
 * blocks plus, here, its consumers' configs and states): opaque bytes to keep verbatim.
 * Only file-storage streams have one; a memory stream's snapshot fails.
 */

/** Where the server is and who we are to it; one connection per call, so no state here. */
export interface NatsServerRef {
  host: string;
  port: number;
  /** null: the server has no authorization (a scratch server, tests). */
  user: string | null;
  /** Never echoed in an error message. */
  password: string | null;
  /** Bounds connecting, every API request, and the silence between two snapshot/restore chunks. */
  timeoutMs: number;
}

/** The counts a backup records and a verification compares (the server's StreamState, trimmed). */
export interface StreamState {
  messages: number;
  bytes: number;
  firstSeq: number;
  lastSeq: number;
  consumers: number;
}

/** What a snapshot needs to be restored: the stream's config and state as the server reported them at the snapshot (JSON as is). */
export interface StreamSnapshotMeta {
  /** The stream's name; a restore recreates it under this name (the server allows no rename). */
  stream: string;
  /** The server's StreamConfig at the snapshot, sent back verbatim on restore. */
  config: Record<string, unknown>;
  /** The server's StreamState at the snapshot, sent back verbatim on restore. */
  state: Record<string, unknown>;
  /** `state` trimmed, for the backup's record and to compare with what a restore reports. */
  summary: StreamState;
}

export interface JetStreamAdmin {
  /** Names of every stream of the account (KV buckets and object stores are streams too: KV_*, OBJ_*). Paged through the API. */
  listStreams(server: NatsServerRef): Promise<string[]>;
  /** The stream's current counts, to record next to a backup or check a restore; null: no such stream. */
  streamState(server: NatsServerRef, stream: string): Promise<StreamState | null>;
  /**
   * Snapshot of one stream (with its consumers), its chunks written to `sink` in order (awaited:
   * back-pressure), acked one by one. `onProgress` gets the bytes received so far. Rejects on a
   * missing or memory stream, a server error status, or `timeoutMs` without a chunk.
   */
  snapshot(server: NatsServerRef, stream: string, sink: (chunk: Uint8Array) => Promise<void>, onProgress?: (bytes: number) => void): Promise<StreamSnapshotMeta>;
  /**
   * Restores a snapshot taken by `snapshot` (the stream must not exist), its bytes in order
   * from `chunks` (any sizes; re-cut to fit the server's max payload). Returns the restored
   * stream's state. The server abandons a restore left idle ~5 s, so `chunks` must keep coming.
   */
  restore(server: NatsServerRef, meta: StreamSnapshotMeta, chunks: AsyncIterable<Uint8Array>, onProgress?: (bytes: number) => void): Promise<StreamState>;
  /** Removes a stream (to restore over it, or to clear a scratch server); false: there was none. */
  deleteStream(server: NatsServerRef, stream: string): Promise<boolean>;
}
