/**
 * `slipway logs` end to end against real Docker and HAProxy: one `logs -f` (the real CLI)
 * keeps streaming across a deploy, with lines of both releases' replicas prefixed by
 * release and replica and JSON app logs pretty-printed; the request ID a client sends
 * through the edge shows up in the app's log line; --grep and --since filter on the server;
 * an SSE client that reconnects with Last-Event-ID gets no line twice and loses none; a
 * secret the app prints is masked for a read token, shown raw to an admin who asks
 * (--unmask, audited), and never written to the control plane's own log.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import type { LogEntryView } from '../src/client/api-client';
import { fixedLogTime } from '../src/core/log-cursor';
import { cliFor, startCli, type RunningCli } from './support/cli';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject } from './support/test-project';
import { deployAndWait } from './support/wait-deployment';

const cp = await ControlPlaneProcess.create('logs-follow');
const app = new TestProject('logsf');
const cli = cliFor(cp, app.dir);
const SECRET = `printed-secret-${randomUUID()}`;
const variant = (version: string) => ({ version, replicas: 2, env: { LOG_REQUESTS: '1', ECHO_ENV: 'API_KEY' } });
/** Every CLI output of this run, searched for the secret at the end. */
const outputs: string[] = [];
let follower: RunningCli | null = null;
/** Between the v1 requests and the v2 deploy: --since starts here. */
let betweenReleases = '';

/** GET / through the edge; returns the request ID the app saw (the one sent, or the edge's). */
function viaEdge(requestId?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: app.domain, ...(requestId ? { 'x-request-id': requestId } : {}) };
    http
      .get({ host: '127.0.0.1', port: cp.httpPort, path: '/', headers, agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => (res.statusCode === 200 ? resolve((JSON.parse(body) as { requestId: string }).requestId) : reject(new Error(`HTTP ${res.statusCode}: ${body}`))));
      })
      .on('error', reject);
  });
}

async function waitFor(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n--- logs -f output ---\n${follower?.stdout().slice(-3000)}\n${follower?.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `v<release> <6 hex> | …` lines of the pretty output, by release → replica ids. */
function replicasByRelease(out: string): Map<number, Set<string>> {
  const by = new Map<number, Set<string>>();
  for (const m of out.matchAll(/^v(\d+) ([0-9a-f]{6}) \| /gm)) {
    const set = by.get(Number(m[1])) ?? new Set<string>();
    set.add(m[2]!);
    by.set(Number(m[1]), set);
  }
  return by;
}

before(async () => {
  await cp.start();
  await cp.client.createBaseImage('node');
  await cp.client.changeSecrets('logsf', 'production', { set: { API_KEY: SECRET }, deploy: false });
  const d = await deployAndWait(cp.client, app.write(variant('1')));
  assert.equal(d.state, 'succeeded', d.error ?? '');
});
after(async () => {
  await follower?.stop();
  await cp.destroy();
});

test('logs -f keeps streaming across a deploy: both releases, every replica, prefixed; JSON lines pretty-printed with the request ID', async () => {
  follower = startCli(cp, app.dir, ['logs', 'web', '-f', '--tail', '20']);
  // The two v1 replicas' startup lines come from the tail.
  await waitFor('both v1 replicas in the tail', () => (replicasByRelease(follower!.stdout()).get(1)?.size ?? 0) === 2);

  const sent = ['v1-a', 'v1-b', 'v1-c', 'v1-d'].map((s) => `req-${s}-${randomUUID()}`);
  for (const id of sent) assert.equal(await viaEdge(id), id, 'the app sees the X-Request-ID the client sent');
  const edgeMade = await viaEdge();
  assert.match(edgeMade, /^[0-9a-f-]{36}$/, 'the edge gives a request without one a uuid');
  await waitFor('the v1 request lines', () => [...sent, edgeMade].every((id) => follower!.stdout().includes(`requestId=${id}`)));
  betweenReleases = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 50));

  const d = await deployAndWait(cp.client, app.write(variant('2')));
  assert.equal(d.state, 'succeeded', d.error ?? '');
  const sent2 = ['v2-a', 'v2-b', 'v2-c', 'v2-d'].map((s) => `req-${s}-${randomUUID()}`);
  for (const id of sent2) await viaEdge(id);
  await waitFor('the v2 request lines', () => sent2.every((id) => follower!.stdout().includes(`requestId=${id}`)));
  await waitFor('the v1 replicas stopping', () => (follower!.stdout().match(/^v1 [0-9a-f]{6} \| stopped cleanly$/gm) ?? []).length === 2);

  const code = await follower.stop();
  const out = follower.stdout();
  outputs.push(out, follower.stderr());
  follower = null;
  assert.ok(code === 0 || code === 130 || code === 'SIGINT', `exit after Ctrl-C: ${code}`);

  const by = replicasByRelease(out);
  assert.equal(by.get(1)?.size, 2, 'lines of both v1 replicas');
  assert.equal(by.get(2)?.size, 2, 'lines of both v2 replicas, which started after the stream did');
  // v2 replicas joined with their first lines (written before the stream noticed them).
  assert.equal((out.match(/^v2 [0-9a-f]{6} \| hello 2 \(release v2\) listening on :3000$/gm) ?? []).length, 2, out);
  // A JSON app log line: time, level, message, then the fields (request ID included).
  const line = out.split('\n').find((l) => l.includes(`requestId=${sent2[0]}`))!;
  assert.match(line, new RegExp(`^v2 [0-9a-f]{6} \\| \\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  GET / requestId=${sent2[0]} status=200 ms=[\\d.]+ release=v2$`));
  for (const id of [...sent, ...sent2]) assert.equal(out.split(`requestId=${id}`).length - 1, 1, `${id} exactly once`);
  assert.match(out, /^v2 [0-9a-f]{6} \| API_KEY=\[secret\]$/m, 'the secret the app prints is masked by default');

  // Lines leave in time order, as close as live streams allow: the v1 stop lines come before the v2 requests.
  assert.ok(out.lastIndexOf('stopped cleanly') < out.indexOf(`requestId=${sent2[0]}`));
});

