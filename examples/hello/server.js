// examples/hello: a dependency-free HTTP app for Slipway. Knobs (env):
//   PORT (3000), APP_VERSION, HEALTH_FAIL=1 (health answers 503), ERROR_RATE (0..1 of / answer 500),
//   DELAY_MS (latency added to /). GET /slow?ms=N answers after N ms (a long request).
// On SIGTERM it stops accepting, finishes in-flight requests, closes idle keep-alive
// connections and exits 0: what every app behind a zero-downtime deploy should do.
import http from 'node:http';
import os from 'node:os';

const port = Number(process.env.PORT ?? 3000);
const release = process.env.SLIPWAY_RELEASE ?? null;
const version = process.env.APP_VERSION ?? null;
const errorRate = Number(process.env.ERROR_RATE ?? 0);
const delayMs = Number(process.env.DELAY_MS ?? 0);
let inFlight = 0;

const server = http.createServer((req, res) => {
  inFlight++;
  res.on('close', () => inFlight--);
  const url = new URL(req.url ?? '/', 'http://localhost');
  const send = (status, body, type = 'application/json') => {
    res.writeHead(status, { 'content-type': type, 'x-slipway-release': release ?? 'none' });
    res.end(type === 'application/json' ? `${JSON.stringify(body)}\n` : body);
  };
  if (url.pathname === '/health') {
    return process.env.HEALTH_FAIL === '1' ? send(503, 'unhealthy\n', 'text/plain') : send(200, 'ok\n', 'text/plain');
  }
  if (url.pathname === '/slow') {
    const ms = Math.min(Number(url.searchParams.get('ms') ?? 2000), 60_000);
    return setTimeout(() => send(200, { slow: ms, release }), ms);
  }
  const answer = () => {
    if (errorRate > 0 && Math.random() < errorRate) return send(500, { error: 'injected failure', release });
    send(200, { app: 'hello', release, version, replica: os.hostname(), requestId: req.headers['x-request-id'] ?? null });
  };
  if (delayMs > 0) setTimeout(answer, delayMs);
  else answer();
});

server.keepAliveTimeout = 65_000; // longer than the edge's keep-alive, so the edge closes first
server.listen(port, () => console.log(`hello ${version ?? ''} (${release ?? 'no release'}) listening on :${port}`));

process.on('SIGTERM', () => {
  console.log(`SIGTERM: finishing ${inFlight} in-flight request(s)`);
  server.close(() => {
    console.log('stopped cleanly');
    process.exit(0);
  });
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 25_000).unref();
});
