import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EdgeRequestLine } from '../core/request-log';
import { parseTrustedProxies } from './client-ip';
import { parseRequestLine } from './parse-request-line';
import { toRecord, toRequestView } from './request-record';

// A line as HAProxy 2.6 writes it with the rendered log-format (JSON-escaped path: "\/").
const LINE =
  '{"t":1795441551280,"b":"be_shop_web_production","s":"shop-web-production-v12-0a1b2c","m":"GET","p":"\\/x\\/12","st":200,"by":104,"ta":16,"tr":15,"ci":"10.0.0.5","xff":"203.0.113.7","cf":"-","id":"d06599f2-ec0a-4a3e-b9f0-de4fb303aa4a","ts":"--"}';
const key = { project: 'shop', service: 'web', env: 'production' };

test('a line parses; anything else is null', () => {
  const l = parseRequestLine(LINE)!;
  assert.equal(l.p, '/x/12');
  assert.equal(l.st, 200);
  assert.equal(parseRequestLine('not json'), null);
  assert.equal(parseRequestLine('[]'), null);
  assert.equal(parseRequestLine('null'), null);
  assert.equal(parseRequestLine(LINE.replace('"st":200', '"st":"200"')), null);
  assert.equal(parseRequestLine(LINE.replace(',"ts":"--"', '')), null);
});

test('the record: release and replica from the server name, times, client ip through trusted proxies', () => {
  const l = parseRequestLine(LINE)!;
  const r = toRecord(l, key, '/x/:id', parseTrustedProxies(undefined));
  assert.equal(r.release, 12);
  assert.equal(r.replica, 'shop-web-production-v12-0a1b2c');
  assert.equal(r.durationMs, 16);
  assert.equal(r.upstreamMs, 15);
  assert.equal(r.clientIp, '10.0.0.5', 'the peer: no trusted proxy');
  assert.equal(toRecord(l, key, '/x/:id', parseTrustedProxies('10.0.0.0/8')).clientIp, '203.0.113.7');
  const view = toRequestView(r);
  assert.equal(view.at, new Date(1795441551280).toISOString());
  assert.equal(view.requestId, 'd06599f2-ec0a-4a3e-b9f0-de4fb303aa4a');
});

test('no server (<NOSRV>), no answer (-1) and a client abort', () => {
  const l: EdgeRequestLine = { ...parseRequestLine(LINE)!, s: '<NOSRV>', st: -1, tr: -1, ta: -1, by: -1, ts: 'CR' };
  const r = toRecord(l, key, '/', parseTrustedProxies(undefined));
  assert.equal(r.release, null);
  assert.equal(r.replica, null);
  assert.equal(r.upstreamMs, null);
  assert.equal(r.durationMs, 0);
  assert.equal(r.bytes, 0);
  assert.equal(r.status, -1);
});
