import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { MAX_REQUEST_LINE_BYTES } from '../core/request-log';
import { checkReadiness } from './readiness';
import { RequestLogListener } from './request-log-listener';

const KEY = 'A'.repeat(20) + '_-' + 'b'.repeat(21);
const opts = { key: KEY };
/** A line as the edge writes it: the key, a space, the JSON. */
const k = (json: string) => `${KEY} ${json}`;

async function connect(port: number): Promise<net.Socket> {
  const s = net.createConnection({ host: '127.0.0.1', port });
  await once(s, 'connect');
  return s;
}
const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
};

test('LF-framed lines from several connections, split anywhere (even inside a UTF-8 character)', async () => {
  const lines: string[] = [];
  const listener = new RequestLogListener((l) => lines.push(l), opts);
  const port = await listener.listen('127.0.0.1', 0);
  const a = await connect(port);
  const b = await connect(port);
  const text = Buffer.from(`${k('{"a":"é"}')}\n${k('{"a":2}')}\n\n${k('{"a":3}')}\n`);
  for (let i = 0; i < text.length; i++) a.write(text.subarray(i, i + 1)); // byte by byte
  b.write(`${k('{"b":1}')}\n${KEY.slice(0, 10)}`);
  b.write(`${KEY.slice(10)} {"b":`);
  b.write('2}\n');
  await until(() => lines.length === 5);
  assert.deepEqual(lines.filter((l) => l.startsWith('{"a"')), ['{"a":"é"}', '{"a":2}', '{"a":3}'], 'empty lines are skipped');
  assert.deepEqual(lines.filter((l) => l.startsWith('{"b"')), ['{"b":1}', '{"b":2}']);
  assert.equal(listener.stats.connections, 2);
  assert.equal(listener.stats.lines, 5);
  a.destroy();
  b.destroy();
  await listener.close();
});

test('a line longer than the limit is dropped up to its end and counted, in one chunk or many; the next one is read', async (t) => {
  const lines: string[] = [];
  const listener = new RequestLogListener((l) => lines.push(l), opts);
  t.after(() => listener.close(10));
  const port = await listener.listen('127.0.0.1', 0);
  const s = await connect(port);
  t.after(() => s.destroy());
  s.write(`${'x'.repeat(MAX_REQUEST_LINE_BYTES * 3)}\n${k('{"ok":1}')}\n`);
  await until(() => lines.length === 1);
  s.write('y'.repeat(MAX_REQUEST_LINE_BYTES * 2));
  await new Promise((r) => setTimeout(r, 50));
  s.write('y'.repeat(MAX_REQUEST_LINE_BYTES));
  s.write(`yyy\n${k('{"ok":2}')}\n`);
  await until(() => lines.length === 2);
  assert.deepEqual(lines, ['{"ok":1}', '{"ok":2}']);
  assert.equal(listener.stats.oversized, 2);
});

test('close half-closes and reads what the sender wrote before it saw the FIN', async () => {
  const lines: string[] = [];
  const listener = new RequestLogListener((l) => lines.push(l), opts);
  const port = await listener.listen('127.0.0.1', 0);
  const s = await connect(port);
  // Like HAProxy's forwarder: when our FIN arrives, flush what is pending, then close.
  s.on('end', () => s.end(`${k('{"last":1}')}\n`));
  s.write(`${k('{"first":1}')}\n`);
  await until(() => lines.length === 1);
  await listener.close();
  assert.deepEqual(lines, ['{"first":1}', '{"last":1}']);
});

test('listening on a port in use fails with EADDRINUSE', async () => {
  const first = new RequestLogListener(() => undefined, opts);
  const port = await first.listen('127.0.0.1', 0);
  await assert.rejects(new RequestLogListener(() => undefined, opts).listen('127.0.0.1', port), /EADDRINUSE/);
  await first.close();
});

