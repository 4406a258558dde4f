/**
 * Deployment events over SSE: a client that disconnects mid-deploy and reconnects with
 * Last-Event-ID receives every log event exactly once, then the end event.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject } from './support/test-project';
import { deployDirectory } from '../src/client/upload-contexts';

const cp = await ControlPlaneProcess.create('sse');
const app = new TestProject('sse');

before(async () => {
  await cp.start();
  await cp.client.createBaseImage('node');
});
after(() => cp.destroy());

interface SseEvent {
  id: number | null;
  event: string;
  data: string;
}

/** Reads events until `stop` says so (then aborts the connection) or the stream ends. */
async function readEvents(id: string, lastEventId: number | null, stop: (seen: SseEvent[]) => boolean): Promise<SseEvent[]> {
  const abort = new AbortController();
  const res = await fetch(`http://127.0.0.1:${cp.apiPort}/api/v1/deployments/${id}/events`, {
    headers: { authorization: `Bearer ${cp.token}`, accept: 'text/event-stream', ...(lastEventId !== null ? { 'last-event-id': String(lastEventId) } : {}) },
    signal: abort.signal,
  });
  assert.equal(res.status, 200);
  const seen: SseEvent[] = [];
  let buf = '';
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const ev: SseEvent = { id: null, event: 'message', data: '' };
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) ev.id = Number(line.slice(4));
          else if (line.startsWith('event: ')) ev.event = line.slice(7);
          else if (line.startsWith('data: ')) ev.data += line.slice(6);
        }
        if (block.startsWith(':')) continue;
        seen.push(ev);
        if (stop(seen)) {
          abort.abort();
          return seen;
        }
      }
    }
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err;
  }
  return seen;
}

test('a client that reconnects with Last-Event-ID gets every event exactly once', async () => {
  const { deployments } = await deployDirectory(cp.client, app.write({ version: 'sse', replicas: 2, health: { grace: '500ms' } }));
  const id = deployments[0]!.id;

  // First connection: leave after a few log lines, while the deployment still runs.
  const first = await readEvents(id, null, (seen) => seen.filter((e) => e.event === 'log').length >= 3);
  const stateAtDisconnect = (await cp.client.deployment(id)).deployment.state;
  assert.ok(!['succeeded', 'failed'].includes(stateAtDisconnect), `the deployment was still running at the disconnect (${stateAtDisconnect})`);
  const lastId = Math.max(...first.filter((e) => e.id !== null).map((e) => e.id!));

  // Second connection resumes after the last id seen and runs to the end event.
  const second = await readEvents(id, lastId, (seen) => seen.some((e) => e.event === 'end'));
  const end = second.find((e) => e.event === 'end');
  assert.ok(end, 'the stream ends with an end event');
  assert.equal(JSON.parse(end.data).state, 'succeeded');

  const ids = [...first, ...second].filter((e) => e.event === 'log').map((e) => e.id!);
  assert.equal(new Set(ids).size, ids.length, `no log event twice: ${ids.join(',')}`);
  const { lines } = await cp.client.deploymentLogs(id);
  assert.deepEqual(ids, lines.map((l) => l.seq), 'every log event, in order, across both connections');
});
