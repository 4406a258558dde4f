/**
 * Server-sent events for one deployment: `log` events (id = log seq, so a client
 * resumes with Last-Event-ID), `state` events, and a final `end` event once the
 * deployment is terminal. Subscribes before replaying so nothing falls in between.
 */
import type { ServerResponse } from 'node:http';
import { isTerminal, type DeploymentLogLine } from '../core/domain';
import type { DeploymentEvent } from '../engine/deployment-events';
import type { ApiDeps } from './api-deps';

export async function streamDeploymentEvents(res: ServerResponse, id: string, afterSeq: number, deps: ApiDeps): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  let lastSeq = afterSeq;
  let closed = false;
  const pending: DeploymentEvent[] = [];
  let replaying = true;

  const writeLog = (line: DeploymentLogLine) => {
    if (line.seq <= lastSeq) return;
    lastSeq = line.seq;
    res.write(`id: ${line.seq}\nevent: log\ndata: ${JSON.stringify(line)}\n\n`);
  };
  const finish = async () => {
    if (closed) return;
    closed = true;
    for (const line of await deps.queries.logs(id, lastSeq)) writeLog(line);
    const d = await deps.queries.deployment(id);
    res.write(`event: end\ndata: ${JSON.stringify({ state: d.state, error: d.error, errorCode: d.errorCode })}\n\n`);
    res.end();
  };
  const handle = (e: DeploymentEvent) => {
    if (closed) return;
    if (replaying) return void pending.push(e);
    if (e.type === 'log') writeLog(e.line);
    else {
      res.write(`event: state\ndata: ${JSON.stringify({ state: e.state, error: e.error })}\n\n`);
      if (isTerminal(e.state)) void finish().catch(() => res.end());
    }
  };
  const unsubscribe = deps.engine.events.subscribe(id, handle);
  // A deployment can also end in another process's hands (recovery) — poll the store as a backstop.
  const poll = setInterval(() => {
    deps.queries.deployment(id).then(
      (d) => (isTerminal(d.state) ? finish() : undefined),
      () => undefined,
    );
  }, 2000);
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  res.on('close', () => {
    closed = true;
    unsubscribe();
    clearInterval(poll);
    clearInterval(heartbeat);
  });

  for (const line of await deps.queries.logs(id, lastSeq)) writeLog(line);
  replaying = false;
  for (const e of pending.splice(0)) handle(e);
  const d = await deps.queries.deployment(id);
  if (isTerminal(d.state)) await finish();
}
