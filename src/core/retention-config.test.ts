import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseProjectConfig } from './parse-config';

const base = (extra = '') => `project: shop
services:
  web:
    image: app:1
    port: 3000
${extra}`;

describe('retention.releases in slipway.yml', () => {
  it('defaults to 10 releases', () => {
    const r = parseProjectConfig(base());
    assert.ok(r.ok);
    assert.deepEqual(r.config.services.web!.retention, { releases: 10 });
  });

  it('is set per service and overridden per environment', () => {
    const text = `${base('    retention: { releases: 3 }\n')}environments:\n  staging:\n    services:\n      web:\n        retention: { releases: 1 }\n`;
    const prod = parseProjectConfig(text);
    const staging = parseProjectConfig(text, { env: 'staging' });
    assert.ok(prod.ok && staging.ok);
    assert.equal(prod.config.services.web!.retention?.releases, 3);
    assert.equal(staging.config.services.web!.retention?.releases, 1);
  });

  it('rejects a bad value naming the field', () => {
    for (const [bad, msg] of [['0', 'must be between 1 and 1000'], ['2.5', 'must be a whole number'], ['"ten"', 'must be a whole number']] as const) {
      const r = parseProjectConfig(base(`    retention: { releases: ${bad} }\n`));
      assert.ok(!r.ok);
      assert.deepEqual(r.errors.map((e) => [e.path, e.message]), [['services.web.retention.releases', msg]], bad);
    }
    const unknown = parseProjectConfig(base('    retention: { images: 3 }\n'));
    assert.ok(!unknown.ok);
    assert.equal(unknown.errors[0]!.path, 'services.web.retention');
  });
});
