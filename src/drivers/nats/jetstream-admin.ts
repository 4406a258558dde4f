/**
 * JetStreamAdmin over the raw JetStream API (request/reply on `$JS.API.*`): nats.js v2's
 * JetStreamManager has no snapshot/restore, and the rest is a handful of requests.
 *
 * Snapshot (nats-server jetstream_api.go, jsStreamSnapshotRequest/streamSnapshot): we
 * subscribe an inbox, then ask `$JS.API.STREAM.SNAPSHOT.<stream>` to deliver there; the reply
 * carries the stream's config and state. The server then pushes the archive as messages: each
 * full chunk has a reply subject we answer (empty) once the chunk is stored — that ack is its
 * flow control (a window of bytes in flight); the last, partial chunk may come without one.
 * The end is a message with an empty payload: bare on older servers (2.9), a `204` status
 * header on newer ones, and an error status (`408 No Interest`, `500 …`) with a description
 * when the server gave up.
 *
 * Restore (processStreamRestore): `$JS.API.STREAM.RESTORE.<stream>` with `{config, state}`
 * answers a deliver subject; every chunk is a request to it answered empty once staged
 * (`-ERR …` or an error JSON if not); an empty request ends it and is answered with the
 * stream-create response (stream info, or the restore's error). The server drops a restore
 * that sees no chunk for ~5 s.
 */
import { connect, createInbox, Empty, ErrorCode, type Msg, type NatsConnection, type Subscription } from 'nats';
import type { JetStreamAdmin, NatsServerRef, StreamSnapshotMeta, StreamState } from '../../core/ports/jetstream-admin';

const API = '$JS.API';
/** The server's default; well under the 1 MiB max payload, small enough for smooth progress. */
const CHUNK_SIZE = 128 * 1024;
/** JSStreamNotFoundErr: the one API error that is an answer (null / false), not a failure. */
const STREAM_NOT_FOUND = 10059;

interface ApiError {
  code: number;
  err_code?: number;
  description?: string;
}

/** Every JetStream API response: its payload fields, or `error`. */
interface ApiResponse {
  type?: string;
  error?: ApiError;
}

interface StreamInfoResponse extends ApiResponse {
  config?: Record<string, unknown>;
  state?: Record<string, unknown>;
}

interface NamesResponse extends ApiResponse {
  total?: number;
  streams?: string[] | null;
}

interface RestoreResponse extends ApiResponse {
  deliver_subject?: string;
}

export interface NatsJetStreamAdminOptions {
  /** Bytes per snapshot/restore chunk (the server clamps a snapshot's to 1 KiB..1 MiB). */
  chunkSize?: number;
  /** How long the server may take to build the stream from the staged snapshot; default max(10 × timeoutMs, 60 s). */
  finalizeTimeoutMs?: number;
}

export class NatsJetStreamAdmin implements JetStreamAdmin {
  constructor(private readonly options: NatsJetStreamAdminOptions = {}) {}

  async listStreams(server: NatsServerRef): Promise<string[]> {
    return session(server, async (nc) => {
      const names = new Set<string>();
      // Paged by the server (1,024 names a page); an empty page ends it even if streams vanished meanwhile.
      for (;;) {
        const res = await call<NamesResponse>(nc, server, `${API}.STREAM.NAMES`, { offset: names.size }, 'listing streams');
        throwIfError(server, 'listing streams', res);
        const page = res.streams ?? [];
        const before = names.size;
        for (const n of page) names.add(n);
        if (names.size === before || names.size >= (res.total ?? 0)) return [...names];
      }
    });
  }

  async streamState(server: NatsServerRef, stream: string): Promise<StreamState | null> {
    checkName(server, stream);
    return session(server, async (nc) => {
      const info = await streamInfo(nc, server, stream, `state of stream "${stream}"`);
      return info ? toState(info.state) : null;
    });
  }

  async deleteStream(server: NatsServerRef, stream: string): Promise<boolean> {
    checkName(server, stream);
    return session(server, async (nc) => {
      const what = `deleting stream "${stream}"`;
      const res = await call<ApiResponse>(nc, server, `${API}.STREAM.DELETE.${stream}`, undefined, what);
      if (res.error?.err_code === STREAM_NOT_FOUND) return false;
      throwIfError(server, what, res);
      return true;
    });
  }

