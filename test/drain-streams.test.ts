/**
 * A stream that never ends by itself (SSE) on a replica being retired: the drain times out,
 * the replica is stopped (SIGTERM lets the app end the stream cleanly) and only then removed
 * from the edge, which HAProxy refuses while the stream is attached. The deploy neither
 * cuts the stream mid-event nor leaves the old server behind in maintenance.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject } from './support/test-project';
import { deployAndWait, deploymentLog } from './support/wait-deployment';

const cp = await ControlPlaneProcess.create('drain-streams');
const app = new TestProject('drainsse');
const variant = (version: string) => ({ version, replicas: 1, deploy: { drain_timeout: '1s', stop_timeout: '5s' } });

before(async () => {
  await cp.start();
  await cp.client.createBaseImage('node');
});

after(async () => {
  await cp.destroy();
});

interface StreamOutcome {
  status: number;
  release: string | undefined;
  events: Array<{ event: string; data: string }>;
  /** 'end': the response completed; otherwise the error that cut it. */
  ending: string;
}

/** Opens /events through the edge and collects its events until the response ends or breaks. */
function openEvents(onFirstTick: () => void): Promise<StreamOutcome> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: cp.httpPort, path: '/events', headers: { host: app.domain }, agent: false }, (res) => {
      const out: StreamOutcome = { status: res.statusCode ?? 0, release: res.headers['x-slipway-release'] as string | undefined, events: [], ending: '' };
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        pending += chunk;
        const blocks = pending.split('\n\n');
        pending = blocks.pop() ?? '';
        for (const block of blocks) {
          const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
          out.events.push({ event, data: /^data: (.*)$/m.exec(block)?.[1] ?? '' });
          if (out.events.length === 1) onFirstTick();
        }
      });
      res.on('end', () => resolve({ ...out, ending: 'end' }));
      res.on('error', (err) => resolve({ ...out, ending: err.message }));
      res.on('aborted', () => resolve({ ...out, ending: 'aborted' }));
    });
    req.on('error', (err) => resolve({ status: 0, release: undefined, events: [], ending: err.message }));
  });
}

test('a deploy ends an open SSE stream cleanly and removes the old server from the edge', async () => {
  const first = await deployAndWait(cp.client, app.write(variant('a')));
  assert.equal(first.state, 'succeeded', await deploymentLog(cp.client, first.id));
  const oldReplica = (await cp.client.status('drainsse')).services[0]!.replicas[0]!.name;

  let streaming!: () => void;
  const started = new Promise<void>((r) => (streaming = r));
  const stream = openEvents(streaming);
  await started;

  const second = await deployAndWait(cp.client, app.write(variant('b')));
  const log = await deploymentLog(cp.client, second.id);
  assert.equal(second.state, 'succeeded', log);
  assert.match(log, new RegExp(`replica ${oldReplica}: 1 connection\\(s\\) still open after drain_timeout \\(1000 ms\\); stopping it, then removing it from the edge`));
  assert.match(log, new RegExp(`retired replica ${oldReplica} \\(release v1\\)`));

  const s = await stream;
  assert.equal(s.status, 200);
  assert.equal(s.ending, 'end', 'the response completed: the app ended it, nothing cut it');
  assert.ok(s.events.filter((e) => e.event === 'tick').length >= 2, `ticks received: ${s.events.length}`);
  assert.deepEqual(s.events.at(-1), { event: 'end', data: JSON.stringify({ reason: 'shutting down', release: 'v1' }) });

  // The edge let the old server go at once (no retries, nothing left in maintenance).
  const serverLog = readFileSync(cp.logFile, 'utf8');
  assert.ok(serverLog.split('\n').some((l) => l.includes('"server removed from the edge"') && l.includes(oldReplica)), 'old server removed from the edge');
  assert.ok(!serverLog.includes('server left in maintenance'), 'no server left in maintenance');
  const status = (await cp.client.status('drainsse')).services[0]!;
  assert.deepEqual(status.replicas.map((r) => [r.release, r.edge]), [[2, 'ready']]);

  // A new stream is served by the new release.
  const fresh = await new Promise<{ release: string | undefined }>((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: cp.httpPort, path: '/events', headers: { host: app.domain }, agent: false }, (res) => {
      resolve({ release: res.headers['x-slipway-release'] as string | undefined });
      res.destroy();
    });
    req.on('error', reject);
  });
  assert.equal(fresh.release, 'v2');
});
