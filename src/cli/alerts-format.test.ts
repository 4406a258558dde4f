import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlertRulesView, AlertsOverview, AlertView, SilenceView } from '../core/contract/alerts';
import { alertLines, dashboardUrl, defaultsLines, overviewLines, readDefaultsFile, rulesLines, SILENCE_FLAGS, silencedLines, silencedNow, silenceRequest, silenceScope } from './alerts-format';
import { apiErrorLines } from './certs-format';

const NOW = Date.parse('2025-03-01T12:00:00.000Z');
const BASE = 'http://127.0.0.1:7070';

function alert(over: Partial<AlertView>): AlertView {
  return {
    id: 1,
    rule: 'disk',
    subject: 'local',
    project: null,
    env: null,
    service: null,
    state: 'firing',
    startedAt: '2025-03-01T11:48:00.000Z',
    endedAt: null,
    durationSeconds: 720,
    value: 0.93,
    summary: "93 % of the data directory's disk in use (rule: over 90 %)",
    link: '/servers',
    explain: 'slipway servers',
    silenced: false,
    ...over,
  };
}

function silence(over: Partial<SilenceView>): SilenceView {
  return { id: 7, rule: 'error_rate', subject: 'shop/production/web', project: 'shop', until: '2025-03-01T14:00:00.000Z', reason: 'load test', createdBy: 'user:alice', createdAt: '2025-03-01T12:00:00.000Z', ...over };
}

const web = alert({ id: 2, rule: 'error_rate', subject: 'shop/production/web', project: 'shop', env: 'production', service: 'web', durationSeconds: 95, startedAt: '2025-03-01T11:58:25.000Z', value: 0.125, summary: '12.5 % of 240 requests answered 5xx in the last 60 s (rule: over 5 %)', link: '/p/shop/production/web', explain: 'slipway requests web --project shop --env production --errors' });

test('an alert: rule, subject, how long it fires and since when, its value in words, the command that explains it and its page as a full URL', () => {
  assert.deepEqual(alertLines(alert({}), { baseUrl: BASE, silences: [], now: NOW }), [
    'disk on local: FIRING for 12m (since 2025-03-01T11:48:00Z)',
    "  93 % of the data directory's disk in use (rule: over 90 %)",
    '  explain: slipway servers',
    '  see:     http://127.0.0.1:7070/servers',
  ]);
  // A trailing slash on the server's URL does not double the page's.
  assert.equal(dashboardUrl('https://slipway.example.com/', '/p/shop/production/web'), 'https://slipway.example.com/p/shop/production/web');
  // Silenced when it fired, or covered by a silence made since, is marked; no link or command: no line.
  assert.match(alertLines(alert({ silenced: true, link: null, explain: null }), { baseUrl: BASE, silences: [], now: NOW })[0]!, /\[silenced: nothing was sent\]$/);
  assert.equal(alertLines(alert({ link: null, explain: null }), { baseUrl: BASE, silences: [], now: NOW }).length, 2);
  assert.match(alertLines(web, { baseUrl: BASE, silences: [silence({})], now: NOW })[0]!, /^error_rate on shop\/production\/web: FIRING for 1m \(since 2025-03-01T11:58:25Z\) {2}\[silenced now\]$/);
  const resolved = alertLines(alert({ state: 'resolved', endedAt: '2025-03-01T11:50:00.000Z', durationSeconds: 120 }), { baseUrl: BASE, silences: [], now: NOW });
  assert.equal(resolved[0], 'disk on local: resolved after 2m (2025-03-01T11:48:00Z – 2025-03-01T11:50:00Z)');
});

test('silenced now: a silence in force of the same rule covers its subject, its project (no subject) or everything (neither)', () => {
  assert.equal(silencedNow(web, [silence({})], NOW), true);
  assert.equal(silencedNow(web, [silence({ subject: null })], NOW), true, 'every service of shop');
  assert.equal(silencedNow(web, [silence({ subject: null, project: null })], NOW), true, 'everywhere');
  assert.equal(silencedNow(web, [silence({ subject: null, project: 'other' })], NOW), false);
  assert.equal(silencedNow(web, [silence({ rule: 'p99' })], NOW), false);
  assert.equal(silencedNow(web, [silence({ until: '2025-03-01T11:00:00.000Z' })], NOW), false, 'ended');
  assert.equal(silenceScope(silence({ subject: null })), 'every service of shop');
  assert.equal(silenceScope(silence({ subject: null, project: null })), 'everywhere');
});

