import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { test } from 'node:test';
import { isSlipwayError } from '../../core/errors';
import { PgPostgresAdmin } from './postgres-admin';

/** A server that answers every startup with Postgres's ErrorResponse for this SQLSTATE (no real Postgres needed). */
async function refusingServer(sqlstate: string, message: string): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.once('data', () => {
      const fields = Buffer.concat([Buffer.from(`SFATAL\0VFATAL\0C${sqlstate}\0M${message}\0`), Buffer.from([0])]);
      const head = Buffer.alloc(5);
      head.write('E', 0);
      head.writeInt32BE(fields.length + 4, 1);
      socket.end(Buffer.concat([head, fields]));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

const plan = { database: 'shop', owner: { name: 'owner', password: 'a'.repeat(32) }, app: { name: 'app', password: 'b'.repeat(32) } };

test('a refused login carries the server SQLSTATE in details (path sqlstate), the message masked', async () => {
  const { server, port } = await refusingServer('28P01', 'password authentication failed for user "postgres"');
  try {
    const target = { host: '127.0.0.1', port, user: 'postgres', password: 'c'.repeat(32) };
    await assert.rejects(new PgPostgresAdmin({ connectTimeoutMs: 2000 }).provision(target, plan, { timeoutMs: 5000 }), (err) => {
      assert.ok(isSlipwayError(err));
      assert.equal(err.code, 'SLW_RUNTIME');
      assert.deepEqual(err.details, [{ path: 'sqlstate', message: '28P01' }]);
      assert.match(err.message, /password authentication failed for user "postgres"/);
      assert.ok(!err.message.includes('c'.repeat(32)));
      return true;
    });
  } finally {
    server.close();
  }
});

test('an error that is not the server\'s (connection refused) has no sqlstate detail', async () => {
  const { server, port } = await refusingServer('28P01', 'x');
  server.close();
  await new Promise((r) => setTimeout(r, 20));
  const target = { host: '127.0.0.1', port, user: 'postgres', password: 'c'.repeat(32) };
  await assert.rejects(new PgPostgresAdmin({ connectTimeoutMs: 2000 }).provision(target, plan, { timeoutMs: 5000 }), (err) => isSlipwayError(err) && err.code === 'SLW_RUNTIME' && err.details.length === 0);
});
