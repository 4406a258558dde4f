import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { tcpProbe } from './tcp-probe';

test('tcpProbe is ok once a listener accepts, and names the error when none does', async () => {
  const server = net.createServer((s) => s.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const up = await tcpProbe('127.0.0.1', port, 1000);
  assert.equal(up.ok, true);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const down = await tcpProbe('127.0.0.1', port, 1000);
  assert.equal(down.ok, false);
  assert.equal(down.error, 'ECONNREFUSED');
});