test('slipway alerts: "no alerts firing" when none; else each firing alert, then the silences in force; --all adds the resolved ones', () => {
  const empty: AlertsOverview = { firing: 0, alerts: [], silences: [] };
  assert.deepEqual(overviewLines(empty, { baseUrl: BASE, now: NOW, all: false }), ['no alerts firing']);
  assert.deepEqual(overviewLines(empty, { baseUrl: BASE, now: NOW, all: true, project: 'shop' }), ['no alerts firing in shop', '', 'no resolved alerts in shop']);

  const o: AlertsOverview = { firing: 2, alerts: [web, alert({})], silences: [silence({})] };
  const lines = overviewLines(o, { baseUrl: BASE, now: NOW, all: false });
  assert.equal(lines[0], '2 alerts firing (1 silenced):');
  assert.ok(lines.includes('  see:     http://127.0.0.1:7070/p/shop/production/web'), lines.join('\n'));
  assert.ok(lines.includes('  explain: slipway requests web --project shop --env production --errors'), lines.join('\n'));
  const at = lines.indexOf('silences in force:');
  assert.ok(at > 0, lines.join('\n'));
  assert.deepEqual(lines.slice(at + 1), [
    '  ID  RULE        COVERS               UNTIL                         REASON     BY',
    '  7   error_rate  shop/production/web  2025-03-01T14:00:00Z (in 2h)  load test  user:alice',
  ]);
  const all = overviewLines({ firing: 0, alerts: [alert({ state: 'resolved', endedAt: '2025-03-01T11:50:00.000Z', durationSeconds: 120 })], silences: [] }, { baseUrl: BASE, now: NOW, all: true });
  assert.equal(all[0], 'no alerts firing');
  assert.equal(all[2], 'resolved (newest first):');
  assert.match(all[4]!, /^disk on local: resolved after 2m/);
});

test('silence <rule>: a service rule for the project (slipway.yml or -p) or one service (web/rule, web:rule, in --env); a host rule everywhere or one subject, never reading slipway.yml', () => {
  const flags = { for: '2h', env: 'production' };
  const fromFile = () => 'shop';
  const noFile = () => assert.fail('a host rule asked for the project');
  assert.deepEqual(silenceRequest('error_rate', flags, fromFile), { body: { rule: 'error_rate', for: '2h', project: 'shop' } });
  assert.deepEqual(silenceRequest('web/error_rate', { ...flags, env: 'staging', reason: 'load test' }, fromFile), { body: { rule: 'error_rate', for: '2h', reason: 'load test', project: 'shop', env: 'staging', service: 'web' } });
  assert.deepEqual(silenceRequest('web:p99', flags, fromFile), { body: { rule: 'p99', for: '2h', project: 'shop', env: 'production', service: 'web' } });
  assert.deepEqual(silenceRequest('disk', flags, noFile), { body: { rule: 'disk', for: '2h' } });
  assert.deepEqual(silenceRequest('edge_down', { ...flags, for: '30m' }, noFile), { body: { rule: 'edge_down', for: '30m' } });
  assert.deepEqual(silenceRequest('certificate', { ...flags, subject: 'shop.example.com' }, noFile), { body: { rule: 'certificate', for: '2h', subject: 'certificate:shop.example.com' } });
  assert.deepEqual(silenceRequest('certificate:shop.example.com', flags, noFile), { body: { rule: 'certificate', for: '2h', subject: 'certificate:shop.example.com' } });
  assert.deepEqual(silenceRequest('backup_verify', { ...flags, subject: 'shop/production/db' }, noFile), { body: { rule: 'backup_verify', for: '2h', subject: 'backup:shop/production/db' } });
  assert.deepEqual(silenceRequest('backup:shop/production/db', flags, noFile), { body: { rule: 'backup_verify', for: '2h', subject: 'backup:shop/production/db' } });
});

