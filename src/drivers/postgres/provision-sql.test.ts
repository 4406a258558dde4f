import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { isSlipwayError } from '../../core/errors';
import type { PostgresProvisioning } from '../../core/ports/postgres-admin';
import { PgPostgresAdmin } from './postgres-admin';
import {
  checkProvisioning,
  countRowsSql,
  createDatabaseSql,
  createRoleSql,
  databaseAccessSql,
  maskSecrets,
  passwordMatches,
  schemaPrivilegesSql,
  scramVerifier,
  setPasswordSql,
} from './provision-sql';

const target = { host: '127.0.0.1', port: 5432, user: 'postgres', password: 'super-secret-pw' };
const plan = (over: Partial<PostgresProvisioning> = {}): PostgresProvisioning => ({
  database: 'shop',
  owner: { name: 'owner', password: 'owner-pw-0123456789' },
  app: { name: 'app', password: 'app-pw-0123456789' },
  ...over,
});

test('identifiers are double-quoted with quotes doubled; injection attempts stay one identifier', () => {
  assert.equal(createDatabaseSql('shop', 'owner'), 'CREATE DATABASE "shop" OWNER "owner"');
  assert.equal(createDatabaseSql('we"ird; DROP DATABASE x; --', 'o'), 'CREATE DATABASE "we""ird; DROP DATABASE x; --" OWNER "o"');
  assert.equal(countRowsSql('my schema', 'Order"s'), 'SELECT count(*)::bigint AS n FROM "my schema"."Order""s"');
  assert.deepEqual(databaseAccessSql('Shop', 'app'), ['REVOKE ALL ON DATABASE "Shop" FROM PUBLIC', 'GRANT CONNECT ON DATABASE "Shop" TO "app"']);
});

test('role statements carry a SCRAM verifier literal, never the password', () => {
  const password = "pa'ss\\word-with-quote";
  const salt = Buffer.alloc(16, 7);
  for (const sql of [createRoleSql('app', password, salt), setPasswordSql('app', password, salt)]) {
    assert.ok(!sql.includes(password) && !sql.includes("pa''ss"), sql);
    assert.match(sql, /PASSWORD 'SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+'$/);
  }
  assert.match(createRoleSql('app', password, salt), /^CREATE ROLE "app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD /);
});

test('the SCRAM verifier matches the RFC 7677 test vector and is checked against stored verifiers', () => {
  // RFC 7677 §3: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations.
  const v = scramVerifier('pencil', Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'));
  const [, keys] = v.split('$').slice(1);
  const serverKey = keys!.split(':')[1];
  // ServerSignature in the RFC is HMAC(ServerKey, AuthMessage); check ServerKey through it.
  const authMessage = 'n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
  assert.equal(createHmac('sha256', Buffer.from(serverKey!, 'base64')).update(authMessage).digest('base64'), '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
  assert.ok(passwordMatches(v, 'user', 'pencil'));
  assert.ok(!passwordMatches(v, 'user', 'pencil2'));
  assert.ok(passwordMatches(scramVerifier('x'), 'r', 'x'), 'a fresh random salt verifies');
  const md5 = `md5${createHash('md5').update('secretapp').digest('hex')}`;
  assert.ok(passwordMatches(md5, 'app', 'secret'));
  assert.ok(!passwordMatches(md5, 'app', 'other'));
  assert.ok(!passwordMatches(null, 'app', 'secret'));
  assert.ok(!passwordMatches('secret', 'app', 'secret'), 'a plaintext rolpassword is never trusted');
});

test('schema privileges: owner owns public; defaults and existing objects give the app role DML only', () => {
  const sql = schemaPrivilegesSql('owner', 'app', ['public', 'audit']);
  assert.deepEqual(sql.slice(0, 5), [
    'REVOKE CREATE ON SCHEMA public FROM PUBLIC',
    'ALTER SCHEMA public OWNER TO "owner"',
    'ALTER DEFAULT PRIVILEGES FOR ROLE "owner" GRANT USAGE ON SCHEMAS TO "app"',
    'ALTER DEFAULT PRIVILEGES FOR ROLE "owner" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "app"',
    'ALTER DEFAULT PRIVILEGES FOR ROLE "owner" GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO "app"',
  ]);
  assert.ok(sql.includes('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "audit" TO "app"'));
  assert.ok(sql.includes('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA "public" TO "app"'));
  for (const s of sql) {
    if (!s.includes('"app"')) continue;
    assert.doesNotMatch(s, /\b(ALL PRIVILEGES|TRUNCATE|REFERENCES|TRIGGER|CREATE)\b.*"app"/, `app gets DML only: ${s}`);
  }
});

test('a bad plan is refused naming the field, before any connection', async () => {
  const cases: Array<[PostgresProvisioning, RegExp]> = [
    [plan({ database: '' }), /database: must not be empty/],
    [plan({ database: 'x'.repeat(64) }), /database: must be at most 63 bytes/],
    [plan({ database: 'template1' }), /database: must not be a system database/],
    [plan({ app: { name: 'owner', password: 'p' } }), /app\.name: must differ from the owner role/],
    [plan({ owner: { name: 'postgres', password: 'p' } }), /owner\.name: must not be the superuser/],
    [plan({ app: { name: 'app', password: '' } }), /app\.password: must not be empty/],
  ];
  for (const [p, re] of cases) assert.throws(() => checkProvisioning(target, p), re);
  // Port 1 refuses; the plan check comes first, so the error is the plan's, not a connection's.
  await assert.rejects(new PgPostgresAdmin().provision({ ...target, port: 1 }, plan({ database: '' })), /database: must not be empty/);
});

test('masking replaces every password and its SQL-quoted form', () => {
  assert.equal(maskSecrets("auth failed for pa'ss and 'pa''ss' and pa'ss", ["pa'ss"]), "auth failed for [secret] and '[secret]' and [secret]");
  assert.equal(maskSecrets('nothing here', ['', 'absent']), 'nothing here');
});

test('a connection failure is SLW_RUNTIME naming the target, with no password in it', async () => {
  const secretHost = { ...target, host: '127.0.0.1', port: 1 };
  await assert.rejects(new PgPostgresAdmin({ connectTimeoutMs: 2000 }).provision(secretHost, plan()), (err: unknown) => {
    assert.ok(isSlipwayError(err));
    assert.equal(err.code, 'SLW_RUNTIME');
    assert.match(err.message, /^postgres at 127\.0\.0\.1:1 \(database postgres\): /);
    for (const pw of [target.password, plan().owner.password, plan().app.password]) assert.ok(!err.message.includes(pw));
    return true;
  });
  await assert.rejects(new PgPostgresAdmin({ connectTimeoutMs: 2000 }).tableRowCounts(secretHost, 'shop'), /postgres at 127\.0\.0\.1:1 \(database shop\)/);
});
