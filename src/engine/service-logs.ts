/**
 * A service's container logs: every replica's lines merged in time order, each tagged
 * with its replica and release; with `follow`, the stream keeps going across deploys.
 *
 * Following polls the runtime's replica list every second (rather than subscribing to
 * Docker events): one cheap labelled list call, nothing to resynchronise after an engine
 * restart or a missed event, and the same port call everything else uses. A replica seen
 * for the first time joins with every line it wrote since the stream started, so the
 * second it may wait to be noticed loses nothing; a replica whose stream ended (stopped,
 * retired by a deploy) leaves; one that runs again (a restart) rejoins after its last line.
 *
 * Secret values of the environment (every version: old replicas may still print older
 * ones) are masked unless the caller is allowed to `unmask`; the list is refreshed when
 * the environment gets a new secrets version, before the replicas that carry it join.
 * `grep` matches the text the client receives (masked unless unmasked), so a pattern can
 * never test what a masked secret looks like.
 */
import type { LogEntryView } from '../core/contract/logs';
import type { ServiceRef } from '../core/domain';
import { errorMessage } from '../core/errors';
import { fixedLogTime, LogCursorTracker, type LogCursor } from '../core/log-cursor';
import type { LogOptions, Replica, ReplicaFilter } from '../core/ports/runtime';
import type { EngineContext } from './engine-context';
import { LogMerger } from './log-merge';
import { openSecrets, secretMasker } from './secret-values';

const DEFAULT_TAIL = 100;

export interface ServiceLogQuery {
  release?: number;
  /** Last lines per replica; default 100, or all lines when `since` or `resumeAfter` is given. */
  tail?: number;
  follow?: boolean;
  /** ISO time: only lines written at or after it. */
  since?: string;
  grep?: (line: string) => boolean;
  /** Show secret values as printed (the API allows it to admin tokens only). */
  unmask?: boolean;
  /** A client reconnecting: lines it already received are not sent again. */
  resumeAfter?: LogCursor | null;
  signal?: AbortSignal;
}

/** An entry and its cursor (the SSE event id). */
export interface ServiceLogEvent {
  id: string;
  entry: LogEntryView;
}

export interface ServiceLogsOptions {
  /** How often a followed stream looks for replicas that started or stopped. */
  pollMs?: number;
  /** How long a followed line waits for older lines of other replicas (see LogMerger). */
  windowMs?: number;
}

interface ReplicaState {
  open: boolean;
  /** Time of the last line taken from it: a reopened stream starts after it. */
  lastAt: string | null;
}

export class ServiceLogs {
  private readonly pollMs: number;
  private readonly windowMs: number;

  constructor(
    private readonly ctx: EngineContext,
    opts: ServiceLogsOptions = {},
  ) {
    this.pollMs = opts.pollMs ?? 1000;
    this.windowMs = opts.windowMs ?? 200;
  }

  async *stream(ref: ServiceRef, q: ServiceLogQuery): AsyncGenerator<ServiceLogEvent> {
    const masker = q.unmask ? null : new SecretMasking(this.ctx, ref);
    await masker?.refresh();
    const cursor = new LogCursorTracker(q.resumeAfter ?? null);
    const since = latest(q.since, q.resumeAfter?.at);
    const window: LogOptions = { since, tail: q.resumeAfter ? 'all' : (q.tail ?? (since ? 'all' : DEFAULT_TAIL)) };
    const filter: ReplicaFilter = { project: ref.project, service: ref.service, env: ref.env, release: q.release };
    const lines = q.follow ? this.followed(filter, window, async () => masker?.refresh(), q.signal) : this.past(filter, window, q.signal);

    for await (const entry of lines) {
      const line = masker ? masker.mask(entry.line) : entry.line;
      if (q.grep && !q.grep(line)) continue;
      const id = cursor.next(entry.at);
      if (id === null) continue;
      yield { id, entry: { ...entry, line } };
    }
  }

  /** Lines already written, every replica's, sorted by time. */
  private async *past(filter: ReplicaFilter, window: LogOptions, signal?: AbortSignal): AsyncGenerator<LogEntryView> {
    const entries: LogEntryView[] = [];
    for (const r of await this.ctx.runtime.listReplicas(filter)) {
      for await (const e of this.ctx.runtime.replicaLogs(r, { ...window, signal })) entries.push(tag(e, r));
    }
    // Fixed-width times: text order is time order; the sort is stable within a replica.
    entries.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    yield* entries;
  }

