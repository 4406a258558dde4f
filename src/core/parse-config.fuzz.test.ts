/**
 * Fuzz of the slipway.yml parser (issue 18, "Also"): no text, YAML value or mutation of a
 * valid file makes it throw or hold the event loop past the bound, and every refusal names
 * where (a field path, a line or the file) and what. Each property is bounded in time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseProjectConfig, type ParseResult } from './parse-config';

const STALL_BOUND_MS = 50;
const TIME_LIMIT_MS = 800;

const VALID = {
  project: 'shop',
  repository: 'https://git.example.com/shop.git',
  branches: { main: 'staging' },
  services: {
    web: {
      build: { context: '.', dockerfile: 'Dockerfile', args: { NODE_ENV: 'production' } },
      port: 3000,
      domains: ['shop.example.com'],
      replicas: 2,
      health: { path: '/health', interval: '500ms', timeout: '2s', deadline: '60s' },
      deploy: { strategy: 'canary', steps: [{ weight: 10, pause: '30s' }], analysis: { max_p99: '500ms' }, drain_timeout: '10s' },
      https: { hsts: '365d' },
      env: { GREETING: 'hi', WORKERS: 4 },
      release_command: ['node', 'migrate.js'],
      release_timeout: '5m',
      uses: ['db', 'cache'],
      volumes: ['uploads:/app/uploads', { name: 'cfg', path: '/etc/app', read_only: true }],
      resources: { memory: '512m', cpus: 0.5 },
    },
    worker: { image: 'slipway/node:20', command: ['node', 'worker.js'], min_ready: '5s', uses: { db: { url: 'PRIMARY_DB' }, search: { url: 'SEARCH_ADDR' } }, health: { kind: 'exec', command: ['test', '-f', '/tmp/ready'] }, release: { build: './migrator', command: ['node', 'migrate.js'] } },
    nightly: { image: 'slipway/node:20', schedule: '0 3 * * *', job_timeout: '1h' },
  },
  accessories: {
    db: { kind: 'postgres', version: '15', database: 'shop', resources: { memory: '1g' }, health: { deadline: '3m' } },
    cache: { kind: 'redis', volumes: ['backups:/backups:ro'] },
    search: { kind: 'container', image: 'getmeili/meilisearch:v1.7', port: 7700, env: { MEILI_ENV: 'production' }, health: { kind: 'http', path: '/health' }, stop_timeout: '10s' },
  },
  environments: { staging: { approval: 'none', services: { web: { replicas: 1, env: { GREETING: 'staging' }, resources: { cpus: 1 } } }, accessories: { db: { image: 'postgres:16', env: { TZ: 'UTC' } } } } },
};

function timedParse(text: string, env?: string): { r: ParseResult; ms: number } {
  const c0 = process.cpuUsage();
  const r = parseProjectConfig(text, { env });
  const c = process.cpuUsage(c0);
  return { r, ms: (c.user + c.system) / 1000 };
}

/** Parses and checks the answer's shape and the CPU time it took. */
function check(text: string, env?: string): ParseResult {
  const { r, ms: first } = timedParse(text, env);
  // A run over the bound is measured twice more and the least counts: a stall of the parser repeats,
  // a collection or another process's turn on a loaded machine (process CPU counts GC threads) does not.
  const ms = first < STALL_BOUND_MS ? first : Math.min(first, timedParse(text, env).ms, timedParse(text, env).ms);
  assert.ok(ms < STALL_BOUND_MS, `parsing took ${ms.toFixed(1)} ms of CPU (bound ${STALL_BOUND_MS} ms) for ${JSON.stringify(text.slice(0, 200))}`);
  if (!r.ok) {
    assert.ok(r.errors.length > 0, 'a refusal has at least one error');
    for (const e of r.errors) {
      assert.ok(typeof e.path === 'string' && e.path.length > 0, `every error names a field, a line or the file: ${JSON.stringify(e)}`);
      assert.ok(typeof e.message === 'string' && e.message.length > 0, `every error says what is expected: ${JSON.stringify(e)}`);
    }
  }
  return r;
}

const fuzzOpts = { interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false, numRuns: 100_000 } as const;

test('the valid example is accepted (the mutations below start from a valid file)', () => {
  // The first parse compiles zod's parsers of every schema it meets (tens of ms, once per process): not a stall.
  parseProjectConfig(stringify(VALID));
  for (let i = 0; i < 5; i++) assert.ok(check(stringify(VALID)).ok); // also warms the JIT up for the CPU bound
  assert.ok(check(stringify(VALID), 'staging').ok);
});

test('fuzz: arbitrary text never throws, stalls, or refuses without naming where', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => void check(text)), fuzzOpts);
});

test('fuzz: YAML syntax soup (anchors, aliases, tags, flow and block) never throws', () => {
  const piece = fc.constantFrom('&a ', '*a', '&b ', '*b', '[', ']', '{', '}', ': ', ':', '- ', '\n', '  ', 'project', 'services', 'web', 'image', 'x', '!!str ', '!!map ', '!!binary ', '<<: ', '"', "'", '|', '>', '#', '? ', ', ', '%YAML 1.2\n', '---\n', '...\n', '1e308', '.inf', '.nan', '~', '\t', '\0', '\\u0000');
  fc.assert(fc.property(fc.array(piece, { maxLength: 120 }).map((p) => p.join('')), (text) => void check(text)), fuzzOpts);
});

test('fuzz: any JSON-like value as a whole file never throws', () => {
  fc.assert(fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => void check(stringify(value))), fuzzOpts);
});

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path to a value in `v` (maps and lists), the root excluded. */
function paths(v: Json, at: Array<string | number> = []): Array<Array<string | number>> {
  if (Array.isArray(v)) return v.flatMap((x, i) => [[...at, i], ...paths(x, [...at, i])]);
  if (v !== null && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => [[...at, k], ...paths(x, [...at, k])]);
  return [];
}

function mutate(root: Json, path: Array<string | number>, op: 'replace' | 'delete' | 'add', value: Json, key: string): Json {
  const copy = structuredClone(root);
  let parent = copy as Record<string | number, Json>;
  for (const p of path.slice(0, -1)) parent = parent[p] as Record<string | number, Json>;
  const last = path[path.length - 1]!;
  if (op === 'replace') parent[last] = value;
  else if (op === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else if (parent[last] !== null && typeof parent[last] === 'object' && !Array.isArray(parent[last])) (parent[last] as Record<string, Json>)[key] = value;
  else parent[last] = value;
  return copy;
}

test('fuzz: a valid file with one field replaced, removed or added is accepted or refused naming a field', () => {
  const all = paths(VALID as Json);
  const weird = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
    fc.constantFrom<Json>('30d', '1000000000000000d', 1e308, -1, 0, '', 'foo\nbar', 'a\0b', 'PORT', 'x'.repeat(2000), [], {}, null, true),
  );
  fc.assert(
    fc.property(fc.constantFrom(...all), fc.constantFrom('replace', 'delete', 'add') as fc.Arbitrary<'replace' | 'delete' | 'add'>, weird, fc.string({ maxLength: 20 }), fc.constantFrom(undefined, 'staging'), (path, op, value, key, env) => {
      const r = check(stringify(mutate(VALID as Json, path, op, value, key)), env);
      if (!r.ok) assert.ok(r.errors.some((e) => e.path !== '(root)' || e.message.includes('empty')), `a refusal names a field: ${JSON.stringify(r.errors)}`);
    }),
    fuzzOpts,
  );
});
