/**
 * The migration lint in a deployment (migration-check.ts) over a fake runtime and store: which
 * files are linted, production blocks with the statement, rule and safe pattern named,
 * --allow-destructive and other environments only log, lint_command's output is the SQL.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MigrationsConfig, ServiceConfig } from '../core/config';
import type { Release, ServiceRef } from '../core/domain';
import type { ImageFile, OneOffResult, OneOffSpec } from '../core/ports/runtime';
import type { DeploymentRecorder } from './deployment-recorder';
import { SERVICE_DEFAULTS } from '../core/stored-service-config';
import type { EngineContext } from './engine-context';
import { checkMigrations, recordMigrations } from './migration-check';

const LT = "SET lock_timeout = '5s';\n";
const IMAGE_FILES: ImageFile[] = [
  { name: '0001_create.sql', content: 'CREATE TABLE notes (id serial PRIMARY KEY, body text, legacy text);' },
  { name: '0002_drop.sql', content: `${LT}ALTER TABLE notes DROP COLUMN legacy;` },
  { name: '0003_index.sql', content: `${LT}CREATE INDEX CONCURRENTLY notes_body ON notes (body);` },
];

interface World {
  ctx: EngineContext;
  rec: DeploymentRecorder;
  logs: Array<{ level: string; message: string }>;
  steps: Array<{ name: string; detail?: string; failed?: string }>;
  recorded: string[][];
  oneOffs: OneOffSpec[];
}

function world(o: { applied?: string[]; files?: ImageFile[] | Error; stdout?: string[]; stderr?: string[]; exitCode?: number; secrets?: Record<string, string> } = {}): World {
  const w: World = { logs: [], steps: [], recorded: [], oneOffs: [] } as unknown as World;
  const runtime = {
    servers: ['local'],
    readImageFiles: async (image: string, dir: string) => {
      assert.equal(image, 'sha256:app');
      assert.equal(dir, '/app/db/migrations');
      if (o.files instanceof Error) throw o.files;
      return o.files ?? IMAGE_FILES;
    },
    runOnce: async (spec: OneOffSpec): Promise<OneOffResult> => {
      w.oneOffs.push(spec);
      for (const l of o.stderr ?? []) spec.onOutput?.(l, 'stderr');
      for (const l of o.stdout ?? []) spec.onOutput?.(l, 'stdout');
      return { exitCode: o.exitCode ?? 0, timedOut: false, durationMs: 5 };
    },
  };
  const store = {
    listAppliedMigrations: async () => o.applied ?? [],
    recordAppliedMigrations: async (_s: number, _e: number, names: string[]) => void w.recorded.push(names),
    getSecrets: async () => ({ sealed: JSON.stringify(o.secrets ?? {}) }),
  };
  w.ctx = { runtime, store, cipher: { open: (s: string) => s } } as unknown as EngineContext;
  w.rec = {
    log: async (message: string, level = 'info') => void w.logs.push({ level, message }),
    step: async <T>(name: string, fn: () => Promise<T>, describe?: (r: T) => string) => {
      try {
        const r = await fn();
        w.steps.push({ name, detail: describe?.(r) });
        return r;
      } catch (err) {
        w.steps.push({ name, failed: (err as Error).message });
        throw err;
      }
    },
  } as unknown as DeploymentRecorder;
  return w;
}

const ref = (env = 'production'): ServiceRef => ({ project: 'shop', service: 'web', env });
function release(migrations: MigrationsConfig | undefined, over: Partial<ServiceConfig> = {}, secretsVersion: number | null = null): Release {
  const config = { ...SERVICE_DEFAULTS, env: { A: '1' }, port: 3000, releaseCommand: ['node', 'migrate.js'], releaseTimeoutMs: 60_000, ...(migrations ? { migrations } : {}), ...over } as unknown as ServiceConfig;
  return { id: 1, serviceId: 3, environmentId: 4, number: 7, imageRef: 'shop/web:1', imageDigest: 'sha256:app', config, sourceRef: null, secretsVersion, createdAt: '' };
}
const DIR: MigrationsConfig = { dir: '/app/db/migrations', lintCommand: null };
const text = (w: World) => w.logs.map((l) => `${l.level} ${l.message}`).join('\n');

test('without migrations (or without a release command) nothing is read and no step is recorded', async () => {
  const w = world();
  assert.equal(await checkMigrations(w.ctx, ref(), release(undefined), 'd1', w.rec, { allowDestructive: false }), null);
  assert.equal(await checkMigrations(w.ctx, ref(), release(DIR, { releaseCommand: null }), 'd1', w.rec, { allowDestructive: false }), null);
  assert.deepEqual(w.steps, []);
});

test('production: a drop of a file not applied yet blocks, naming the statement, the rule, the safe pattern and the way through', async () => {
  const w = world({ applied: ['0001_create.sql'] });
  await assert.rejects(checkMigrations(w.ctx, ref(), release(DIR), 'd1', w.rec, { allowDestructive: false }), (err: Error & { code?: string; details?: Array<{ path: string }> }) => {
    assert.equal(err.code, 'SLW_MIGRATION_BLOCKED');
    assert.match(err.message, /\/app\/db\/migrations\/0002_drop\.sql:2: "ALTER TABLE notes DROP COLUMN legacy" breaks rule drop-column/);
    assert.match(err.message, /safe pattern: /);
    assert.match(err.message, /slipway deploy --allow-destructive.*audit/);
    assert.equal(err.details?.[0]?.path, '/app/db/migrations/0002_drop.sql:2');
    return true;
  });
  assert.equal(w.steps[0]!.name, 'migration lint');
  assert.ok(w.steps[0]!.failed);
  assert.match(text(w), /3 \.sql file\(s\) in \/app\/db\/migrations, 2 not applied yet: 0002_drop\.sql, 0003_index\.sql/);
  assert.match(text(w), /^error {3}\/app\/db\/migrations\/0002_drop\.sql:2: drop-column: ALTER TABLE notes DROP COLUMN legacy — .*Safe: /m);
  assert.doesNotMatch(text(w), /0001_create/, 'an applied file is not linted again');
});

test('production with --allow-destructive: logged as warnings with who asked; the files are recorded after the release command', async () => {
  const w = world({ applied: ['0001_create.sql'] });
  const check = await checkMigrations(w.ctx, ref(), release(DIR), 'd1', w.rec, { allowDestructive: true, requestedBy: 'alice' });
  assert.deepEqual(check, { files: ['0001_create.sql', '0002_drop.sql', '0003_index.sql'] });
  assert.match(text(w), /^warn {3}\/app\/db\/migrations\/0002_drop\.sql:2: drop-column/m);
  assert.match(text(w), /^warn migration lint: 1 finding\(s\) allowed by --allow-destructive \(requested by alice\)$/m);
  assert.equal(w.steps[0]!.detail, '1 finding(s), allowed by --allow-destructive (requested by alice)');
  await recordMigrations(w.ctx, release(DIR), check, w.rec);
  assert.deepEqual(w.recorded, [['0001_create.sql', '0002_drop.sql', '0003_index.sql']]);
});

test('other environments: findings are warnings only', async () => {
  const w = world({ applied: ['0001_create.sql'] });
  const check = await checkMigrations(w.ctx, ref('staging'), release(DIR), 'd1', w.rec, { allowDestructive: false });
  assert.equal(check?.files?.length, 3);
  assert.match(text(w), /^warn {3}.*drop-column/m);
  assert.match(text(w), /warnings only outside production/);
  assert.equal(w.steps[0]!.detail, '1 finding(s), warnings only in staging');
});

test('a table the same set creates is new: dropping its column is no finding', async () => {
  const w = world();
  await checkMigrations(w.ctx, ref(), release(DIR), 'd1', w.rec, { allowDestructive: false });
  assert.equal(w.steps[0]!.detail, 'no findings in 3 file(s)');
});

test('nothing new, or only safe SQL: the step says so', async () => {
  const all = world({ applied: IMAGE_FILES.map((f) => f.name) });
  await checkMigrations(all.ctx, ref(), release(DIR), 'd1', all.rec, { allowDestructive: false });
  assert.equal(all.steps[0]!.detail, 'nothing new to lint');
  const safe = world({ applied: ['0001_create.sql', '0002_drop.sql'] });
  await checkMigrations(safe.ctx, ref(), release(DIR), 'd1', safe.rec, { allowDestructive: false });
  assert.equal(safe.steps[0]!.detail, 'no findings in 1 file(s)');
});

test('a directory the image lacks fails the deployment naming services.<name>.migrations.dir', async () => {
  const { SlipwayError } = await import('../core/errors');
  const w = world({ files: new SlipwayError('SLW_NOT_FOUND', 'the image has no directory /app/db/migrations') });
  await assert.rejects(checkMigrations(w.ctx, ref(), release(DIR), 'd1', w.rec, { allowDestructive: false }), (err: Error & { code?: string; details?: Array<{ path: string }> }) => {
    assert.equal(err.code, 'SLW_CONFIG_INVALID');
    assert.match(err.message, /^services\.web\.migrations\.dir: the image has no directory \/app\/db\/migrations \(sha256:app\); it must be the directory of the release image/);
    assert.equal(err.details?.[0]?.path, 'services.web.migrations.dir');
    return true;
  });
});

test('lint_command: its stdout is the SQL, run in the release image with the release command\'s environment; secrets are masked', async () => {
  const secrets = { ROLE_PASSWORD: 'hunter2-secret' };
  const w = world({ stdout: [LT.trim(), "ALTER ROLE app PASSWORD 'hunter2-secret';", 'DROP TABLE orders;'], stderr: ['reading migrations'], secrets });
  const cmd: MigrationsConfig = { dir: null, lintCommand: ['node', 'migrate.js', '--print-sql'] };
  await assert.rejects(checkMigrations(w.ctx, ref(), release(cmd, {}, 2), 'd1', w.rec, { allowDestructive: false }), /lint_command output:3: "DROP TABLE orders" breaks rule drop-table/);
  const spec = w.oneOffs[0]!;
  assert.deepEqual(spec.argv, ['node', 'migrate.js', '--print-sql']);
  assert.equal(spec.image, 'sha256:app');
  assert.equal(spec.kind, 'release');
  assert.match(spec.name, /^shop-web-production-v7-lint-[0-9a-f]{6}$/);
  assert.deepEqual(spec.labels, { project: 'shop', service: 'web', env: 'production', release: 7, deployment: 'd1' });
  assert.equal(spec.env.ROLE_PASSWORD, 'hunter2-secret');
  assert.equal(spec.env.SLIPWAY_RELEASE, 'v7');
  assert.match(text(w), /^warn {3}lint \| reading migrations$/m);
  assert.doesNotMatch(text(w), /hunter2-secret/);
});

test('lint_command failing fails the deployment before the release command, naming the field', async () => {
  const w = world({ exitCode: 3 });
  const cmd: MigrationsConfig = { dir: null, lintCommand: ['print-sql'] };
  await assert.rejects(checkMigrations(w.ctx, ref(), release(cmd), 'd1', w.rec, { allowDestructive: false }), /^SlipwayError: services\.web\.migrations\.lint_command \["print-sql"\] exited with code 3; the release command did not run/);
  assert.deepEqual(w.recorded, []);
  await recordMigrations(w.ctx, release(cmd), { files: null }, w.rec);
  assert.deepEqual(w.recorded, [], 'lint_command records nothing');
});
