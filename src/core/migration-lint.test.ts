/** The migration lint: each rule on its unsafe example and its safe pattern, positions, files in order. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFinding, lintMigrationSql, type LintFinding, type LintOptions, type LintRule } from './migration-lint';

const LT = "SET lock_timeout = '5s';\n";

async function lint(sql: string | string[], opts: LintOptions = {}): Promise<LintFinding[]> {
  const files = (Array.isArray(sql) ? sql : [sql]).map((s, i) => ({ name: `db/migrations/000${i + 1}.sql`, sql: s }));
  return lintMigrationSql(files, opts);
}

const rules = (fs: LintFinding[]): LintRule[] => fs.map((f) => f.rule);

/** Each rule: SQL that breaks it, and the safe way that must not (both with lock_timeout set, so only the rule itself speaks). */
const cases: Array<{ rule: LintRule; bad: string; safe: string; names: string[] }> = [
  { rule: 'drop-table', bad: 'DROP TABLE orders', safe: 'CREATE TABLE scratch (id int); DROP TABLE scratch', names: ['"orders"'] },
  { rule: 'drop-column', bad: 'ALTER TABLE orders DROP COLUMN note', safe: 'ALTER TABLE orders ADD COLUMN note2 text', names: ['"note"', '"orders"'] },
  { rule: 'rename', bad: 'ALTER TABLE orders RENAME COLUMN note TO memo', safe: 'ALTER TABLE orders ADD COLUMN memo text', names: ['"note"', '"orders"', '"memo"'] },
  { rule: 'rename', bad: 'ALTER TABLE orders RENAME TO purchases', safe: 'CREATE VIEW purchases AS SELECT * FROM orders', names: ['"orders"', '"purchases"'] },
  { rule: 'type-change', bad: 'ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2)', safe: 'ALTER TABLE orders ADD COLUMN total_exact numeric(12,2)', names: ['"total"', '"orders"'] },
  { rule: 'not-null-without-default', bad: 'ALTER TABLE orders ADD COLUMN region text NOT NULL', safe: "ALTER TABLE orders ADD COLUMN region text NOT NULL DEFAULT 'eu'", names: ['"region"', '"orders"'] },
  {
    rule: 'not-null-without-default',
    bad: 'ALTER TABLE orders ALTER COLUMN region SET NOT NULL',
    safe: 'ALTER TABLE orders ADD CONSTRAINT region_nn CHECK (region IS NOT NULL) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT region_nn;\nALTER TABLE orders ALTER COLUMN region SET NOT NULL',
    names: ['"region"', '"orders"'],
  },
  { rule: 'index-not-concurrently', bad: 'CREATE INDEX orders_user ON orders (user_id)', safe: 'CREATE INDEX CONCURRENTLY orders_user ON orders (user_id)', names: ['"orders_user"', '"orders"'] },
  { rule: 'index-not-concurrently', bad: 'CREATE UNIQUE INDEX ON orders (code)', safe: 'CREATE TABLE codes (code text); CREATE UNIQUE INDEX ON codes (code)', names: ['"orders"'] },
  {
    rule: 'constraint-not-valid',
    bad: 'ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id)',
    safe: 'ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk',
    names: ['FOREIGN KEY', '"orders_user_fk"', '"orders"'],
  },
  { rule: 'constraint-not-valid', bad: 'ALTER TABLE orders ADD CONSTRAINT positive CHECK (total > 0)', safe: 'ALTER TABLE orders ADD CONSTRAINT positive CHECK (total > 0) NOT VALID', names: ['CHECK', '"positive"'] },
];

