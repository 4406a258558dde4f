import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { MAX_REQUEST_LINE_BYTES } from '../core/request-log';
import { RequestLogListener } from './request-log-listener';

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
  const listener = new RequestLogListener((l) => lines.push(l));
  const port = await listener.listen('127.0.0.1', 0);
  const a = await connect(port);
  const b = await connect(port);
  const text = Buffer.from('{"a":"é"}\n{"a":2}\n\n{"a":3}\n');
  for (let i = 0; i < text.length; i++) a.write(text.subarray(i, i + 1)); // byte by byte
  b.write('{"b":1}\n{"b":');
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
  const listener = new RequestLogListener((l) => lines.push(l));
  t.after(() => listener.close(10));
  const port = await listener.listen('127.0.0.1', 0);
  const s = await connect(port);
  t.after(() => s.destroy());
  s.write(`${'x'.repeat(MAX_REQUEST_LINE_BYTES * 3)}\n{"ok":1}\n`);
  await until(() => lines.length === 1);
  s.write('y'.repeat(MAX_REQUEST_LINE_BYTES * 2));
  await new Promise((r) => setTimeout(r, 50));
  s.write('y'.repeat(MAX_REQUEST_LINE_BYTES));
  s.write('yyy\n{"ok":2}\n');
  await until(() => lines.length === 2);
  assert.deepEqual(lines, ['{"ok":1}', '{"ok":2}']);
  assert.equal(listener.stats.oversized, 2);
});

test('close half-closes and reads what the sender wrote before it saw the FIN', async () => {
  const lines: string[] = [];
  const listener = new RequestLogListener((l) => lines.push(l));
  const port = await listener.listen('127.0.0.1', 0);
  const s = await connect(port);
  // Like HAProxy's forwarder: when our FIN arrives, flush what is pending, then close.
  s.on('end', () => s.end('{"last":1}\n'));
  s.write('{"first":1}\n');
  await until(() => lines.length === 1);
  await listener.close();
  assert.deepEqual(lines, ['{"first":1}', '{"last":1}']);
});

test('listening on a port in use fails with EADDRINUSE', async () => {
  const first = new RequestLogListener(() => undefined);
  const port = await first.listen('127.0.0.1', 0);
  await assert.rejects(new RequestLogListener(() => undefined).listen('127.0.0.1', port), /EADDRINUSE/);
  await first.close();
});
