import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProjectConfig, formatErrors } from './parse-config';

const base = (health: string) => `
project: shop
services:
  web:
    build: .
    port: 3000
    health: ${health}
`;

function errorsOf(text: string): string {
  const r = parseProjectConfig(text);
  assert.equal(r.ok, false, 'expected the config to be rejected');
  return formatErrors(r.ok ? [] : r.errors);
}

test('health: edge check thresholds, replace_after and liveness have defaults', () => {
  const r = parseProjectConfig(base('{ path: /health }'));
  assert.ok(r.ok, r.ok ? '' : formatErrors(r.errors));
  const h = r.config.services.web!.health;
  assert.deepEqual([h.fall, h.rise, h.replaceAfterMs, h.liveness], [3, 2, 60_000, null]);
  const r2 = parseProjectConfig(base('{ path: /health, fall: 5, rise: 1, replace_after: 2m, liveness: /live }'));
  assert.ok(r2.ok, r2.ok ? '' : formatErrors(r2.errors));
  const h2 = r2.config.services.web!.health;
  assert.deepEqual([h2.fall, h2.rise, h2.replaceAfterMs, h2.liveness], [5, 1, 120_000, '/live']);
});

test('health: bad thresholds, durations and paths are refused with the field named', () => {
  assert.match(errorsOf(base('{ fall: 0 }')), /^services\.web\.health\.fall: must be between 1 and 20$/m);
  assert.match(errorsOf(base('{ rise: 2.5 }')), /^services\.web\.health\.rise: must be a whole number$/m);
  assert.match(errorsOf(base('{ replace_after: soon }')), /^services\.web\.health\.replace_after: /m);
  assert.match(errorsOf(base('{ liveness: live }')), /^services\.web\.health\.liveness: must start with "\/"$/m);
  // Written into haproxy.cfg: nothing that could end the line or start a comment.
  assert.match(errorsOf(base('{ path: "/health #x" }')), /^services\.web\.health\.path: must be a URL path such as "\/health"/m);
  assert.match(errorsOf(base('{ liveness: "/a b" }')), /^services\.web\.health\.liveness: must be a URL path/m);
});
