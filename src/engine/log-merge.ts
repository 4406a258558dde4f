/**
 * Merges live log sources that come and go (one per replica) into one stream in time
 * order, as well as live streams allow. Lines of different replicas reach us a few
 * milliseconds apart, not in the order they were written; so each line waits `windowMs`
 * after it arrived, letting lines written just before it on other replicas overtake it,
 * and lines leave oldest first. A line that arrives later than that (a replica that joined
 * a second late, say) leaves with the next batch rather than be held back.
 *
 * Back-pressure: a source is not read while `highWater` lines wait for the consumer, so a
 * slow client slows the runtime's streams instead of growing memory.
 */
export interface MergeOptions<T> {
  windowMs: number;
  /** The line's time in a form whose text order is time order. */
  timeOf: (item: T) => string;
  /** Ends the merged stream (the consumer left). */
  signal: AbortSignal;
  highWater?: number;
}

interface Held<T> {
  item: T;
  time: string;
  arrival: number;
  seq: number;
}

export class LogMerger<T> {
  private held: Held<T>[] = [];
  private seq = 0;
  private wakeConsumer: (() => void) | null = null;
  private readonly waitingSources: Array<() => void> = [];
  private readonly highWater: number;

  constructor(private readonly opts: MergeOptions<T>) {
    this.highWater = opts.highWater ?? 1000;
    opts.signal.addEventListener(
      'abort',
      () => {
        this.wake();
        // Paused sources see the abort and stop (closing their runtime streams).
        for (const resume of this.waitingSources.splice(0)) resume();
      },
      { once: true },
    );
  }

  /** Starts reading a source; `onEnd` runs when it ends (with the error if it failed). */
  add(source: AsyncIterable<T>, onEnd: (err?: unknown) => void): void {
    void (async () => {
      try {
        for await (const item of source) {
          if (this.opts.signal.aborted) break;
          this.held.push({ item, time: this.opts.timeOf(item), arrival: Date.now(), seq: this.seq++ });
          if (this.held.length === 1) this.wake();
          if (this.held.length >= this.highWater) await new Promise<void>((resolve) => this.waitingSources.push(resolve));
        }
        onEnd();
      } catch (err) {
        onEnd(err);
      }
    })();
  }

  /** The merged lines, until the signal fires. */
  async *lines(): AsyncGenerator<T> {
    const { signal, windowMs } = this.opts;
    while (!signal.aborted) {
      const batch = this.takeDue(Date.now() - windowMs);
      if (batch.length > 0) {
        for (const h of batch) {
          if (signal.aborted) return;
          yield h.item;
        }
        continue;
      }
      const oldest = this.held.reduce((min, h) => Math.min(min, h.arrival), Infinity);
      await new Promise<void>((resolve) => {
        const timer = oldest === Infinity ? null : setTimeout(resolve, Math.max(1, oldest + windowMs - Date.now()));
        this.wakeConsumer = () => {
          if (timer) clearTimeout(timer);
          resolve();
        };
      });
      this.wakeConsumer = null;
    }
  }

  /**
   * Lines that have waited long enough, plus any held line not newer than the newest of
   * them (holding it longer could only put it further out of order), oldest first.
   */
  private takeDue(cutoff: number): Held<T>[] {
    let newestDue: string | null = null;
    for (const h of this.held) if (h.arrival <= cutoff && (newestDue === null || h.time > newestDue)) newestDue = h.time;
    if (newestDue === null) return [];
    const due: Held<T>[] = [];
    const keep: Held<T>[] = [];
    for (const h of this.held) (h.arrival <= cutoff || h.time <= newestDue ? due : keep).push(h);
    this.held = keep;
    for (const resume of this.waitingSources.splice(0)) resume();
    return due.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.seq - b.seq));
  }

  private wake(): void {
    this.wakeConsumer?.();
  }
}
