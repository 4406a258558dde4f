// examples/hello: a dependency-free HTTP app for Slipway (plain node:http, ESM).
//   GET /          → 200 JSON {app, release, version, replica, requestId, proto} + header X-Slipway-Release
//                    (proto: the X-Forwarded-Proto the edge set, http or https)
//   GET /health    → 200 "ok" (503 when HEALTH_FAIL=1)
//   POST /admin/health?status=NNN → /health answers NNN from now on (200 heals it); only with
//                    HEALTH_ADMIN=1 (404 otherwise): makes one replica sick on demand, to watch
//                    the edge take it out of rotation and a repair replace it
//   GET /slow?ms=N → answers after N ms (a long request, for drain tests)
//   GET /status/NNN → answers with that status (200–599; for request-metrics tests)
//   GET /api/health → 200 "api ok", or API_HEALTH_STATUS when set (e.g. 500): a deep health check
//                    that can fail while /health (readiness) passes, for post-deploy smoke checks
//   GET /events    → an SSE stream: a `tick` event every 200 ms ({n, release}), for long-lived
//                    connection tests; ended cleanly (an `end` event, then the end of the
//                    response) on SIGTERM, so a client can tell a drain from a crash
// Knobs (env): PORT (3000), APP_VERSION, HEALTH_FAIL=1, HEALTH_ADMIN=1, API_HEALTH_STATUS, ERROR_RATE (0..1 of / answering 500),
// DELAY_MS (latency added to /), ECHO_ENV (comma-separated names printed at startup: a careless
// app that logs its configuration, to show Slipway masking secret values in logs), LOG_REQUESTS=1
// (one JSON line per request except /health, with the edge's X-Request-ID: logs and request
// metrics correlate; off by default, as it costs throughput in benchmarks).
// On SIGTERM it stops accepting, finishes in-flight requests, ends SSE streams, closes idle
// keep-alive connections and exits 0: what every app behind a zero-downtime deploy should do.
import http from 'node:http';
import os from 'node:os';
import { performance } from 'node:perf_hooks';

const port = Number(process.env.PORT ?? 3000);
const release = process.env.SLIPWAY_RELEASE ?? null;
const version = process.env.APP_VERSION ?? null;
const errorRate = Number(process.env.ERROR_RATE ?? 0);
const delayMs = Number(process.env.DELAY_MS ?? 0);
const logRequests = process.env.LOG_REQUESTS === '1';
const FORCE_EXIT_MS = 25_000;
const TICK_MS = 200;

/** Open SSE streams: each ends itself on shutdown (a stream never finishes on its own). */
const streams = new Set();

let inFlight = 0;
/** Status /health answers when set through POST /admin/health (HEALTH_ADMIN=1). */
let healthOverride = null;
let shuttingDown = false;

