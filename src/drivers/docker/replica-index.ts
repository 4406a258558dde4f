/**
 * A recent view of every replica for read-only callers (status, the dashboard, the stats
 * sampler): one Docker listing, kept until Docker's event stream reports a change to a
 * replica (start, die, health, network…) or it is `maxAgeMs` old. A listing costs dockerd
 * tens of milliseconds with many containers and is serialized inside it; status pages read
 * far more often than replicas change.
 *
 * It may lag behind Docker by the event's delivery (milliseconds), so the deploy engine never
 * uses it: decisions read the engine directly (`Runtime.listReplicas`). While the event stream
 * is not connected (dockerd restarting, an error), every read lists afresh, as before.
 */
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import type { Replica, ReplicaFilter } from '../../core/ports/runtime';
import { LABEL } from './labels';

export interface ReplicaIndexOptions {
  docker: Docker;
  /** Our base Docker network: its and the environment networks' (`<base>_…`) connect/disconnect events change replica addresses. */
  network: string;
  /** Every replica (no filter), as `listReplicas` reads them. */
  listAll: () => Promise<Replica[]>;
  logger: Logger;
  /** A listing is reused at most this long, events or not. */
  maxAgeMs?: number;
}

interface DockerEvent {
  Type?: string;
  Action?: string;
  Actor?: { Attributes?: Record<string, string> };
}

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;

/**
 * Whether a Docker event can change what a replica listing says. Container events carry the
 * container's labels: accessories and one-offs (other label namespaces) never count; a
 * replica's `oom` (then `die`) does, so an OOM kill shows at once.
 */
export function changesReplicas(e: DockerEvent, network: string): boolean {
  const attrs = e.Actor?.Attributes ?? {};
  // Health probes run as execs (exec_create/start/die) every few seconds: not a change of state.
  if (e.Type === 'container') return attrs[LABEL.project] !== undefined && !(e.Action ?? '').startsWith('exec_');
  if (e.Type === 'network') return (attrs.name === network || (attrs.name ?? '').startsWith(`${network}_`)) && attrs.container !== undefined;
  return false;
}

export function matchesFilter(r: Replica, f: ReplicaFilter): boolean {
  return (
    (f.server === undefined || r.server === f.server) &&
    (f.project === undefined || r.labels.project === f.project) &&
    (f.service === undefined || r.labels.service === f.service) &&
    (f.env === undefined || r.labels.env === f.env) &&
    (f.release === undefined || r.labels.release === f.release) &&
    (f.deployment === undefined || r.labels.deployment === f.deployment)
  );
}

export class ReplicaIndex {
  /** Bumped by every relevant event: a listing taken at an older generation is stale. */
  private generation = 0;
  private snapshot: { generation: number; at: number; replicas: Replica[] } | null = null;
  private inFlight: { generation: number; replicas: Promise<Replica[]> } | null = null;
  private stream: NodeJS.ReadableStream | null = null;
  private connected = false;
  private started = false;
  private closed = false;
  private retryMs = RETRY_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly maxAgeMs: number;

  constructor(private readonly opts: ReplicaIndexOptions) {
    this.maxAgeMs = opts.maxAgeMs ?? 30_000;
  }

  /** Replicas matching the filter, sorted by name, from the kept listing when it is current. */
  async list(filter: ReplicaFilter): Promise<Replica[]> {
    this.start();
    const s = this.snapshot;
    const current = this.connected && s !== null && s.generation === this.generation && Date.now() - s.at < this.maxAgeMs;
    const all = current ? s.replicas : await this.refresh();
    return all.filter((r) => matchesFilter(r, filter));
  }

  /** Whether reads are served from events-backed listings (false: each read lists). */
  get live(): boolean {
    return this.connected;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.disconnect();
  }

  private refresh(): Promise<Replica[]> {
    // A listing already under way answers too, unless an event came after it started.
    if (this.inFlight && this.inFlight.generation === this.generation) return this.inFlight.replicas;
    const generation = this.generation;
    const at = Date.now();
    const replicas = this.opts.listAll();
    const entry = { generation, replicas };
    this.inFlight = entry;
    replicas.then(
      (list) => {
        if (this.inFlight === entry) this.inFlight = null;
        if (this.connected && generation === this.generation) this.snapshot = { generation, at, replicas: list };
      },
      () => {
        if (this.inFlight === entry) this.inFlight = null;
      },
    );
    return replicas;
  }

  private start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.connect();
  }

  private connect(): void {
    if (this.closed) return;
    this.opts.docker.getEvents({ filters: { type: ['container', 'network'] } }).then(
      (stream) => {
        if (this.closed) {
          (stream as unknown as { destroy?: () => void }).destroy?.();
          return;
        }
        this.stream = stream;
        // A watcher alone must not keep the process alive (tests, CLI commands in-process).
        (stream as unknown as { socket?: { unref?: () => void } }).socket?.unref?.();
        this.connected = true;
        this.retryMs = RETRY_MIN_MS;
        this.invalidate(); // what happened while disconnected is unknown
        let pending = '';
        stream.on('data', (chunk: Buffer) => {
          pending += chunk.toString('utf8');
          const lines = pending.split('\n');
          pending = lines.pop() ?? '';
          for (const line of lines) this.onLine(line);
        });
        const lost = (why: string) => {
          if (this.stream !== stream) return;
          this.opts.logger.debug({ why }, 'docker event stream lost; replica reads list Docker until it is back');
          this.disconnect();
          this.scheduleReconnect();
        };
        stream.on('error', (err: Error) => lost(err.message));
        stream.on('end', () => lost('ended'));
        stream.on('close', () => lost('closed'));
      },
      (err: unknown) => {
        this.opts.logger.debug({ err }, 'docker event stream unavailable; replica reads list Docker');
        this.scheduleReconnect();
      },
    );
  }

  private onLine(line: string): void {
    if (line.trim() === '') return;
    try {
      if (changesReplicas(JSON.parse(line) as DockerEvent, this.opts.network)) this.invalidate();
    } catch {
      this.invalidate(); // unreadable: assume the worst
    }
  }

  private invalidate(): void {
    this.generation++;
    this.snapshot = null;
  }

  private disconnect(): void {
    const s = this.stream;
    this.stream = null;
    this.connected = false;
    this.invalidate();
    (s as unknown as { destroy?: () => void } | null)?.destroy?.();
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }
}
