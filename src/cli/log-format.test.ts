import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatLogEntry, parseAppLogLine, shortReplica } from './log-format';

const entry = (line: string) => ({ replica: 'shop-web-production-v3-a1b2c3', release: 3, stream: 'stdout' as const, at: '2025-01-01T10:00:00.000000000Z', line });
const clock = (iso: string) => {
  const d = new Date(iso);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
};

test('plain lines: release and short replica id, then the line', () => {
  assert.equal(formatLogEntry(entry('listening on :3000')), 'v3 a1b2c3 | listening on :3000');
  assert.equal(shortReplica('some-other-container'), 'some-other-container');
});

test('JSON app log lines: time, level, message, then the other fields as key=value', () => {
  const line = JSON.stringify({ time: '2025-01-01T10:00:01.250Z', level: 'info', msg: 'GET /', requestId: 'abc-123', status: 200, ms: 0.4, user: { id: 7 }, note: 'two words' });
  assert.equal(formatLogEntry(entry(line)), `v3 a1b2c3 | ${clock('2025-01-01T10:00:01.250Z')} INFO  GET / requestId=abc-123 status=200 ms=0.4 user={"id":7} note="two words"`);
  // pino: numeric level and epoch-ms time; no time field falls back to the entry's.
  assert.equal(formatLogEntry(entry('{"level":50,"time":1735725600000,"msg":"boom","pid":1}')), `v3 a1b2c3 | ${clock('2025-01-01T10:00:00.000Z')} ERROR boom pid=1`);
  assert.equal(formatLogEntry(entry('{"level":"warn","message":"slow"}')), `v3 a1b2c3 | ${clock('2025-01-01T10:00:00.000Z')} WARN  slow`);
});

test('lines that only look like JSON logs stay as printed', () => {
  for (const line of ['{"msg":"no level"}', '{"level":"info"}', '[1,2]', '{not json}', '{"level":"info","msg":42}']) {
    assert.equal(parseAppLogLine(line), null, line);
    assert.equal(formatLogEntry(entry(line)), `v3 a1b2c3 | ${line}`);
  }
});
