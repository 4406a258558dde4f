import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatStatusFilter, parseStatusFilter, statusMatches, type StatusFilter } from './status-filter';
import { requestsQuery } from './contract/metrics';

const parsed = (text: string): StatusFilter => {
  const r = parseStatusFilter(text);
  assert.ok(r.ok, `"${text}" should parse: ${r.ok ? '' : r.message}`);
  return r.filter;
};
const problem = (text: string): string => {
  const r = parseStatusFilter(text);
  assert.ok(!r.ok, `"${text}" should be refused`);
  return r.message;
};

test('classes and codes, comma-separated, in any order, spaces and case ignored, duplicates once', () => {
  assert.deepEqual(parsed('5xx'), { classes: [5], codes: [] });
  assert.deepEqual(parsed('404'), { classes: [], codes: [404] });
  assert.deepEqual(parsed('500,404'), { classes: [], codes: [404, 500] });
  assert.deepEqual(parsed(' 5XX , 4xx,503,4xx '), { classes: [4, 5], codes: [503] });
  assert.equal(formatStatusFilter(parsed('503,5xx,4xx,404')), '4xx,5xx,404,503');
});

test('anything else is refused, saying which entry and what is expected', () => {
  assert.match(problem('6xx'), /"6xx" is neither a status class \(1xx to 5xx\) nor a status code \(100 to 599\); expected .*4xx,5xx/);
  assert.match(problem('4XX,99'), /"99" is neither/);
  assert.match(problem('600'), /"600" is neither/);
  assert.match(problem('4x'), /"4x" is neither/);
  assert.match(problem('errors'), /"errors" is neither/);
  assert.match(problem(''), /an empty entry in ""/);
  assert.match(problem('4xx,,5xx'), /an empty entry in "4xx,,5xx"/);
  assert.match(problem(Array.from({ length: 21 }, () => '500').join(',')), /at most 20 entries \(got 21\)/);
});

test('a request matches a class it is in or a code it is; a request without an answer (-1) matches nothing', () => {
  const f = parsed('5xx,404');
  assert.deepEqual([200, 301, 400, 404, 429, 500, 503, 599, -1].filter((s) => statusMatches(f, s)), [404, 500, 503, 599]);
  assert.deepEqual([200, 404, 451, 499, 500].filter((s) => statusMatches(parsed('4xx'), s)), [404, 451, 499]);
  assert.equal(statusMatches(parsed('1xx,2xx,3xx,4xx,5xx'), -1), false);
});

test('the API query: status parses to a filter, a bad one names the field, errors=true stays and excludes status', () => {
  assert.deepEqual(requestsQuery.parse({ status: '4xx,500' }).status, { classes: [4], codes: [500] });
  assert.equal(requestsQuery.parse({ errors: 'true' }).errors, true);
  assert.equal(requestsQuery.parse({}).status, undefined);
  const bad = requestsQuery.safeParse({ status: '4xx,7' });
  assert.ok(!bad.success);
  assert.deepEqual(bad.error.issues.map((i) => [i.path.join('.'), i.message.slice(0, 19)]), [['status', '"7" is neither a st']]);
  const both = requestsQuery.safeParse({ status: '404', errors: 'true' });
  assert.ok(!both.success);
  assert.deepEqual(both.error.issues.map((i) => [i.path.join('.'), i.message]), [['status', 'errors=true is status=5xx: send one of the two']]);
});