test('lines without the key (or with a wrong one) are dropped and counted, never handed on; the key is stripped from the rest', async (t) => {
  const lines: string[] = [];
  const listener = new RequestLogListener((l) => lines.push(l), opts);
  t.after(() => listener.close(10));
  const port = await listener.listen('127.0.0.1', 0);
  const s = await connect(port);
  t.after(() => s.destroy());
  const forged = [
    '{"t":1,"b":"be_x","s":"x","m":"GET","p":"/","st":500,"by":1,"ta":1,"tr":1,"ci":"-","xff":"-","cf":"-","id":"-","ts":"--"}',
    `${KEY.slice(0, -1)}X {"st":500}`, // last character wrong
    `X${KEY.slice(1)} {"st":500}`, // first character wrong
    `${KEY}{"st":500}`, // no space
    `${KEY} `, // nothing after it
    KEY,
    `${KEY}x {"st":500}`, // longer key
  ];
  s.write(`${forged.join('\n')}\n${k('{"real":1}')}\n`);
  await until(() => lines.length === 1 && listener.stats.unauthenticated === forged.length);
  assert.deepEqual(lines, ['{"real":1}']);
  assert.equal(listener.stats.unauthenticated, forged.length);
  assert.equal(listener.stats.lines, 1);
});

test('a unix socket: mode 0600, a stale socket file is replaced, a live one or a non-socket is refused', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rl-sock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'request-log.sock');
  const lines: string[] = [];
  const first = new RequestLogListener((l) => lines.push(l), opts);
  await first.listenUnix(file);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  await assert.rejects(new RequestLogListener(() => undefined, opts).listenUnix(file), /EADDRINUSE/);
  const s = net.createConnection({ path: file });
  await once(s, 'connect');
  s.end(`${k('{"u":1}')}\nforged\n`);
  await until(() => lines.length === 1 && first.stats.unauthenticated === 1);
  assert.deepEqual(lines, ['{"u":1}']);
  await first.close();
  // A socket file left behind by a SIGKILLed process is replaced.
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(file)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await once(child.stdout!, 'data');
  child.kill('SIGKILL');
  await once(child, 'exit');
  assert.ok(statSync(file).isSocket(), 'the killed process left its socket file');
  const second = new RequestLogListener(() => undefined, opts);
  await second.listenUnix(file);
  await second.close();
  writeFileSync(file, 'not a socket');
  await assert.rejects(new RequestLogListener(() => undefined, opts).listenUnix(file), /not a socket/);
});

test('checkAccepting (/readyz "request-log"): passes while the socket accepts, fails before listen, after close and when the socket file is gone; probes are not counted', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rl-ready-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'request-log.sock');
  const ready = (l: RequestLogListener) => checkReadiness({ 'request-log': () => l.checkAccepting() }, { version: 'x', timeoutMs: 1000, critical: ['store'] });

  const listener = new RequestLogListener(() => undefined, opts);
  const before = await ready(listener);
  assert.equal(before.status, 'degraded');
  assert.match(before.checks['request-log']?.output ?? '', /not listening/);

  await listener.listenUnix(file);
  const open = await ready(listener);
  assert.equal(open.status, 'healthy', JSON.stringify(open));
  assert.equal(open.checks['request-log']?.status, 'pass');
  await listener.checkAccepting();
  await new Promise((r) => setTimeout(r, 50)); // the probes' connections accepted by now
  assert.equal(listener.stats.connections, 0, 'readiness probes are not the edge\'s connections');
  // The edge's connection still counts.
  const edge = net.createConnection({ path: file });
  await once(edge, 'connect');
  await until(() => listener.stats.connections === 1);
  assert.equal(listener.stats.connections, 1);
  edge.destroy();

  // Listening, but nobody can reach it any more: the socket file was deleted.
  rmSync(file);
  const gone = await ready(listener);
  assert.equal(gone.checks['request-log']?.status, 'fail');
  assert.match(gone.checks['request-log']?.output ?? '', /does not accept connections \(.*ENOENT/);

  await listener.close(10);
  const closed = await ready(listener);
  assert.equal(closed.status, 'degraded');
  assert.match(closed.checks['request-log']?.output ?? '', /not listening/);
});

test('checkAccepting on the legacy TCP listener: open passes, closed fails', async () => {
  const listener = new RequestLogListener(() => undefined, opts);
  await listener.listen('127.0.0.1', 0);
  await listener.checkAccepting();
  await listener.close(10);
  await assert.rejects(listener.checkAccepting(), /not listening/);
});