const server = http.createServer((req, res) => {
  inFlight++;
  const started = performance.now();
  res.on('close', () => {
    inFlight--;
    if (logRequests && req.url !== '/health') {
      const requestId = req.headers['x-request-id'] ?? null;
      const ms = Math.round((performance.now() - started) * 10) / 10;
      console.log(JSON.stringify({ time: new Date().toISOString(), level: 'info', msg: `${req.method} ${req.url}`, requestId, status: res.statusCode, ms, release }));
    }
    // While shutting down, a keep-alive connection that just went idle is closed at once.
    if (shuttingDown) server.closeIdleConnections();
  });
  const url = new URL(req.url ?? '/', 'http://localhost');
  const send = (status, body) => {
    const json = typeof body !== 'string';
    const headers = { 'content-type': json ? 'application/json' : 'text/plain', 'x-slipway-release': release ?? 'none' };
    if (shuttingDown) headers.connection = 'close';
    res.writeHead(status, headers);
    res.end(json ? `${JSON.stringify(body)}\n` : body);
  };

  if (url.pathname === '/health') {
    if (healthOverride !== null) return send(healthOverride, healthOverride < 400 ? 'ok' : 'unhealthy');
    return process.env.HEALTH_FAIL === '1' ? send(503, 'unhealthy') : send(200, 'ok');
  }
  if (url.pathname === '/admin/health' && process.env.HEALTH_ADMIN === '1') {
    const wanted = Number(url.searchParams.get('status'));
    if (req.method !== 'POST' || !Number.isInteger(wanted) || wanted < 200 || wanted > 599) return send(400, 'POST /admin/health?status=200..599\n');
    healthOverride = wanted;
    return send(200, { health: wanted, replica: os.hostname() });
  }
  if (url.pathname === '/slow') {
    const ms = Math.max(0, Math.min(Number(url.searchParams.get('ms') ?? 2000) || 0, 60_000));
    return setTimeout(() => send(200, { slow: ms, release }), ms);
  }
  if (url.pathname === '/events') return openStream(res);
  if (url.pathname === '/api/health') {
    const wanted = Number(process.env.API_HEALTH_STATUS ?? 200);
    const apiStatus = Number.isInteger(wanted) && wanted >= 200 && wanted <= 599 ? wanted : 200;
    return send(apiStatus, apiStatus < 400 ? 'api ok' : 'api failing');
  }
  const status = /^\/status\/([1-5]\d\d)$/.exec(url.pathname);
  if (status && Number(status[1]) >= 200) return send(Number(status[1]), { status: Number(status[1]), release });
  if (url.pathname !== '/') return send(404, 'not found\n');
  const answer = () => {
    if (errorRate > 0 && Math.random() < errorRate) return send(500, { error: 'injected failure', release });
    send(200, { app: 'hello', release, version, replica: os.hostname(), requestId: req.headers['x-request-id'] ?? null, proto: req.headers['x-forwarded-proto'] ?? null });
  };
  if (delayMs > 0) setTimeout(answer, delayMs);
  else answer();
});

/**
 * SSE: a tick every TICK_MS. During shutdown a new stream is refused with 503 (it could
 * not last); an open one gets a final `end` event and a complete response on SIGTERM.
 */
function openStream(res) {
  if (shuttingDown) {
    res.writeHead(503, { 'content-type': 'text/plain', 'x-slipway-release': release ?? 'none', connection: 'close' });
    return res.end('shutting down\n');
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-slipway-release': release ?? 'none' });
  let n = 0;
  const tick = () => res.write(`event: tick\nid: ${++n}\ndata: ${JSON.stringify({ n, release })}\n\n`);
  tick();
  const timer = setInterval(tick, TICK_MS);
  const stream = {
    end() {
      clearInterval(timer);
      res.end(`event: end\ndata: ${JSON.stringify({ reason: 'shutting down', release })}\n\n`);
    },
  };
  streams.add(stream);
  res.on('close', () => {
    clearInterval(timer);
    streams.delete(stream);
  });
}

// Longer than the edge's keep-alive, so the edge closes idle connections first.
server.keepAliveTimeout = 65_000;
server.listen(port, () => {
  console.log(`hello ${version ?? '-'} (release ${release ?? 'none'}) listening on :${port}`);
  for (const name of (process.env.ECHO_ENV ?? '').split(',').filter(Boolean)) console.log(`${name}=${process.env[name] ?? ''}`);
});

function shutdown(signal) {
  if (shuttingDown) return;
  shuttingDown = true;
  console.log(`${signal}: finishing ${inFlight} in-flight request(s)`);
  server.close(() => {
    console.log('stopped cleanly');
    process.exit(0);
  });
  for (const stream of streams) stream.end();
  server.closeIdleConnections();
  setTimeout(() => {
    console.error(`still ${inFlight} request(s) after ${FORCE_EXIT_MS / 1000}s: exiting anyway`);
    process.exit(1);
  }, FORCE_EXIT_MS).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
