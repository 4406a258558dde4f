import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { makeCa, makeLeaf } from '../../src/core/tls/test-certificates';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { assertLoopback, Latencies, MAX_IN_FLIGHT_OPEN, startLoad, type LoadReport } from './load-generator';
import { formatTable } from './table';
import { writeResult } from './results';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An in-process server on 127.0.0.1 (or another loopback host); close() also drops open connections. */
async function serve(handler: http.RequestListener, host = '127.0.0.1') {
  const server = http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closed = false;
  return {
    server,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    async close() {
      if (closed) return;
      closed = true;
      const done = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await done;
    },
  };
}

function assertConsistent(r: LoadReport): void {
  assert.equal(r.ok + r.failed, r.total, `every request counted once: ${JSON.stringify(r)}`);
  const errorSum = Object.values(r.errors).reduce((a, b) => a + b, 0);
  assert.equal(errorSum, r.failed, 'failures by kind add up');
  assert.ok(r.firstFailures.length === Math.min(20, r.failed), 'first 20 failures kept');
  const l = r.latencyMs;
  assert.ok(l.p50 <= l.p95 && l.p95 <= l.p99 && l.p99 <= l.max, JSON.stringify(l));
}

test('an all-200 server: failed=0, keep-alive, host header and path sent, body read for inspect', async () => {
  const hosts = new Set<string | undefined>();
  const paths = new Set<string | undefined>();
  const sockets = new Set<unknown>();
  const s = await serve((req, res) => {
    hosts.add(req.headers.host);
    paths.add(req.url);
    sockets.add(req.socket);
    res.end('hello '.repeat(2000)); // 12 kB: several chunks
  });
  try {
    let inspected = 0;
    let badBody = 0;
    let n = 0;
    const load = startLoad({
      url: s.url,
      hostHeader: 'app.localhost',
      concurrency: 4,
      path: () => `/p?i=${n++ % 3}`,
      inspect: (res) => {
        inspected++;
        if (res.status !== 200 || res.body.length !== 12_000 || Math.abs(Date.now() - res.at) > 1000) badBody++;
      },
    });
    await sleep(500);
    const mid = load.snapshot();
    await sleep(200);
    const r = await load.stop();
    assertConsistent(r);
    assert.equal(r.failed, 0, JSON.stringify(r.errors));
    assert.ok(r.total > 50, `total ${r.total}`);
    assert.ok(mid.total > 0 && mid.total <= r.total);
    assert.deepEqual(r.byStatus, { '200': r.total });
    assert.deepEqual(r.errors, {});
    assert.equal(inspected, r.total, 'inspect sees every completed response');
    assert.equal(badBody, 0, 'the body is read completely');
    assert.deepEqual([...hosts], ['app.localhost']);
    assert.deepEqual([...paths].sort(), ['/p?i=0', '/p?i=1', '/p?i=2']);
    assert.ok(sockets.size <= 4, `keep-alive: at most concurrency sockets, got ${sockets.size}`);
    assert.ok(r.latencyMs.p50 > 0 && r.latencyMs.max < 1000);
    assert.ok(r.durationMs >= 650 && r.durationMs < 2000, `durationMs ${r.durationMs}`);
    assert.ok(Math.abs(r.ratePerSec - (r.total * 1000) / r.durationMs) < 1e-6);
    // stop() is idempotent and the report is frozen once stopped.
    await sleep(50);
    assert.deepEqual(load.snapshot(), r);
    assert.deepEqual(await load.stop(), r);
  } finally {
    await s.close();
  }
});

test("a server answering 503 to a fraction counts 'non2xx:503'", async () => {
  let i = 0;
  const s = await serve((_req, res) => {
    if (i++ % 4 === 0) {
      res.statusCode = 503;
      res.end('backend down');
    } else res.end('ok');
  });
  try {
    const load = startLoad({ url: s.url, concurrency: 4 });
    await sleep(400);
    const r = await load.stop();
    assertConsistent(r);
    assert.deepEqual(Object.keys(r.errors), ['non2xx:503']);
    assert.equal(r.errors['non2xx:503'], r.byStatus['503']);
    assert.equal(r.ok, r.byStatus['200']);
    assert.equal(r.byStatus['503'], Math.ceil(r.total / 4), 'every 4th request');
    assert.equal(r.firstFailures[0]?.kind, 'non2xx:503');
    assert.equal(r.firstFailures[0]?.detail, 'backend down');
  } finally {
    await s.close();
  }
});