for (const c of cases) {
  test(`${c.rule} fires on "${c.bad}" and not on its safe pattern`, async () => {
    const bad = await lint(LT + c.bad);
    assert.deepEqual(rules(bad), [c.rule]);
    const f = bad[0]!;
    assert.equal(f.severity, 'blocking');
    assert.equal(f.line, 2);
    assert.equal(f.statement, c.bad);
    for (const n of c.names) assert.ok(f.message.includes(n), `${f.message} names ${n}`);
    assert.ok(f.safePattern.length > 20);
    if (c.bad.endsWith('SET NOT NULL')) assert.match(f.safePattern, /CHECK \(col IS NOT NULL\) NOT VALID, VALIDATE/);
    assert.deepEqual(await lint(LT + c.safe), []);
  });
}

test('no-lock-timeout: once per file, at the first statement that locks an existing table', async () => {
  const sql = 'CREATE TABLE audit (id int);\nCREATE INDEX ON audit (id);\nALTER TABLE orders ADD COLUMN a int;\nALTER TABLE orders ADD COLUMN b int;';
  const fs = await lint(sql);
  assert.deepEqual(rules(fs), ['no-lock-timeout']);
  assert.equal(fs[0]!.line, 3);
  assert.match(fs[0]!.message, /ALTER TABLE on "orders"/);

  assert.deepEqual(await lint(LT + sql), []);
  assert.deepEqual(await lint(`BEGIN;\nSET LOCAL lock_timeout TO '2s';\n${sql}\nCOMMIT;`), []);
  // Set too late, turned off, or a SET LOCAL whose transaction has ended: no timeout at the ALTER.
  assert.deepEqual(rules(await lint(`${sql}\n${LT}`)), ['no-lock-timeout']);
  assert.deepEqual(rules(await lint(`SET lock_timeout = 0;\n${sql}`)), ['no-lock-timeout']);
  assert.deepEqual(rules(await lint(`${LT}RESET lock_timeout;\n${sql}`)), ['no-lock-timeout']);
  assert.deepEqual(rules(await lint(`BEGIN; SET LOCAL lock_timeout = '1s'; COMMIT;\n${sql}`)), ['no-lock-timeout']);
  // DROP counts; CREATE INDEX CONCURRENTLY takes no lock that blocks traffic.
  assert.deepEqual(rules(await lint('DROP INDEX orders_user')), ['no-lock-timeout']);
  assert.deepEqual(await lint('CREATE INDEX CONCURRENTLY orders_user ON orders (user_id)'), []);
});

test('a table created earlier in the set is new: indexes, NOT NULL columns and constraints on it are fine', async () => {
  const create = 'CREATE TABLE invoices (id bigint PRIMARY KEY, order_id bigint);';
  const later = [
    'CREATE INDEX invoices_order ON invoices (order_id);',
    'ALTER TABLE invoices ADD COLUMN state text NOT NULL;',
    'ALTER TABLE public.invoices ADD CONSTRAINT fk FOREIGN KEY (order_id) REFERENCES orders (id);',
    'ALTER TABLE invoices DROP COLUMN state;',
  ].join('\n');
  assert.deepEqual(await lint(`${create}\n${later}`), []);
  assert.deepEqual(await lint([create, later]), [], 'created in an earlier file');
  assert.equal((await lint([later, create])).length, 5, 'created only after: still an existing table');
});

test('existingTables: a known set decides what exists, by name or schema.name', async () => {
  const sql = `${LT}CREATE INDEX ON orders (a);\nCREATE INDEX ON shop.carts (a);\nCREATE INDEX ON users (a);`;
  const fs = await lint(sql, { existingTables: new Set(['Orders', 'shop.carts']) });
  assert.deepEqual(fs.map((f) => f.line), [2, 3]);
  assert.equal((await lint(sql, { existingTables: new Set(['public.orders']) })).length, 1);
  assert.equal((await lint(sql, { existingTables: new Set(['other.carts']) })).length, 0);
  assert.equal((await lint(sql, { existingTables: 'unknown' })).length, 3);
  // CREATE TABLE IF NOT EXISTS on a table known to exist does not make it new.
  const ifne = `${LT}CREATE TABLE IF NOT EXISTS orders (id int);\nCREATE INDEX ON orders (id);`;
  assert.deepEqual(rules(await lint(ifne, { existingTables: new Set(['orders']) })), ['index-not-concurrently']);
  assert.deepEqual(await lint(ifne), []);
});

