import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogMerger } from './log-merge';

interface Line {
  at: string;
  text: string;
}
const at = (ms: number) => `2025-01-01T00:00:00.${String(ms).padStart(3, '0')}000000Z`;

/** A source the test pushes lines into and ends. */
function source(): { iterable: AsyncIterable<Line>; push: (l: Line) => void; end: () => void } {
  const queue: Line[] = [];
  let ended = false;
  let wake: (() => void) | null = null;
  return {
    push: (l) => {
      queue.push(l);
      wake?.();
    },
    end: () => {
      ended = true;
      wake?.();
    },
    iterable: (async function* () {
      for (;;) {
        if (queue.length) yield queue.shift()!;
        else if (ended) return;
        else await new Promise<void>((r) => (wake = r));
      }
    })(),
  };
}

async function take(it: AsyncIterator<Line>, n: number): Promise<string[]> {
  const out: string[] = [];
  while (out.length < n) out.push((await it.next()).value!.text);
  return out;
}

test('lines of several sources leave in time order when they arrive within the window', async () => {
  const abort = new AbortController();
  const m = new LogMerger<Line>({ windowMs: 80, timeOf: (l) => l.at, signal: abort.signal });
  const a = source();
  const b = source();
  m.add(a.iterable, () => undefined);
  m.add(b.iterable, () => undefined);
  const it = m.lines()[Symbol.asyncIterator]();
  a.push({ at: at(3), text: 'a3' });
  a.push({ at: at(5), text: 'a5' });
  await new Promise((r) => setTimeout(r, 20));
  b.push({ at: at(1), text: 'b1' }); // written first, arrived later
  b.push({ at: at(4), text: 'b4' });
  assert.deepEqual(await take(it, 4), ['b1', 'a3', 'b4', 'a5']);
  abort.abort();
  assert.equal((await it.next()).done, true, 'the merged stream ends with the signal');
});

test('sources join and leave while the stream runs; a straggler is not held back', async () => {
  const abort = new AbortController();
  const m = new LogMerger<Line>({ windowMs: 30, timeOf: (l) => l.at, signal: abort.signal });
  const ended: string[] = [];
  const a = source();
  m.add(a.iterable, () => ended.push('a'));
  const it = m.lines()[Symbol.asyncIterator]();
  a.push({ at: at(10), text: 'a10' });
  assert.deepEqual(await take(it, 1), ['a10']);
  a.end();
  const b = source();
  m.add(b.iterable, (err) => ended.push(err ? `b: ${(err as Error).message}` : 'b'));
  b.push({ at: at(5), text: 'b5 (late)' });
  b.push({ at: at(20), text: 'b20' });
  assert.deepEqual(await take(it, 2), ['b5 (late)', 'b20']);
  assert.deepEqual(ended, ['a']);
  abort.abort();
});

test('a failing source reports its error; the others go on', async () => {
  const abort = new AbortController();
  const m = new LogMerger<Line>({ windowMs: 10, timeOf: (l) => l.at, signal: abort.signal });
  const errors: string[] = [];
  m.add(
    (async function* () {
      yield { at: at(1), text: 'x1' };
      throw new Error('engine went away');
    })(),
    (err) => errors.push(String((err as Error | undefined)?.message)),
  );
  const b = source();
  m.add(b.iterable, () => undefined);
  const it = m.lines()[Symbol.asyncIterator]();
  b.push({ at: at(2), text: 'b2' });
  assert.deepEqual(await take(it, 2), ['x1', 'b2']);
  assert.deepEqual(errors, ['engine went away']);
  abort.abort();
});

test('a consumer that does not read pauses the sources at the high-water mark; the abort releases them', async () => {
  const abort = new AbortController();
  const m = new LogMerger<Line>({ windowMs: 0, timeOf: (l) => l.at, signal: abort.signal, highWater: 5 });
  let produced = 0;
  let finished = false;
  m.add(
    (async function* () {
      try {
        for (let i = 0; i < 1000; i++) {
          produced++;
          yield { at: at(i % 1000), text: `l${i}` };
        }
      } finally {
        finished = true;
      }
    })(),
    () => undefined,
  );
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(produced, 5, 'reading stopped at the high-water mark');
  abort.abort();
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(finished, true, 'the paused source was closed');
});