test('a server that destroys sockets counts connection errors', async () => {
  let i = 0;
  const s = await serve((req, res) => {
    if (i++ % 3 === 0) req.socket.destroy();
    else if (i % 3 === 0) {
      // Headers and part of the body, then the connection dies mid-response.
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      setTimeout(() => req.socket.destroy(), 5);
    } else res.end('ok');
  });
  try {
    const load = startLoad({ url: s.url, concurrency: 4 });
    await sleep(400);
    const r = await load.stop();
    assertConsistent(r);
    assert.ok(r.ok > 0, 'healthy requests still succeed');
    assert.ok(r.failed > 0);
    for (const kind of Object.keys(r.errors)) assert.ok(['socket hang up', 'ECONNRESET'].includes(kind), `unexpected kind ${kind}`);
    assert.ok((r.errors['socket hang up'] ?? 0) > 0, JSON.stringify(r.errors));
    assert.ok((r.errors['ECONNRESET'] ?? 0) > 0, `aborted responses count too: ${JSON.stringify(r.errors)}`);
    assert.ok(!('200' in r.byStatus) || r.byStatus['200'] === r.ok, 'a truncated 200 is not counted as a status seen');
  } finally {
    await s.close();
  }
});

test('a server closed mid-run counts ECONNREFUSED / ECONNRESET', async () => {
  const s = await serve((_req, res) => setTimeout(() => res.end('ok'), 2));
  const load = startLoad({ url: s.url, concurrency: 4 });
  await sleep(300);
  const before = load.snapshot();
  await s.close();
  await sleep(200);
  const r = await load.stop();
  assertConsistent(r);
  assert.equal(before.failed, 0);
  assert.ok(r.ok >= before.ok && r.ok > 0);
  assert.ok((r.errors['ECONNREFUSED'] ?? 0) > 0, JSON.stringify(r.errors));
  for (const kind of Object.keys(r.errors)) {
    assert.ok(['ECONNREFUSED', 'ECONNRESET', 'socket hang up'].includes(kind), `unexpected kind ${kind}`);
  }
  assert.match(r.firstFailures[0]!.detail, /ECONNREFUSED|ECONNRESET|socket hang up/);
});

test('open model: the offered rate is respected even when the server is slow', async () => {
  let concurrent = 0;
  let peak = 0;
  const s = await serve((_req, res) => {
    peak = Math.max(peak, ++concurrent);
    setTimeout(() => {
      concurrent--;
      res.end('ok');
    }, 100);
  });
  try {
    const load = startLoad({ url: s.url, ratePerSec: 200, concurrency: 1 });
    await sleep(1000);
    const r = await load.stop();
    assertConsistent(r);
    assert.equal(r.failed, 0, JSON.stringify(r.errors));
    // ~200 started in 1 s (+ the drain adds no new ones); generous ±50 %.
    assert.ok(r.total >= 100 && r.total <= 300, `total ${r.total}`);
    assert.ok(peak >= 10, `requests overlap regardless of completions (peak ${peak}); concurrency is ignored`);
    assert.ok(r.latencyMs.p50 >= 95, `p50 ${r.latencyMs.p50}`);
  } finally {
    await s.close();
  }
});

test("open model: beyond the in-flight cap requests are 'dropped_by_generator', hung ones time out", async () => {
  const s = await serve(() => {
    /* never answers */
  });
  try {
    const t0 = Date.now();
    const load = startLoad({ url: s.url, ratePerSec: 4000, timeoutMs: 400 });
    await sleep(350);
    const r = await load.stop();
    const stopTook = Date.now() - t0 - 350;
    assertConsistent(r);
    assert.equal(r.ok, 0);
    // At most the cap is ever in flight; a busy machine may not reach it within 350 ms.
    const timedOut = r.errors['timeout'] ?? 0;
    assert.ok(timedOut <= MAX_IN_FLIGHT_OPEN && timedOut >= MAX_IN_FLIGHT_OPEN / 2, `the cap bounds what is in flight (${timedOut} timed out)`);
    assert.ok((r.errors['dropped_by_generator'] ?? 0) > 100, JSON.stringify(r.errors));
    assert.ok(stopTook < 1000, `stop() waits for in-flight requests, bounded by timeoutMs (${stopTook} ms)`);
    assert.ok(r.latencyMs.p50 >= 390 && r.latencyMs.max < 1000, JSON.stringify(r.latencyMs));
  } finally {
    await s.close();
  }
});