test('silence: bad input names the flag or argument', () => {
  const flags = { for: '2h', env: 'production' };
  const problem = (target: string, f: Partial<typeof flags> & { subject?: string; project?: string; reason?: string }, project: string | null = 'shop') => {
    const r = silenceRequest(target, { ...flags, ...f }, () => project ?? undefined);
    assert.ok('problem' in r, `refused: ${JSON.stringify(r)}`);
    return r.problem;
  };
  assert.match(problem('disk', { for: 'two hours' }), /^--for: must be a duration such as "30m" or "2h"$/);
  assert.match(problem('disk', { for: '30d' }), /^--for: must be at most 24d$/);
  assert.match(problem('disk', { reason: 'x'.repeat(501) }), /^--reason: must be at most 500 characters$/);
  assert.match(problem('errors', {}), /^<rule>: "errors" is not a rule: one of error_rate, p99, .*disk/);
  assert.match(problem('web/disk', {}), /^<rule>: disk is a host rule/);
  assert.match(problem('error_rate', {}, null), /^-p\/--project: error_rate is a service rule/);
  assert.match(problem('error_rate', { subject: 'x' }), /^--subject: error_rate is a service rule/);
  assert.match(problem('disk', { project: 'shop' }), /^-p\/--project: disk is a host rule/);
  assert.match(problem('certificate:a.example.com', { subject: 'b.example.com' }), /give the subject once/);
  // The API's details are named by the same flags.
  const lines = apiErrorLines({ code: 'SLW_BAD_REQUEST', message: 'invalid silence: 2 problems', details: [{ path: 'for', message: 'must be at most 24d' }, { path: 'project', message: 'a service needs its project' }] }, SILENCE_FLAGS);
  assert.deepEqual(lines, ['error: invalid silence: 2 problems [SLW_BAD_REQUEST]', '  --for: must be at most 24d', '  -p/--project: a service needs its project']);
});

test('what silence prints: the rule, what it covers, until when (rounded up to the minute), its id and how to end it', () => {
  const made = silence({ id: 4, until: new Date(NOW + 2 * 3_600_000 - 1500).toISOString() });
  assert.equal(silencedLines(made, NOW)[0], `silenced error_rate on shop/production/web until ${made.until.replace(/\.\d{3}Z$/, 'Z')} (in 2h): silence 4 (load test)`);
  assert.match(silencedLines(silence({ subject: null }), NOW)[0]!, /^silenced error_rate on every service of shop until/);
  assert.deepEqual(silencedLines(silence({ id: 3, rule: 'disk', subject: null, project: null, reason: null }), NOW), [
    'silenced disk everywhere until 2025-03-01T14:00:00Z (in 2h): silence 3',
    'its alerts are still recorded (slipway alerts), but no notification is sent for those that fire meanwhile',
    'end it early: slipway alerts unsilence 3',
  ]);
});

test('rules: host rules then each service, on/off with the settings in words; defaults as written, or that none are set', () => {
  const view: AlertRulesView = {
    defaults: { disk: { above: '85%' }, p99: 'off' },
    host: [
      { rule: 'disk', on: true, description: 'over 85 % for 5m0s (clears after 5m0s)' },
      { rule: 'backup_verify', on: false, description: 'off' },
    ],
    services: [{ project: 'shop', env: 'production', service: 'web', rules: [{ rule: 'error_rate', on: true, description: '5xx over 5 % for 10m0s' }, { rule: 'p99', on: false, description: 'off' }] }],
  };
  assert.deepEqual(rulesLines(view), [
    'host rules (server-wide: slipway alerts defaults --file):',
    '  disk           on  over 85 % for 5m0s (clears after 5m0s)',
    '  backup_verify  off',
    '',
    'shop/production/web:',
    '  error_rate     on  5xx over 5 % for 10m0s',
    '  p99            off',
  ]);
  assert.match(rulesLines({ ...view, services: [] }).at(-1)!, /^no live services/);
  assert.deepEqual(defaultsLines(view.defaults), ['server-wide alert defaults (as written; slipway.yml alerts: override the service rules):', '  disk:', '    above: 85%', '  p99: off']);
  assert.match(defaultsLines({})[0]!, /^no server-wide defaults: the built-in rules apply/);
});

test('a rules file: the written rules (a top-level alerts: is accepted; empty means none), or each problem by its field', () => {
  assert.deepEqual(readDefaultsFile({ disk: { above: '85%', for: '10m' }, p99: 'off' }), { rules: { disk: { above: '85%', for: '10m' }, p99: 'off' } });
  assert.deepEqual(readDefaultsFile({ alerts: { memory: 'off' } }), { rules: { memory: 'off' } });
  assert.deepEqual(readDefaultsFile(null), { rules: {} });
  const bad = readDefaultsFile({ disk: { above: 'lots' }, error_rat: 'off' });
  assert.ok('problems' in bad);
  const paths = bad.problems.map((p) => p.path).sort();
  assert.ok(paths.includes('disk.above'), JSON.stringify(bad.problems));
  assert.ok(bad.problems.some((p) => /error_rat/.test(`${p.path} ${p.message}`)), JSON.stringify(bad.problems));
  assert.ok('problems' in readDefaultsFile(['disk']));
});
