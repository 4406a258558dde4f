import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alertRulesSchema, BUILTIN_ALERT_RULES, combineAlertLayers, describeRule, mergeAlertRules, normalizeAlertRules } from './alert-rules';
import { formatErrors, parseProjectConfig } from './parse-config';

const layer = (w: unknown) => normalizeAlertRules(alertRulesSchema.parse(w));

test('layers merge over the built-in rules field by field; off turns a rule off; a later object turns it on again', () => {
  const server = layer({ error_rate: { above: '2%' }, disk: 'off', p99: { above: '800ms' } });
  const project = layer({ error_rate: { for: '5m' }, crash_loop: 'off' });
  const rules = mergeAlertRules(server, project);
  assert.deepEqual(rules.error_rate, { ...BUILTIN_ALERT_RULES.error_rate!, above: 0.02, forMs: 300_000 });
  assert.equal(rules.disk, null);
  assert.equal(rules.crash_loop, null);
  assert.equal(rules.p99?.aboveMs, 800, 'p99, off by default, is on with its threshold and the default window');
  assert.equal(rules.p99?.forMs, 600_000);
  assert.deepEqual(mergeAlertRules(layer({ crash_loop: 'off' }), layer({ crash_loop: { restarts: 5 } })).crash_loop, { restarts: 5, withinMs: 600_000 });
  assert.deepEqual(mergeAlertRules(layer({ oom: 'on', backup_verify: 'on', edge_down: true })).oom, BUILTIN_ALERT_RULES.oom);
});

test('shares are "5%" or a ratio; bad values name what is expected', () => {
  assert.equal(layer({ error_rate: { above: 0.1 } }).error_rate?.above, 0.1);
  assert.equal(layer({ memory: { above: '92.5%' } }).memory?.above, 0.925);
  for (const bad of ['150%', 'five', -0.1, 2]) {
    const r = alertRulesSchema.safeParse({ error_rate: { above: bad } });
    assert.equal(r.success, false, String(bad));
    assert.match(r.error!.issues[0]!.message, /share such as "5%"/);
  }
  const unknown = alertRulesSchema.safeParse({ error_rate: { above: '5%', window: '1m' } });
  assert.equal(unknown.success, false);
});

test('slipway.yml: the project\'s alerts under each service\'s own, pinned in the service config; host rules are refused with where to set them', () => {
  const yml = [
    'project: shop',
    'alerts:',
    '  error_rate: { above: 2%, for: 1m }',
    '  oom: off',
    'services:',
    '  web:',
    '    image: web:1',
    '    port: 3000',
    '    alerts:',
    '      error_rate: { min_requests: 5 }',
    '      p99: { above: 300ms, for: 30s }',
    '  worker:',
    '    image: web:1',
  ].join('\n');
  const r = parseProjectConfig(yml);
  assert.ok(r.ok, r.ok ? '' : formatErrors(r.errors));
  assert.deepEqual(r.config.services.web!.alerts, { error_rate: { above: 0.02, forMs: 60_000, minRequests: 5 }, oom: null, p99: { aboveMs: 300, forMs: 30_000 } });
  assert.deepEqual(r.config.services.worker!.alerts, { error_rate: { above: 0.02, forMs: 60_000 }, oom: null });
  const plain = parseProjectConfig('project: shop\nservices:\n  web:\n    image: web:1\n    port: 3000\n');
  assert.ok(plain.ok);
  assert.equal(plain.config.services.web!.alerts, undefined, 'nothing written, nothing pinned: the server defaults apply');

  const bad = parseProjectConfig('project: shop\nservices:\n  web:\n    image: web:1\n    port: 3000\n    alerts:\n      disk: { above: 90% }\n      error_rate: { above: lots }\n');
  assert.equal(bad.ok, false);
  const errors = bad.ok ? '' : formatErrors(bad.errors);
  assert.match(errors, /services\.web\.alerts: unknown field "disk"/);
  assert.match(errors, /services\.web\.alerts\.error_rate/);
});

test('rules in words', () => {
  const rules = mergeAlertRules(layer({ p99: { above: '800ms' } }));
  assert.equal(describeRule('error_rate', rules.error_rate), '5xx over 5 % for 10m0s (at least 20 requests; clears after 5m0s)');
  assert.equal(describeRule('p99', rules.p99), 'p99 over 800 ms for 10m0s (at least 20 requests; clears after 5m0s)');
  assert.equal(describeRule('crash_loop', rules.crash_loop), '3 or more restarts within 10m0s');
  assert.equal(describeRule('disk', null), 'off');
});

test('combining two written layers keeps fields of both for the same rule', () => {
  assert.deepEqual(combineAlertLayers(layer({ error_rate: { above: '1%' }, p99: 'off' }), layer({ error_rate: { for: '2m' }, p99: { above: '1s' } })), { error_rate: { above: 0.01, forMs: 120_000 }, p99: { aboveMs: 1000 } });
});