test('the timeout covers the whole response, not just idle time', async () => {
  const s = await serve((_req, res) => {
    res.writeHead(200);
    const drip = setInterval(() => res.write('.'), 20); // never idle, never done
    res.on('close', () => clearInterval(drip));
  });
  try {
    const load = startLoad({ url: s.url, concurrency: 2, timeoutMs: 200 });
    await sleep(500);
    const r = await load.stop();
    assertConsistent(r);
    assert.ok(r.total >= 2 && r.total <= 8, `total ${r.total}`);
    assert.deepEqual(Object.keys(r.errors), ['timeout']);
    assert.equal(r.ok, 0);
  } finally {
    await s.close();
  }
});

test('maxDurationMs stops the load by itself; a throwing inspect is a failure', async () => {
  const s = await serve((_req, res) => res.end('ok'));
  try {
    let calls = 0;
    const load = startLoad({
      url: s.url,
      concurrency: 2,
      maxDurationMs: 200,
      inspect: () => {
        if (++calls % 2 === 0) throw new Error('wrong release');
      },
    });
    await sleep(400);
    const a = load.snapshot();
    await sleep(100);
    const b = load.snapshot();
    assert.equal(a.total, b.total, 'no request after maxDurationMs');
    assert.ok(a.durationMs >= 200 && a.durationMs < 400, `durationMs ${a.durationMs}`);
    const r = await load.stop();
    assertConsistent(r);
    assert.equal(r.total, a.total);
    assert.equal(r.errors['inspect_threw'], Math.floor(r.total / 2));
    assert.match(r.firstFailures[0]!.detail, /HTTP 200: Error: wrong release/);
  } finally {
    await s.close();
  }
});

test('localhost and [::1] targets work', async () => {
  const s = await serve((_req, res) => res.end('ok'));
  try {
    const load = startLoad({ url: `http://localhost:${s.port}/`, concurrency: 2 });
    await sleep(150);
    const r = await load.stop();
    assert.ok(r.total > 0);
    // localhost may resolve to ::1 first; either way every request is accounted for.
    assertConsistent(r);
  } finally {
    await s.close();
  }
  let v6;
  try {
    v6 = await serve((_req, res) => res.end('ok'), '::1');
  } catch {
    return; // no IPv6 loopback here
  }
  try {
    const load = startLoad({ url: v6.url, concurrency: 2 });
    await sleep(150);
    const r = await load.stop();
    assert.equal(r.failed, 0, JSON.stringify(r.errors));
    assert.ok(r.total > 0);
  } finally {
    await v6.close();
  }
});

test('non-loopback URLs and bad options are refused', () => {
  for (const url of [
    'http://10.0.0.1/',
    'http://192.168.1.10:8080/',
    'http://0.0.0.0:8080/',
    'http://example.com/',
    'http://localhost.example.com/',
    'http://127.0.0.1.nip.io/',
    'http://[::ffff:127.0.0.1]/',
    'http://[2001:db8::1]/',
    'http://169.254.169.254/',
  ]) {
    assert.throws(() => startLoad({ url }), /refusing non-loopback target/, url);
  }
  assert.throws(() => startLoad({ url: 'ftp://127.0.0.1/' }), /only http: and https: targets/);
  assert.throws(() => startLoad({ url: 'https://10.0.0.1/' }), /refusing non-loopback target/);
  assert.throws(() => startLoad({ url: 'https://example.com/' }), /refusing non-loopback target/);
  assert.throws(() => startLoad({ url: 'http://127.0.0.1:1/', ca: 'x' }), /https: targets only/);
  assert.throws(() => startLoad({ url: 'http://127.0.0.1:1/', servername: 'a.localhost' }), /https: targets only/);
  // Plain-HTTP clients (bench/lib/sse-client.ts) keep refusing https: by default.
  assert.throws(() => assertLoopback('https://127.0.0.1/'), /only http: targets/);
  assert.equal(assertLoopback('https://127.0.0.1/', ['http:', 'https:']).protocol, 'https:');
  assert.throws(() => startLoad({ url: 'not a url' }));
  assert.throws(() => startLoad({ url: 'http://127.0.0.1:1/', concurrency: 0 }), /concurrency/);
  assert.throws(() => startLoad({ url: 'http://127.0.0.1:1/', ratePerSec: -5 }), /ratePerSec/);
  for (const url of ['http://127.0.0.1/', 'http://127.8.9.10:1234/x', 'http://127.1/', 'http://LOCALHOST:80/', 'http://[::1]:8080/', 'http://[0:0:0:0:0:0:0:1]/']) {
    assert.doesNotThrow(() => assertLoopback(url), url);
  }
});