  async snapshot(server: NatsServerRef, stream: string, sink: (chunk: Uint8Array) => Promise<void>, onProgress?: (bytes: number) => void): Promise<StreamSnapshotMeta> {
    checkName(server, stream);
    const what = `snapshot of stream "${stream}"`;
    return session(server, async (nc) => {
      const info = await streamInfo(nc, server, stream, what);
      if (!info) throw failure(server, `${what}: stream not found`);
      // The server would answer a bare "no impl": say what it means.
      if (info.config?.storage === 'memory') throw failure(server, `${what}: a memory-storage stream has no snapshot (only file storage does)`);
      const inbox = createInbox();
      // Subscribed before asking, so the server sees our interest when it starts pushing.
      const sub = nc.subscribe(inbox);
      try {
        const req = { deliver_subject: inbox, no_consumers: false, chunk_size: this.options.chunkSize ?? CHUNK_SIZE, jsck: false };
        const res = await call<StreamInfoResponse>(nc, server, `${API}.STREAM.SNAPSHOT.${stream}`, req, what);
        throwIfError(server, what, res);
        const meta = toMeta(stream, res);
        await receiveSnapshot(sub, server, what, sink, onProgress);
        return meta;
      } finally {
        sub.unsubscribe();
      }
    });
  }

  async restore(server: NatsServerRef, meta: StreamSnapshotMeta, chunks: AsyncIterable<Uint8Array>, onProgress?: (bytes: number) => void): Promise<StreamState> {
    const stream = meta.stream;
    checkName(server, stream);
    const what = `restore of stream "${stream}"`;
    // The server allows no rename: the archive's files carry the stream's name.
    if (typeof meta.config.name === 'string' && meta.config.name !== stream) throw failure(server, `${what}: the snapshot is of stream "${meta.config.name}"`);
    return session(server, async (nc) => {
      if (await streamInfo(nc, server, stream, what)) throw failure(server, `${what}: the stream already exists (delete it first: a restore creates it)`);
      const res = await call<RestoreResponse>(nc, server, `${API}.STREAM.RESTORE.${stream}`, { config: { ...meta.config, name: stream }, state: meta.state }, what);
      throwIfError(server, what, res);
      if (!res.deliver_subject) throw failure(server, `${what}: the server named no subject to send the snapshot to`);
      const size = Math.min(this.options.chunkSize ?? CHUNK_SIZE, nc.info?.max_payload ?? CHUNK_SIZE);
      await sendSnapshot(nc, server, what, res.deliver_subject, rechunk(chunks, size), onProgress);
      const finalizeMs = this.options.finalizeTimeoutMs ?? Math.max(10 * server.timeoutMs, 60_000);
      const done = await call<StreamInfoResponse>(nc, server, res.deliver_subject, undefined, `${what} (building the stream)`, finalizeMs);
      throwIfError(server, what, done);
      return toState(done.state);
    });
  }
}

/** Reads the pushed chunks into `sink` until the end marker; fails on an error status or a stall. */
async function receiveSnapshot(sub: Subscription, server: NatsServerRef, what: string, sink: (chunk: Uint8Array) => Promise<void>, onProgress?: (bytes: number) => void): Promise<void> {
  const messages = sub[Symbol.asyncIterator]();
  let bytes = 0;
  for (;;) {
    const next = await withTimeout(messages.next(), server.timeoutMs, () => failure(server, `${what}: stalled, no chunk for ${server.timeoutMs} ms after ${bytes} bytes`));
    if (next.done) throw failure(server, `${what}: the connection ended before the snapshot did (after ${bytes} bytes)`);
    const m = next.value;
    if (m.data.length === 0) return endOfSnapshot(m, server, what);
    // A copy: the message's bytes are a view into the connection's read buffer.
    await sink(m.data.slice());
    bytes += m.data.length;
    onProgress?.(bytes);
    // Acked only once stored: the ack is the server's flow control.
    if (m.reply) m.respond(Empty);
  }
}

/** The empty-payload message ends the snapshot: fine bare (2.9) or `204`; any other status is the server giving up. */
function endOfSnapshot(m: Msg, server: NatsServerRef, what: string): void {
  const code = m.headers?.code ?? 0;
  if (code === 0 || code === 204) return;
  throw failure(server, `${what}: the server ended it with ${code} ${m.headers?.description || 'error'}`);
}

/** Sends each chunk as a request and waits for the server to have staged it (its reply). */
async function sendSnapshot(nc: NatsConnection, server: NatsServerRef, what: string, subject: string, pieces: AsyncIterable<Uint8Array>, onProgress?: (bytes: number) => void): Promise<void> {
  let bytes = 0;
  for await (const piece of pieces) {
    let reply: Msg;
    try {
      reply = await nc.request(subject, piece, { timeout: server.timeoutMs });
    } catch (err) {
      // No responders: the server dropped the restore (it gives up after ~5 s without a chunk).
      const cause = isNatsCode(err, ErrorCode.NoResponders) ? 'the server abandoned the restore (idle too long, or it failed)' : requestFailure(err, server.timeoutMs);
      throw failure(server, `${what}: sending the snapshot failed after ${bytes} bytes: ${cause}`);
    }
    chunkAccepted(reply, server, what);
    bytes += piece.length;
    onProgress?.(bytes);
  }
}