test('line numbers for multi-statement files, with comments and a transaction block', async () => {
  const sql = [
    '-- 0003: tidy orders', // 1
    '/* a block comment', // 2
    '   DROP TABLE nothing; */', // 3
    'BEGIN;', // 4
    "SET LOCAL lock_timeout = '5s';", // 5
    'ALTER TABLE orders ADD COLUMN flag boolean; -- fine', // 6
    '', // 7
    '  ALTER TABLE orders', // 8
    '    DROP COLUMN note,', // 9
    '    DROP COLUMN "Memo";', // 10
    "SELECT 'é😀'; DROP TABLE carts;", // 11
    'COMMIT;', // 12
    'DROP TABLE users', // 13
  ].join('\n');
  const fs = await lint(sql);
  // The SET LOCAL ended with COMMIT, so the last DROP waits for its lock without a timeout.
  assert.deepEqual(fs.map((f) => [f.line, f.rule]), [[8, 'drop-column'], [8, 'drop-column'], [11, 'drop-table'], [13, 'drop-table'], [13, 'no-lock-timeout']]);
  assert.equal(fs[0]!.statement, 'ALTER TABLE orders DROP COLUMN note, DROP COLUMN "Memo"');
  assert.match(fs[1]!.message, /"Memo"/);
  assert.equal(fs[2]!.statement, 'DROP TABLE carts');
  assert.equal(fs[3]!.statement, 'DROP TABLE users');
});

test('a parse error is a finding at its statement, not a throw; other files are still linted', async () => {
  const broken = "SET lock_timeout = '5s';\nSELECT 'é😀';\nALTER TABLE orders\n  DROP COLUMN;\nSELECT 1;";
  const fs = await lint([broken, 'DROP TABLE orders;']);
  assert.deepEqual(fs.map((f) => [f.file, f.line, f.rule]), [
    ['db/migrations/0001.sql', 3, 'parse-error'],
    ['db/migrations/0002.sql', 1, 'drop-table'],
    ['db/migrations/0002.sql', 1, 'no-lock-timeout'],
  ]);
  assert.equal(fs[0]!.message, 'syntax error at or near ";"');
  assert.equal(fs[0]!.statement, 'ALTER TABLE orders DROP COLUMN');

  const unterminated = await lint("SELECT 1;\n\nSELECT 'abc");
  assert.deepEqual(unterminated.map((f) => [f.line, f.rule]), [[3, 'parse-error']]);
  assert.match(unterminated[0]!.message, /unterminated quoted string/);
});

test('empty and comment-only files have no findings; long statements are cut', async () => {
  assert.deepEqual(await lint(['', '  \n', '-- nothing yet\n']), []);
  const cols = Array.from({ length: 80 }, (_, i) => `DROP COLUMN c${i}`).join(', ');
  const fs = await lint(`${LT}ALTER TABLE wide ${cols};`);
  assert.equal(fs.length, 80);
  assert.ok(fs[0]!.statement.length <= 300 && fs[0]!.statement.endsWith('…'));
});

test('formatFinding is one line naming the file, line, rule, statement and the safe way', async () => {
  const [f] = await lint(`${LT}\n\nALTER TABLE orders\n  DROP COLUMN note;`);
  assert.ok(f);
  assert.equal(
    formatFinding({ ...f, file: 'db/migrations/0003_drop.sql' }),
    'db/migrations/0003_drop.sql:4: drop-column: ALTER TABLE orders DROP COLUMN note — drops column "note" of "orders" (data is lost, and old replicas still reading it fail). Safe: stop reading the column in one release, drop it in a later one.',
  );
  assert.doesNotMatch(formatFinding({ ...f, message: 'two\nlines' }), /\n/);
});
