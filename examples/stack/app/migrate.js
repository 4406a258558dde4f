// examples/stack release command: `node migrate.js`, run by Slipway once per deployment,
// before any new replica gets traffic. It runs as the database's OWNER (Slipway hands the
// release command the owner's URL under the same DATABASE_URL); replicas get the app role,
// which may read and write these tables but not create, alter or drop them.
// Idempotent: every statement may run again on the next deploy.
// ECHO_ENV (comma-separated names printed first): a careless migration that logs its
// configuration, to show Slipway masking the owner's credentials in the deployment log.
import { PgClient } from './lib/pg-client.js';

if (!process.env.DATABASE_URL) {
  console.error('DATABASE_URL must be set (slipway.yml: uses: [db])');
  process.exit(2);
}
for (const name of (process.env.ECHO_ENV ?? '').split(',').filter(Boolean)) console.log(`${name}=${process.env[name] ?? ''}`);
const db = new PgClient(process.env.DATABASE_URL, { connectTimeoutMs: 5000, queryTimeoutMs: 60_000, applicationName: 'migrate' });

const MIGRATIONS = [
  ['create table visits', 'create table if not exists visits (id serial primary key, at timestamptz not null default now(), version text)'],
  ['create table processed', 'create table if not exists processed (id serial primary key, job bigint not null, at timestamptz not null default now(), version text)'],
  // A later migration: only the owner may ALTER.
  ['alter table visits add column replica', 'alter table visits add column if not exists replica text'],
];

// Slipway starts the database and waits for it before the release command; a short retry
// still covers a server that is finishing its start.
let who;
for (let attempt = 1; ; attempt++) {
  try {
    who = (await db.query('select current_user as user, current_database() as database')).rows[0];
    break;
  } catch (err) {
    if (attempt >= 30 || err.name === 'PgError') {
      console.error(`cannot reach the database: ${err.code ?? ''} ${err.message}`);
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
console.log(`migrating database ${who.database} as ${who.user}`);
for (const [name, sql] of MIGRATIONS) {
  try {
    await db.query(sql);
    console.log(`  ${name}: ok`);
  } catch (err) {
    console.error(`  ${name}: failed (${err.code ?? ''} ${err.message})`);
    process.exit(1);
  }
}
const { rows } = await db.query("select count(*)::int as n from information_schema.tables where table_schema = 'public'");
console.log(`migrated: ${rows[0].n} table(s) in public`);
await db.end();
