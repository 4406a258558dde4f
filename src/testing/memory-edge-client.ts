/**
 * An in-memory EdgeClient (core/ports/edge-client.ts) for engine tests: a request goes through
 * MemoryEdge.route(host) as a client's would (404 for an unknown host, 503 when no server takes
 * it, refused when the edge is down), and the replica the edge picked answers: by default 200
 * "ok" when its MemoryRuntime container is healthy, 503 otherwise. `answer(fn)` scripts what
 * replicas answer (by path, release and replica), e.g. v2's /api/health answering 500 once it
 * has traffic. `calls` logs every request (`<host> <path> → <status> <replica>`).
 */
import type { EdgeClient, EdgeRequest } from '../core/ports/edge-client';
import type { SmokeAnswer } from '../core/smoke-checks';
import type { MemoryEdge } from './memory-edge';
import type { MemoryRuntime } from './memory-runtime';

export interface ScriptedAnswer {
  status: number;
  body?: string;
  durationMs?: number;
}

/** What a replica answers: `undefined` falls back to the default (200 "ok" when healthy, else 503). */
export type AnswerScript = (req: { path: string; host: string; release: number; replica: string }) => ScriptedAnswer | undefined;

export class MemoryEdgeClient implements EdgeClient {
  readonly calls: string[] = [];
  private script: AnswerScript = () => undefined;

  constructor(
    private readonly edge: MemoryEdge,
    private readonly runtime: MemoryRuntime,
  ) {}

  /** Replaces what replicas answer (default again with `() => undefined`). */
  answer(script: AnswerScript): void {
    this.script = script;
  }

  async get(req: EdgeRequest): Promise<SmokeAnswer> {
    // An answer arrives in a later turn of the event loop, as over a socket.
    await new Promise((resolve) => setImmediate(resolve));
    let routed;
    try {
      routed = this.edge.route(req.host);
    } catch (err) {
      this.calls.push(`${req.host} ${req.path} → refused`);
      return { status: null, body: '', durationMs: 0, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
    }
    if (routed.server === null) {
      this.calls.push(`${req.host} ${req.path} → ${routed.status}`);
      return { status: routed.status, body: routed.status === 404 ? 'no route' : routed.stopped ? `${routed.stopped} is stopped` : 'no server available', durationMs: 0, error: null };
    }
    const replica = (await this.runtime.listReplicas({})).find((r) => r.name === routed.server);
    const container = this.runtime.containerInfo(routed.server);
    const scripted = replica ? this.script({ path: req.path, host: req.host, release: replica.labels.release, replica: replica.name }) : undefined;
    const answer: SmokeAnswer = scripted
      ? { status: scripted.status, body: scripted.body ?? '', durationMs: scripted.durationMs ?? 1, error: null }
      : container?.state === 'running' && container.healthy
        ? { status: 200, body: 'ok', durationMs: 1, error: null }
        : { status: 503, body: 'unhealthy', durationMs: 1, error: null };
    this.calls.push(`${req.host} ${req.path} → ${answer.status} ${routed.server}`);
    return answer;
  }
}
