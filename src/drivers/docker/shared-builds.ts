/**
 * One build per key at a time: concurrent callers for the same image join the running build
 * and all receive its remaining output lines, instead of building it twice.
 */
export type OutputLine = (line: string) => void;

export class SharedBuilds<T> {
  private readonly running = new Map<string, { promise: Promise<T>; listeners: Set<OutputLine> }>();

  run(key: string, onOutput: OutputLine | undefined, build: (emit: OutputLine) => Promise<T>): Promise<T> {
    const current = this.running.get(key);
    if (current) {
      if (onOutput) current.listeners.add(onOutput);
      return current.promise;
    }
    const listeners = new Set<OutputLine>(onOutput ? [onOutput] : []);
    const emit: OutputLine = (line) => {
      for (const l of listeners) {
        try {
          l(line);
        } catch {
          // A listener that throws (a closed stream) must not fail the build for the others.
        }
      }
    };
    const promise = (async () => {
      try {
        return await build(emit);
      } finally {
        this.running.delete(key);
      }
    })();
    this.running.set(key, { promise, listeners });
    return promise;
  }

  /** Keys being built now (tests, diagnostics). */
  keys(): string[] {
    return [...this.running.keys()];
  }
}