test('--grep and --since are applied by the server; bad values name the field', async () => {
  const grep = await cli('logs', 'web', '--grep', 'requestId":"req-v2-');
  outputs.push(grep.stdout, grep.stderr);
  assert.equal(grep.code, 0, grep.stderr);
  const lines = grep.stdout.trim().split('\n');
  assert.equal(lines.length, 4, grep.stdout);
  assert.ok(lines.every((l) => /requestId=req-v2-/.test(l)), grep.stdout);

  const since = await cli('logs', 'web', '--since', betweenReleases, '--json');
  outputs.push(since.stdout, since.stderr);
  assert.equal(since.code, 0, since.stderr);
  const entries = since.stdout.trim().split('\n').map((l) => JSON.parse(l) as LogEntryView);
  assert.ok(entries.length >= 6, since.stdout);
  assert.ok(entries.every((e) => e.release === 2 && e.at >= fixedLogTime(betweenReleases)), 'only lines written since then');
  assert.ok(entries.some((e) => e.line.includes('"requestId":"req-v2-')) && !since.stdout.includes('req-v1-'));
  const times = entries.map((e) => e.at);
  assert.deepEqual([...times].sort(), times, 'merged in time order');
  assert.ok(entries.every((e) => /^logsf-web-production-v2-[0-9a-f]{6}$/.test(e.replica)));

  const recent = await cli('logs', 'web', '--since', '10m', '--release', 'v2', '--grep', '(?i)LISTENING');
  assert.equal(recent.code, 0, recent.stderr);
  assert.equal(recent.stdout.trim().split('\n').length, 2, recent.stdout);
  const none = await cli('logs', 'web', '--release', '1');
  assert.equal(none.code, 0, none.stderr);
  assert.equal(none.stdout, '', 'the v1 replicas are gone');

  const badSince = await cli('logs', 'web', '--since', 'last tuesday');
  assert.equal(badSince.code, 1);
  assert.match(badSince.stderr, /since: must be a duration back from now \(30s, 10m, 2h\) or an ISO time/);
  const badGrep = await cli('logs', 'web', '--grep', 'req-(v2');
  assert.equal(badGrep.code, 1);
  assert.match(badGrep.stderr, /grep: not a valid regular expression \(missing closing \)/);
});

interface Event {
  id: string | null;
  event: string;
  data: string;
}

/** Reads the logs SSE until `stop` says so; `lastEventId` resumes. */
async function readLogEvents(query: string, lastEventId: string | null, stop: (seen: Event[]) => boolean): Promise<Event[]> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 30_000);
  const res = await fetch(`http://127.0.0.1:${cp.apiPort}/api/v1/projects/logsf/services/web/logs?${query}`, {
    headers: { authorization: `Bearer ${cp.token}`, accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
    signal: abort.signal,
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const seen: Event[] = [];
  let buf = '';
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const ev: Event = { id: null, event: 'message', data: '' };
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) ev.id = line.slice(4);
          else if (line.startsWith('event: ')) ev.event = line.slice(7);
          else if (line.startsWith('data: ')) ev.data += line.slice(6);
        }
        if (!ev.data) continue; // keep-alive comments, retry
        seen.push(ev);
        if (stop(seen)) return seen;
      }
    }
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  return seen;
}

