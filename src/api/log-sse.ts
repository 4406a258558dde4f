/**
 * Writes a service's log events as Server-Sent Events: `log` (id = the entry's cursor, so
 * the client resumes with Last-Event-ID), keep-alive comments while nothing happens (so
 * idle proxies keep the connection), `end` when a stream that does not follow is done, and
 * `error` when it broke (the client reconnects from its last id). Honours back-pressure: a
 * slow client pauses the stream instead of filling memory.
 */
import type { ServerResponse } from 'node:http';
import { errorMessage } from '../core/errors';

const KEEP_ALIVE_MS = 15_000;

/** Any log stream: each event's id (the resume point a client sends back) and its entry (service logs, accessory logs). */
export async function writeLogEvents(res: ServerResponse, events: AsyncIterable<{ id: string; entry: unknown }>, signal: AbortSignal): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  // Sent at once, so the client sees the stream open before the first line; browsers reconnect after 1 s.
  res.write('retry: 1000\n\n');
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
  let lines = 0;
  try {
    for await (const ev of events) {
      lines++;
      if (!res.write(`id: ${ev.id}\nevent: log\ndata: ${JSON.stringify(ev.entry)}\n\n`)) {
        await drainedOrClosed(res);
      }
      if (signal.aborted) break;
    }
    if (!signal.aborted) res.write(`event: end\ndata: ${JSON.stringify({ lines })}\n\n`);
  } catch (err) {
    if (!signal.aborted) res.write(`event: error\ndata: ${JSON.stringify({ error: errorMessage(err) })}\n\n`);
  } finally {
    clearInterval(keepAlive);
    res.end();
  }
}

function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