test('latency recorder: grows past its first buffer, handles 1M samples, bounded by reservoir', () => {
  const l = new Latencies();
  for (let i = 1; i <= 1_000_000; i++) l.add(i / 1000); // 0.001 .. 1000 ms
  const s = l.summary();
  assert.equal(s.p50, 500);
  assert.equal(s.p95, 950);
  assert.equal(s.p99, 990);
  assert.equal(s.max, 1000);
  assert.equal(l.count, 1_000_000);

  const small = new Latencies(10_000);
  for (let i = 1; i <= 200_000; i++) small.add(i);
  const t = small.summary();
  assert.equal(t.max, 200_000, 'max is exact beyond the cap');
  assert.ok(Math.abs(t.p50 - 100_000) < 10_000, `reservoir p50 ${t.p50}`);
  assert.deepEqual(new Latencies().summary(), { p50: 0, p95: 0, p99: 0, max: 0 });
});

test('formatTable aligns columns; writeResult writes bench/results/<name>-<date>.json', () => {
  const text = formatTable(
    [
      { method: 'slipway', failed: 0, p99Ms: 12.5 },
      { method: 'docker compose up -d', failed: 1234, p99Ms: 3 },
    ],
    ['method', 'failed', 'p99Ms'],
  );
  assert.equal(
    text,
    [
      'method                failed  p99Ms',
      '--------------------  ------  -----',
      'slipway                    0   12.5',
      'docker compose up -d    1234      3',
    ].join('\n'),
  );
  assert.equal(formatTable([]), '');

  const file = writeResult('loadgen-selftest', { total: 3 });
  try {
    assert.match(file, /bench\/results\/loadgen-selftest-\d{4}-\d{2}-\d{2}\.json$/);
    const data = JSON.parse(readFileSync(file, 'utf8')) as { at: string; total: number };
    assert.equal(data.total, 3);
    assert.ok(!Number.isNaN(Date.parse(data.at)));
  } finally {
    rmSync(file, { force: true });
  }
  assert.ok(!existsSync(file));
  assert.throws(() => writeResult('../escape', {}), /invalid result name/);
});

/** A throwaway CA and leaves it signs (src/core/tls/test-certificates.ts), PEM. */
async function testPki() {
  const ca = await makeCa({ cn: 'load generator test CA' });
  const leaf = async (names: string[], ips: string[], notAfter?: Date) => {
    const l = await makeLeaf({ domains: names, ips, issuer: ca, ...(notAfter ? { notAfter } : {}) });
    return { cert: l.certPem, key: l.keyPem };
  };
  return { caPem: ca.certPem, leaf };
}