/** A staged chunk is answered empty; `-ERR '…'` (storage) or an API error JSON (limits) is a failure. */
function chunkAccepted(reply: Msg, server: NatsServerRef, what: string): void {
  if (reply.data.length === 0) return;
  const text = new TextDecoder().decode(reply.data);
  if (text.startsWith('-ERR')) throw failure(server, `${what}: ${text.slice(4).trim().replace(/^'|'$/g, '')}`);
  throwIfError(server, what, parse<ApiResponse>(text, server, what));
}

/** Re-cuts the caller's chunks (file reads, any size) to the restore chunk size: fewer round trips, never past max payload. */
async function* rechunk(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  let pending: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of source) {
    pending.push(chunk);
    length += chunk.length;
    while (length >= size) {
      const all = concat(pending, length);
      yield all.subarray(0, size);
      pending = [all.subarray(size)];
      length -= size;
    }
  }
  if (length > 0) yield concat(pending, length);
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const [only] = parts;
  if (parts.length === 1 && only) return only;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Connect, work, drain (close if the work failed: nothing left worth flushing). */
async function session<T>(server: NatsServerRef, work: (nc: NatsConnection) => Promise<T>): Promise<T> {
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: `${server.host.includes(':') ? `[${server.host}]` : server.host}:${server.port}`,
      ...(server.user !== null ? { user: server.user, pass: server.password ?? '' } : {}),
      timeout: server.timeoutMs,
      reconnect: false,
      name: 'slipway-backups',
    });
  } catch (err) {
    throw failure(server, `cannot connect: ${describe(err)}`);
  }
  try {
    const result = await work(nc);
    // Flushes the last ack; the work is done whatever happens to it.
    await nc.drain().catch(() => undefined);
    return result;
  } finally {
    if (!nc.isClosed()) await nc.close().catch(() => undefined);
  }
}

/** The stream's info; null when there is no such stream. */
async function streamInfo(nc: NatsConnection, server: NatsServerRef, stream: string, what: string): Promise<StreamInfoResponse | null> {
  const res = await call<StreamInfoResponse>(nc, server, `${API}.STREAM.INFO.${stream}`, undefined, what);
  if (res.error?.err_code === STREAM_NOT_FOUND) return null;
  throwIfError(server, what, res);
  return res;
}

/** One API request; the parsed response (which may hold an `error`). */
async function call<T extends ApiResponse>(nc: NatsConnection, server: NatsServerRef, subject: string, body: unknown, what: string, timeoutMs = server.timeoutMs): Promise<T> {
  const payload = body === undefined ? Empty : new TextEncoder().encode(JSON.stringify(body));
  let reply: Msg;
  try {
    reply = await nc.request(subject, payload, { timeout: timeoutMs });
  } catch (err) {
    throw failure(server, `${what}: ${requestFailure(err, timeoutMs)}`);
  }
  return parse<T>(new TextDecoder().decode(reply.data), server, what);
}

function parse<T>(text: string, server: NatsServerRef, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw failure(server, `${what}: unexpected reply ${JSON.stringify(text.slice(0, 200))}`);
  }
}

function throwIfError(server: NatsServerRef, what: string, res: ApiResponse): void {
  const e = res.error;
  if (!e) return;
  const codes = e.err_code ? `${e.code}/${e.err_code}` : `${e.code}`;
  throw failure(server, `${what}: ${e.description ?? 'error'} (${codes})`);
}

function requestFailure(err: unknown, timeoutMs: number): string {
  if (isNatsCode(err, ErrorCode.Timeout)) return `no reply within ${timeoutMs} ms`;
  if (isNatsCode(err, ErrorCode.NoResponders)) return 'no responders (is JetStream enabled on the server?)';
  return describe(err);
}

function isNatsCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

function describe(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
}

/** An Error naming the server, with the password blanked should anything have echoed it. */
function failure(server: NatsServerRef, message: string): Error {
  const text = `NATS ${server.host}:${server.port}: ${message}`;
  return new Error(server.password ? text.split(server.password).join('***') : text);
}

/** A stream name is a subject token: a dot or wildcard would address another API subject. */
function checkName(server: NatsServerRef, stream: string): void {
  if (!/^[^\s.*>/\\]+$/.test(stream)) throw failure(server, `invalid stream name ${JSON.stringify(stream)}`);
}

function toMeta(stream: string, res: StreamInfoResponse): StreamSnapshotMeta {
  const config = res.config ?? {};
  const state = res.state ?? {};
  return { stream, config, state, summary: toState(state) };
}

function toState(raw: Record<string, unknown> | undefined): StreamState {
  const n = (k: string): number => (typeof raw?.[k] === 'number' ? (raw[k] as number) : 0);
  return { messages: n('messages'), bytes: n('bytes'), firstSeq: n('first_seq'), lastSeq: n('last_seq'), consumers: n('consumer_count') };
}

/** Rejects with `onTimeout()` unless `p` settles within `ms`; the timer never outlives it. */
async function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([p, expired]);
  } finally {
    clearTimeout(timer);
  }
}
