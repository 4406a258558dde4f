// examples/stack web: a dependency-free HTTP app that uses Postgres (`db`) and Redis (`cache`),
// reached by name on the project's private network with the URLs Slipway injects
// (DATABASE_URL: the app role, DML only; REDIS_URL).
//   GET  /              → an HTML page: the visit counter (Redis INCR) and the rows of `visits`
//   GET  /health        → 200 when Postgres (select 1) and Redis (PING) both answer, else 503 naming the one that failed
//   POST /visits        → inserts a row into `visits`, answers {id}
//   GET  /visits/count  → {count}
//   GET  /visits?ids=1,2 → {found, missing}: which of these rows exist (rows written before a deploy are still there after it)
//   POST /jobs          → queues a job for the worker (Redis list `jobs`), answers {job}
//   GET  /worker        → {heartbeat, processed, lastJob}: what the worker did (it writes `processed`, sets `worker:heartbeat`)
//   GET  /db/privileges → what the app role may do: CREATE/ALTER/DROP/TRUNCATE are tried inside a transaction that is rolled back
//   GET  /db/whoami     → {user, database, server}: which role and which server this replica talks to
//   GET  /version       → {version, release}
// Knobs (env): PORT (3000), APP_VERSION, DATABASE_URL, REDIS_URL (connection URLs carry passwords: never
// printed), ECHO_ENV (comma-separated names printed at startup: a careless app that logs its
// configuration, to show Slipway masking the generated credentials in `slipway logs`).
// On SIGTERM it stops accepting, finishes in-flight requests, closes idle keep-alive connections and exits 0.
import http from 'node:http';
import os from 'node:os';
import { PgClient, literal } from './lib/pg-client.js';
import { RedisClient } from './lib/redis-client.js';

const port = Number(process.env.PORT ?? 3000);
const release = process.env.SLIPWAY_RELEASE ?? null;
const version = process.env.APP_VERSION ?? null;
const FORCE_EXIT_MS = 25_000;
const HEALTH_TIMEOUT_MS = 2000;

if (!process.env.DATABASE_URL || !process.env.REDIS_URL) {
  console.error('DATABASE_URL and REDIS_URL must be set (slipway.yml: uses: [db, cache])');
  process.exit(2);
}
const db = new PgClient(process.env.DATABASE_URL, { connectTimeoutMs: 3000, queryTimeoutMs: 5000, applicationName: `web ${os.hostname()}` });
const redis = new RedisClient(process.env.REDIS_URL, { connectTimeoutMs: 3000, commandTimeoutMs: 3000 });

let inFlight = 0;
let shuttingDown = false;

/** A short description of a failure, never a URL (they carry passwords). */
const reason = (err) => `${err.code ?? err.name ?? 'error'}: ${err.message}`;

function within(ms, promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what}: no answer within ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function health() {
  const [pg, rd] = await Promise.allSettled([
    within(HEALTH_TIMEOUT_MS, db.query('select 1 as ok'), 'postgres'),
    within(HEALTH_TIMEOUT_MS, redis.command('PING'), 'redis'),
  ]);
  return {
    postgres: pg.status === 'fulfilled' ? 'ok' : reason(pg.reason),
    redis: rd.status === 'fulfilled' && rd.value === 'PONG' ? 'ok' : rd.status === 'rejected' ? reason(rd.reason) : `unexpected answer ${rd.value}`,
  };
}

async function countVisits() {
  const { rows } = await db.query('select count(*)::int as n from visits');
  return rows[0].n;
}

/** Integers only: they go into SQL text (the simple protocol has no parameters). */
function idList(text) {
  const ids = (text ?? '').split(',').filter(Boolean);
  if (ids.length === 0 || ids.length > 1000 || !ids.every((id) => /^\d{1,15}$/.test(id))) return null;
  return ids.map(Number);
}

/**
 * Runs `sql` inside a transaction that is always rolled back: the answer is whether the role
 * may, never a change. On its own connection, so no other request's query lands in that transaction.
 */
async function attempt(conn, sql) {
  await conn.query('begin');
  try {
    await conn.query(sql);
    return { allowed: true };
  } catch (err) {
    return { allowed: false, code: err.code ?? null, error: err.message };
  } finally {
    await conn.query('rollback');
  }
}