/** An in-process https server on 127.0.0.1 that records the SNI and Host of every request and its sockets. */
async function serveTls(tls: { cert: string; key: string }) {
  const seen = { sni: new Set<string | false | null | undefined>(), hosts: new Set<string | undefined>(), sockets: new Set<unknown>() };
  const server = https.createServer(tls, (req, res) => {
    seen.sni.add((req.socket as TLSSocket).servername);
    seen.hosts.add(req.headers.host);
    seen.sockets.add(req.socket);
    res.end('secure hello');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `https://127.0.0.1:${port}/`,
    seen,
    async close() {
      const done = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await done;
    },
  };
}

test('https: ok with the right ca (SNI from the Host header, keep-alive), TLS failures counted by code without it', async () => {
  const pki = await testPki();
  const s = await serveTls(await pki.leaf(['app.localhost'], ['127.0.0.1']));
  try {
    const load = startLoad({ url: s.url, hostHeader: `app.localhost:${s.port}`, ca: pki.caPem, concurrency: 4, inspect: (r) => assert.equal(r.body, 'secure hello') });
    await sleep(300);
    const r = await load.stop();
    assertConsistent(r);
    assert.equal(r.failed, 0, JSON.stringify(r.firstFailures));
    assert.ok(r.total > 20, `total ${r.total}`);
    assert.deepEqual(r.byStatus, { '200': r.total });
    assert.deepEqual([...s.seen.sni], ['app.localhost'], 'SNI: the Host header without its port');
    assert.deepEqual([...s.seen.hosts], [`app.localhost:${s.port}`]);
    assert.ok(s.seen.sockets.size <= 4, `keep-alive: at most concurrency TLS connections, got ${s.seen.sockets.size}`);

    // No ca: Node's default roots do not know the test CA; no request reaches the server.
    s.seen.hosts.clear();
    const untrusted = await startLoadFor(150, { url: s.url, hostHeader: 'app.localhost', concurrency: 2 });
    assert.equal(untrusted.ok, 0);
    assert.ok(untrusted.failed > 0);
    assert.deepEqual(Object.keys(untrusted.errors), ['UNABLE_TO_VERIFY_LEAF_SIGNATURE']);
    assert.equal(s.seen.hosts.size, 0, 'nothing was sent over an unverified connection');

    // The right CA but a name the certificate does not cover.
    const wrongName = await startLoadFor(150, { url: s.url, servername: 'other.localhost', hostHeader: 'app.localhost', ca: pki.caPem, concurrency: 2 });
    assert.equal(wrongName.ok, 0);
    assert.deepEqual(Object.keys(wrongName.errors), ['ERR_TLS_CERT_ALTNAME_INVALID']);
    assert.match(wrongName.firstFailures[0]!.detail, /other\.localhost/);
  } finally {
    await s.close();
  }
});

test('https: no Host header → the certificate is checked against the IP and no SNI is sent; servername overrides; expired certificates fail', async () => {
  const pki = await testPki();
  const byIp = await serveTls(await pki.leaf([], ['127.0.0.1']));
  try {
    const r = await startLoadFor(150, { url: byIp.url, ca: pki.caPem, concurrency: 2 });
    assert.equal(r.failed, 0, JSON.stringify(r.firstFailures));
    assert.ok(r.ok > 0);
    assert.deepEqual([...byIp.seen.sni], [false], 'no SNI for an IP');
  } finally {
    await byIp.close();
  }

  const named = await serveTls(await pki.leaf(['tls.localhost'], []));
  try {
    const r = await startLoadFor(150, { url: named.url, hostHeader: 'app.localhost', servername: 'tls.localhost', ca: Buffer.from(pki.caPem), concurrency: 2 });
    assert.equal(r.failed, 0, JSON.stringify(r.firstFailures));
    assert.deepEqual([...named.seen.sni], ['tls.localhost']);
    assert.deepEqual([...named.seen.hosts], ['app.localhost']);
    // localhost targets: the certificate must then be valid for localhost.
    const viaLocalhost = await startLoadFor(100, { url: `https://localhost:${named.port}/`, ca: pki.caPem, concurrency: 1 });
    assert.equal(viaLocalhost.ok, 0);
    assert.ok(['ERR_TLS_CERT_ALTNAME_INVALID', 'ECONNREFUSED'].includes(Object.keys(viaLocalhost.errors)[0]!), JSON.stringify(viaLocalhost.errors));
  } finally {
    await named.close();
  }

  const expired = await serveTls(await pki.leaf(['app.localhost'], [], new Date(Date.now() - 60_000)));
  try {
    const r = await startLoadFor(150, { url: expired.url, hostHeader: 'app.localhost', ca: pki.caPem, concurrency: 2 });
    assertConsistent(r);
    assert.equal(r.ok, 0);
    assert.deepEqual(Object.keys(r.errors), ['CERT_HAS_EXPIRED']);
  } finally {
    await expired.close();
  }
});

/** Runs a load for `ms` and returns its final report, checked for consistency. */
async function startLoadFor(ms: number, opts: Parameters<typeof startLoad>[0]): Promise<LoadReport> {
  const load = startLoad(opts);
  await sleep(ms);
  const r = await load.stop();
  assertConsistent(r);
  return r;
}
