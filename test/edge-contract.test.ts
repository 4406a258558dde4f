/**
 * The Edge contract (src/testing/edge-contract.ts) against the real HAProxy driver: a new
 * HAProxy on loopback per test (own data directory and port), replicas that are tiny HTTP
 * servers on 127.0.0.1 answering "<id>" (`?ms=N`: after N ms). The memory edge passes the same
 * suite in the unit lane (src/testing/memory-edge.test.ts).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { HaproxyEdge, stopEdge } from '../src/drivers/haproxy/haproxy-edge';
import { edgeFiles } from '../src/drivers/haproxy/edge-files';
import { runCommand } from '../src/drivers/haproxy/runtime-api';
import { runEdgeContract, type EdgeAnswer, type EdgeContractHarness, type ReplicaId } from '../src/testing/edge-contract';
import { freePort } from './support/free-port';

const logger = pino({ level: 'silent' });

/** A replica answering its id, after `?ms=N` milliseconds when asked. */
async function replica(id: ReplicaId): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((req, res) => {
    const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? 0);
    setTimeout(() => res.end(id), ms);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

/** GET through the edge with a Host header (fetch cannot set Host); the body names the replica. */
function get(port: number, host: string, pathname = '/'): Promise<EdgeAnswer> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: pathname, headers: { host }, agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => {
          // A stopped service's page names it in a header (and in its text).
          const stopped = res.headers['x-slipway-stopped'];
          if (typeof stopped === 'string') assert.match(body, new RegExp(`<h1>${stopped} is stopped</h1>`));
          resolve({ status: res.statusCode ?? 0, server: res.statusCode === 200 ? body : null, ...(typeof stopped === 'string' ? { stopped } : {}) });
        });
      })
      .on('error', reject);
  });
}

async function haproxyHarness(): Promise<EdgeContractHarness> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'slipway-edge-contract-'));
  const port = await freePort();
  const edge = new HaproxyEdge({ dataDir, httpPort: port, bindAddress: '127.0.0.1', logger });
  const [a, b, c] = await Promise.all((['a', 'b', 'c'] as const).map(replica));
  const at = (r: { port: number }) => ({ address: '127.0.0.1', port: r.port });
  const files = edgeFiles(dataDir);
  return {
    edge,
    replicas: { a: at(a!), b: at(b!), c: at(c!) },
    request: (host) => get(port, host),
    slowRequest: (host, ms) => get(port, host, `/?ms=${ms}`),
    addStrayRoute: async (host, backend) => void (await runCommand(files.adminSocket, `add map ${files.map} ${host} ${backend}`)),
    kill: () => stopEdge(dataDir),
    close: async () => {
      await stopEdge(dataDir);
      for (const r of [a, b, c]) {
        r!.server.closeAllConnections();
        r!.server.close();
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

runEdgeContract('haproxy', haproxyHarness);