const routes = {
  'GET /health': async () => {
    const h = await health();
    const ok = h.postgres === 'ok' && h.redis === 'ok';
    return [ok ? 200 : 503, ok ? 'ok\n' : h];
  },
  'GET /': async () => {
    const [visits, rows] = await Promise.all([redis.command('INCR', 'visits'), countVisits()]);
    const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    const page = `<!doctype html>
<html><head><meta charset="utf-8"><title>stack</title></head>
<body>
<h1>stack ${esc(version ?? '-')}</h1>
<p>Visits (Redis counter): <strong id="visits">${visits}</strong></p>
<p>Rows in <code>visits</code> (Postgres): <strong id="rows">${rows}</strong></p>
<p>Release ${esc(release ?? 'none')}, replica ${esc(os.hostname())}</p>
</body></html>
`;
    return [200, page, 'text/html; charset=utf-8'];
  },
  'POST /visits': async () => {
    const { rows } = await db.query(`insert into visits (version) values (${version === null ? 'null' : literal(version)}) returning id`);
    return [201, { id: rows[0].id, version }];
  },
  'GET /visits/count': async () => [200, { count: await countVisits() }],
  'GET /visits': async (url) => {
    const ids = idList(url.searchParams.get('ids'));
    if (!ids) return [400, { error: 'ids: a comma-separated list of 1 to 1000 integers' }];
    const { rows } = await db.query(`select id from visits where id in (${ids.join(',')})`);
    const found = new Set(rows.map((r) => r.id));
    return [200, { found: ids.filter((id) => found.has(id)), missing: ids.filter((id) => !found.has(id)) }];
  },
  'POST /jobs': async () => {
    const job = await redis.command('INCR', 'jobs:seq');
    await redis.command('LPUSH', 'jobs', String(job));
    return [202, { job }];
  },
  'GET /worker': async () => {
    const [heartbeat, { rows }] = await Promise.all([
      redis.command('GET', 'worker:heartbeat'),
      db.query('select count(*)::int as processed, max(job)::int as last_job from processed'),
    ]);
    return [200, { heartbeat, processed: rows[0].processed, lastJob: rows[0].last_job }];
  },
  'GET /db/privileges': async () => {
    const conn = new PgClient(process.env.DATABASE_URL, { connectTimeoutMs: 3000, queryTimeoutMs: 5000, applicationName: 'privileges-check' });
    const tries = {
      select: 'select count(*) from visits',
      insert: "insert into visits (version) values ('privileges-check')",
      create: 'create table privileges_check (x int)',
      alter: 'alter table visits add column privileges_check int',
      drop: 'drop table visits',
      truncate: 'truncate visits',
    };
    try {
      const { rows } = await conn.query('select current_user as user');
      const results = {};
      for (const [name, sql] of Object.entries(tries)) results[name] = await attempt(conn, sql);
      return [200, { user: rows[0].user, results }];
    } finally {
      await conn.end();
    }
  },
  'GET /db/whoami': async () => {
    const { rows } = await db.query('select current_user as user, current_database() as database, host(inet_server_addr()) as server');
    return [200, rows[0]];
  },
  'GET /version': async () => [200, { version, release }],
};

const server = http.createServer((req, res) => {
  inFlight++;
  res.on('close', () => {
    inFlight--;
    if (shuttingDown) server.closeIdleConnections();
  });
  const url = new URL(req.url ?? '/', 'http://localhost');
  const send = (status, body, type) => {
    const json = typeof body !== 'string';
    const headers = { 'content-type': type ?? (json ? 'application/json' : 'text/plain'), 'x-slipway-release': release ?? 'none' };
    if (shuttingDown) headers.connection = 'close';
    res.writeHead(status, headers);
    res.end(json ? `${JSON.stringify(body)}\n` : body);
  };
  const route = routes[`${req.method} ${url.pathname}`];
  if (!route) return send(404, 'not found\n');
  req.resume(); // no route reads a body
  route(url).then(
    ([status, body, type]) => send(status, body, type),
    (err) => {
      console.error(`${req.method} ${url.pathname} failed: ${reason(err)}`);
      send(err.code === 'ETIMEDOUT' || err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET' ? 503 : 500, { error: reason(err) });
    },
  );
});

// Longer than the edge's keep-alive, so the edge closes idle connections first.
server.keepAliveTimeout = 65_000;
server.listen(port, () => {
  console.log(`stack web ${version ?? '-'} (release ${release ?? 'none'}) listening on :${port}`);
  for (const name of (process.env.ECHO_ENV ?? '').split(',').filter(Boolean)) console.log(`${name}=${process.env[name] ?? ''}`);
});

function shutdown(signal) {
  if (shuttingDown) return;
  shuttingDown = true;
  console.log(`${signal}: finishing ${inFlight} in-flight request(s)`);
  server.close(async () => {
    await Promise.allSettled([db.end(), redis.end()]);
    console.log('stopped cleanly');
    process.exit(0);
  });
  server.closeIdleConnections();
  setTimeout(() => {
    console.error(`still ${inFlight} request(s) after ${FORCE_EXIT_MS / 1000}s: exiting anyway`);
    process.exit(1);
  }, FORCE_EXIT_MS).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
