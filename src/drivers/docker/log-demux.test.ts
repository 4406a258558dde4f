import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogDemuxer, demuxAll } from './log-demux';

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

test('frames are split into stdout and stderr lines with their timestamps', () => {
  const payload = Buffer.concat([
    frame(1, '2025-11-23T06:00:00.000000001Z listening on :3000\n'),
    frame(2, '2025-11-23T06:00:00.500000000Z warn: x\r\n'),
    frame(1, 'no timestamp\n'),
  ]);
  const entries = demuxAll(payload, 'web-1');
  assert.deepEqual(entries.slice(0, 2), [
    { replica: 'web-1', stream: 'stdout', at: '2025-11-23T06:00:00.000000001Z', line: 'listening on :3000' },
    { replica: 'web-1', stream: 'stderr', at: '2025-11-23T06:00:00.500000000Z', line: 'warn: x' },
  ]);
  assert.equal(entries[2]!.line, 'no timestamp');
  assert.match(entries[2]!.at, /^\d{4}-/);
});

test('frames and lines cut anywhere by the transport are reassembled', () => {
  const all = Buffer.concat([frame(1, '2025-01-01T00:00:00Z hel'), frame(2, '2025-01-01T00:00:01Z oops\n'), frame(1, 'lo wörld\nsecond'), frame(1, ' line\n')]);
  for (let cut = 1; cut < all.length; cut += 3) {
    const d = new LogDemuxer('r');
    const entries = [...d.push(all.subarray(0, cut)), ...d.push(all.subarray(cut, cut + 5)), ...d.push(all.subarray(cut + 5)), ...d.flush()];
    assert.deepEqual(
      entries.map((e) => `${e.stream}:${e.line}`),
      ['stderr:oops', 'stdout:hello wörld', 'stdout:second line'],
      `cut at ${cut}`,
    );
  }
});

test('a character cut between two frames is decoded whole', () => {
  const bytes = Buffer.from('é\n');
  const d = new LogDemuxer('r');
  const first = Buffer.concat([Buffer.from([1, 0, 0, 0, 0, 0, 0, 1]), bytes.subarray(0, 1)]);
  const second = Buffer.concat([Buffer.from([1, 0, 0, 0, 0, 0, 0, 2]), bytes.subarray(1)]);
  assert.deepEqual([...d.push(first), ...d.push(second)].map((e) => e.line), ['é']);
});

test('a last line without a newline is emitted at the end of the stream', () => {
  const d = new LogDemuxer('r');
  assert.deepEqual(d.push(frame(1, 'partial')), []);
  assert.deepEqual(d.flush().map((e) => e.line), ['partial']);
});
