// examples/stack worker: no port. Takes jobs from the Redis list `jobs` (BRPOP, one second at a
// time), writes a row per job into `processed` (Postgres) and records its heartbeat in Redis
// (`worker:heartbeat`, an ISO time). It reaches both by name only (`db`, `cache`, from
// DATABASE_URL and REDIS_URL) and reconnects when they restart: a failed step is logged
// (never a URL: they carry passwords), retried a second later, and a job whose row could not
// be written goes back to the list (at least once).
// On SIGTERM it finishes the current step and exits 0.
import { PgClient, literal } from './lib/pg-client.js';
import { RedisClient } from './lib/redis-client.js';

if (!process.env.DATABASE_URL || !process.env.REDIS_URL) {
  console.error('DATABASE_URL and REDIS_URL must be set (slipway.yml: uses: [db, cache])');
  process.exit(2);
}
const version = process.env.APP_VERSION ?? null;
const db = new PgClient(process.env.DATABASE_URL, { connectTimeoutMs: 3000, queryTimeoutMs: 5000, applicationName: 'worker' });
const redis = new RedisClient(process.env.REDIS_URL, { connectTimeoutMs: 3000, commandTimeoutMs: 3000 });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const reason = (err) => `${err.code ?? err.name ?? 'error'}: ${err.message}`;

let stopping = false;
process.on('SIGTERM', () => (stopping = true));
process.on('SIGINT', () => (stopping = true));

console.log(`stack worker ${version ?? '-'} (release ${process.env.SLIPWAY_RELEASE ?? 'none'}) started`);
let failing = false;
while (!stopping) {
  try {
    await redis.command('SET', 'worker:heartbeat', new Date().toISOString());
    const popped = await redis.command('BRPOP', 'jobs', '1');
    if (popped) {
      const job = popped[1];
      if (!/^\d{1,15}$/.test(job)) {
        console.error(`dropping job ${JSON.stringify(job).slice(0, 40)}: not an integer`);
      } else {
        try {
          await db.query(`insert into processed (job, version) values (${job}, ${version === null ? 'null' : literal(version)})`);
          console.log(`processed job ${job}`);
        } catch (err) {
          await redis.command('RPUSH', 'jobs', job).catch(() => console.error(`job ${job} lost: redis unreachable`));
          throw err;
        }
      }
    }
    if (failing) console.log('reconnected: processing again');
    failing = false;
  } catch (err) {
    if (!failing) console.error(`waiting for postgres/redis: ${reason(err)}`);
    failing = true;
    await sleep(1000);
  }
}
await Promise.allSettled([db.end(), redis.end()]);
console.log('stopped cleanly');
process.exit(0);