const key = (ev: Event) => {
  const e = JSON.parse(ev.data) as LogEntryView;
  return `${e.replica} ${e.at} ${e.line}`;
};

test('SSE: a client that reconnects with Last-Event-ID misses nothing and gets nothing twice', async () => {
  // Not following: the resumed stream is exactly the rest of the full one.
  const full = await readLogEvents('tail=200', null, (seen) => seen.some((e) => e.event === 'end'));
  const lines = full.filter((e) => e.event === 'log');
  assert.ok(lines.length >= 8, `lines: ${lines.length}`);
  assert.deepEqual(JSON.parse(full.at(-1)!.data), { lines: lines.length });
  const cut = Math.floor(lines.length / 2);
  const rest = await readLogEvents('tail=200', lines[cut]!.id, (seen) => seen.some((e) => e.event === 'end'));
  assert.deepEqual(rest.filter((e) => e.event === 'log').map(key), lines.slice(cut + 1).map(key));

  // Following: leave, let requests happen, come back.
  const before = [`req-sse-1-${randomUUID()}`];
  const first = readLogEvents('follow=true&tail=0', null, (seen) => seen.some((e) => e.data.includes(before[0]!)));
  await new Promise((r) => setTimeout(r, 500));
  await viaEdge(before[0]);
  const firstSeen = await first;
  const lastId = firstSeen.filter((e) => e.id).at(-1)!.id!;
  const during = Array.from({ length: 5 }, (_, i) => `req-sse-gap-${i}-${randomUUID()}`);
  for (const id of during) await viaEdge(id);
  const second = await readLogEvents('follow=true&tail=0', lastId, (seen) => during.every((id) => seen.some((e) => e.data.includes(id))));
  const firstKeys = new Set(firstSeen.map(key));
  const secondKeys = second.map(key);
  assert.equal(secondKeys.filter((k) => firstKeys.has(k)).length, 0, 'nothing delivered twice');
  assert.equal(new Set(secondKeys).size, secondKeys.length);
  for (const id of during) assert.equal(second.filter((e) => e.data.includes(id)).length, 1, `${id}, sent while disconnected, arrives once`);
});

test('secrets: masked for a read token, raw for an admin who asks (audited), refused to a read token; never in the server log', async () => {
  const reader = (await cp.client.createToken({ name: 'log-reader', scope: 'read' })).token;
  const admin = (await cp.client.createToken({ name: 'log-admin', scope: 'admin' })).token;
  const asReader = cliFor(cp, app.dir, reader);
  const asAdmin = cliFor(cp, app.dir, admin);

  const masked = await asReader('logs', 'web', '--tail', '200');
  outputs.push(masked.stdout, masked.stderr);
  assert.equal(masked.code, 0, masked.stderr);
  assert.match(masked.stdout, /API_KEY=\[secret\]/);
  const probe = await asReader('logs', 'web', '--grep', SECRET.slice(0, 20));
  outputs.push(probe.stdout, probe.stderr);
  assert.equal(probe.stdout, '', 'grep runs on the masked text: no oracle for the value');

  const refused = await asReader('logs', 'web', '--unmask');
  outputs.push(refused.stdout, refused.stderr);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /unmask shows secret values: it needs a token with the admin scope; token:log-reader.* has read \[SLW_FORBIDDEN\]/);

  const raw = await asAdmin('logs', 'web', '--unmask', '--grep', '^API_KEY=');
  assert.equal(raw.code, 0, raw.stderr);
  assert.equal((raw.stdout.match(new RegExp(`^v2 [0-9a-f]{6} \\| API_KEY=${SECRET}$`, 'gm')) ?? []).length, 2, 'the app printed it: an admin who asks sees it');

  const { entries } = await cp.client.audit({ limit: 200 });
  assert.ok(entries.some((e) => e.action.endsWith('/logs?unmask') && e.outcome === 'ok' && e.actor.startsWith('token:log-admin')), 'the unmasked read is audited');
  assert.ok(entries.some((e) => e.action === 'GET /api/v1/projects/:project/services/:service/logs' && e.outcome === 'denied' && e.actor.startsWith('token:log-reader')));
  assert.ok(!JSON.stringify(entries).includes(SECRET));

  // The control plane ran at debug level through all of the above (and the deploys).
  const serverLog = readFileSync(cp.logFile, 'utf8');
  assert.ok(serverLog.length > 1000 && serverLog.includes('logs'), 'the server log was captured');
  assert.ok(!serverLog.includes(SECRET), "Slipway's own log never holds the value");
  for (const o of outputs) assert.ok(!o.includes(SECRET), 'no masked output holds it');
});
