/**
 * Edge supervision: the edge is the one component every request goes through, so when it
 * dies (master or workers killed: the OOM killer, a crash) it is restarted at once, by the
 * control plane that watches it (`Edge.watch`: the master socket's close and a pid check
 * every 50 ms), not at the next poll. Before it takes a request, its servers are restored
 * from Slipway's own desired state (live releases × running replicas that answer their
 * health path: edge-desired-state.ts), written into the config it starts with, never
 * from HAProxy's memory (invariant 8). While it is down `/readyz` says `degraded` (edge);
 * each restart is logged and sent to the notification targets (`edge.restarted`). A restart
 * that fails is retried with backoff (250 ms doubling to 5 s). Stopping the supervisor stops
 * the watching only: the edge outlives the control plane.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { errorMessage } from '../core/errors';
import type { EdgeServerSpec, EdgeStartResult, EdgeWatch } from '../core/ports/edge';
import type { EngineContext } from './engine-context';
import { desiredEdgeState } from './edge-desired-state';

export interface EdgeSupervisorOptions {
  logger: Logger;
  /** The servers the edge should have now (default: desiredEdgeState's). */
  desired?: () => Promise<EdgeServerSpec[]>;
  /** First wait after a failed restart, doubled each time up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
}

export interface EdgeDown {
  reason: string;
  /** When the death was noticed (ms since the epoch). */
  since: number;
}

export class EdgeSupervisor {
  private watching: EdgeWatch | null = null;
  private downState: EdgeDown | null = null;
  private restarting: Promise<void> | null = null;
  private stopped = false;
  private readonly wake = new AbortController();
  /** Restarts done by this control plane (for logs and tests). */
  restarts = 0;

  constructor(
    private readonly ctx: EngineContext,
    private readonly opts: EdgeSupervisorOptions,
  ) {}

  /**
   * At boot: adopts the running edge, or starts it with the servers of the desired state (the
   * replicas still running after the control plane, or only the edge, went away), then watches it.
   */
  async start(): Promise<EdgeStartResult> {
    const { edge } = this.ctx;
    let result: EdgeStartResult;
    if ((await edge.status()).running) {
      result = { ...(await edge.ensureRunning()), started: false, servers: 0 };
    } else {
      result = await edge.start(await this.desiredServers());
    }
    if (result.started) this.opts.logger.info({ haproxyPid: result.pid, servers: result.servers }, 'started the edge with the servers of the desired state');
    this.arm();
    return result;
  }

  /** Null while the edge runs; why and since when while it is down (restarting). */
  down(): EdgeDown | null {
    return this.downState;
  }

  /** Stops watching (and a restart loop waiting to retry); never stops the edge. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake.abort();
    this.watching?.stop();
    this.watching = null;
    await this.restarting;
  }

  private arm(): void {
    if (this.stopped) return;
    this.watching = this.ctx.edge.watch((reason) => this.onDown(reason));
  }

  private onDown(reason: string): void {
    if (this.stopped || this.restarting) return;
    this.watching = null;
    this.downState = { reason, since: Date.now() };
    this.opts.logger.error({ reason }, 'the edge died: restarting it with the servers of the desired state');
    this.restarting = this.restartLoop(reason).finally(() => (this.restarting = null));
  }

  private async restartLoop(reason: string): Promise<void> {
    let delay = this.opts.retryMs ?? 250;
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        const t0 = Date.now();
        const servers = await this.desiredServers();
        const desiredMs = Date.now() - t0;
        const result = await this.ctx.edge.start(servers);
        const downMs = Date.now() - (this.downState?.since ?? Date.now());
        this.downState = null;
        if (result.started) {
          this.restarts++;
          this.opts.logger.warn({ reason, downMs, desiredMs, startMs: Date.now() - t0 - desiredMs, haproxyPid: result.pid, servers: result.servers, attempt }, 'edge restarted with its servers restored');
          await this.ctx.store
            .appendOutboxEvent({ type: 'edge.restarted', project: null, payload: { reason, downMs, servers: result.servers, pid: result.pid, attempt } })
            .catch((err: unknown) => this.opts.logger.error({ err: errorMessage(err) }, 'could not record the edge.restarted event'));
        } else {
          this.opts.logger.info({ reason, haproxyPid: result.pid }, 'the edge runs again (started by someone else): adopted');
        }
        this.arm();
        return;
      } catch (err) {
        this.opts.logger.error({ err: errorMessage(err), attempt, retryInMs: delay }, 'edge restart failed; retrying');
        await sleep(delay, undefined, { signal: this.wake.signal }).catch(() => undefined);
        delay = Math.min(delay * 2, this.opts.maxRetryMs ?? 5000);
      }
    }
  }

  /** An edge with no servers beats no edge: when the desired state cannot be read, the reconciler refills it later. */
  private async desiredServers(): Promise<EdgeServerSpec[]> {
    try {
      // The events-backed replica listing (no Docker round trip): each candidate is probed anyway.
      return this.opts.desired ? await this.opts.desired() : (await desiredEdgeState(this.ctx, { recentReplicas: true })).servers;
    } catch (err) {
      this.opts.logger.error({ err: errorMessage(err) }, 'could not read the desired edge state: starting the edge without servers');
      return [];
    }
  }
}