  /**
   * Past lines, then new ones from every replica that runs now or starts later, until the
   * signal fires. `beforeJoin` runs before each look for new replicas (the masking refresh):
   * when it fails, no replica joins until it succeeds.
   */
  private async *followed(filter: ReplicaFilter, window: LogOptions, beforeJoin: () => Promise<void>, outer?: AbortSignal): AsyncGenerator<LogEntryView> {
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    outer?.addEventListener('abort', onAbort, { once: true });
    if (outer?.aborted) stop.abort();
    const startedAt = fixedLogTime(new Date().toISOString());
    const merger = new LogMerger<LogEntryView>({ windowMs: this.windowMs, timeOf: (e) => e.at, signal: stop.signal });
    const replicas = new Map<string, ReplicaState>();
    let listFailing = false;

    const open = (r: Replica, opts: LogOptions, state: ReplicaState) => {
      state.open = true;
      merger.add(this.replicaLines(r, { ...opts, follow: true, signal: stop.signal }, state), (err) => {
        state.open = false;
        if (err && !stop.signal.aborted) this.ctx.logger.warn({ replica: r.name, err: errorMessage(err) }, 'following logs: a replica stream failed; retrying');
      });
    };
    const poll = async (first: boolean) => {
      let listed: Replica[];
      try {
        if (!first) await beforeJoin();
        listed = await this.ctx.runtime.listReplicas(filter);
        listFailing = false;
      } catch (err) {
        if (first) throw err;
        if (!listFailing) this.ctx.logger.warn({ err: errorMessage(err) }, 'following logs: looking for new replicas failed; retrying');
        listFailing = true;
        return;
      }
      const seen = new Set<string>();
      for (const r of listed) {
        seen.add(r.id);
        const state = replicas.get(r.id);
        if (!state) {
          const s: ReplicaState = { open: false, lastAt: null };
          replicas.set(r.id, s);
          open(r, first ? window : { tail: 'all', since: latest(window.since, startedAt) }, s);
        } else if (!state.open && r.state === 'running') {
          open(r, { tail: 'all', since: state.lastAt ?? latest(window.since, startedAt) }, state);
        }
      }
      for (const [id, state] of replicas) if (!seen.has(id) && !state.open) replicas.delete(id);
    };

    let polling = false;
    let timer: ReturnType<typeof setInterval> | undefined;
    try {
      await poll(true);
      timer = setInterval(() => {
        if (polling || stop.signal.aborted) return;
        polling = true;
        void poll(false).finally(() => (polling = false));
      }, this.pollMs);
      yield* merger.lines();
    } finally {
      clearInterval(timer);
      stop.abort();
      outer?.removeEventListener('abort', onAbort);
    }
  }

  /** One replica's lines, tagged; on a reopened stream, only lines after the last one taken. */
  private async *replicaLines(r: Replica, opts: LogOptions, state: ReplicaState): AsyncGenerator<LogEntryView> {
    for await (const e of this.ctx.runtime.replicaLogs(r, opts)) {
      const entry = tag(e, r);
      if (state.lastAt !== null && entry.at <= state.lastAt) continue;
      state.lastAt = entry.at;
      yield entry;
    }
  }
}

/** The secret values (and accessory credentials) to mask, reloaded when either changes version. */
class SecretMasking {
  private version: string | null = null;
  mask: (text: string) => string = (t) => t;

  constructor(
    private readonly ctx: EngineContext,
    private readonly ref: ServiceRef,
  ) {}

  async refresh(): Promise<void> {
    const { store } = this.ctx;
    const project = await store.getProject(this.ref.project);
    const env = project ? await store.getEnvironment(project.id, this.ref.env) : null;
    if (!env) return;
    const latest = await store.getSecrets(env.id);
    const accessories = await store.listAccessories(env.id);
    const version = `${latest?.version ?? 0}|${accessories.map((a) => `${a.id}:${a.credentialsVersion}`).join(',')}`;
    if (version === this.version) return;
    const values: string[] = [];
    // Versions are numbered 1…latest without gaps (each change adds latest + 1).
    for (let v = 1; v <= (latest?.version ?? 0); v++) values.push(...Object.values(await openSecrets(this.ctx, env.id, v)));
    if (accessories.length > 0 && this.ctx.accessories) values.push(...(await this.ctx.accessories.credentialValues(env.id)));
    this.mask = secretMasker(values);
    this.version = version;
  }
}

function tag(e: { replica: string; stream: 'stdout' | 'stderr'; at: string; line: string }, r: Replica): LogEntryView {
  return { replica: e.replica, release: r.labels.release, stream: e.stream, at: fixedLogTime(e.at), line: e.line };
}

function latest(a: string | undefined, b: string | undefined): string | undefined {
  if (!a || !b) return a ?? b;
  return fixedLogTime(a) > fixedLogTime(b) ? a : b;
}
