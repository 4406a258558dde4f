/**
 * What the stages of the control plane built, to undo: each stage pushes the cleanup of what
 * it started right after starting it, so a start that fails halfway undoes exactly what was
 * built, and close() undoes everything, last built first (what depends on a thing stops
 * before it).
 */
import { errorMessage } from '../core/errors';

export type Cleanup = () => void | Promise<void>;

export interface CleanupFailure {
  name: string;
  error: unknown;
}

export class CleanupStack {
  private readonly cleanups: Array<{ name: string; run: Cleanup }> = [];

  /** Registers the cleanup of something just built; `name` says what it undoes (in errors and logs). */
  defer(name: string, run: Cleanup): void {
    this.cleanups.push({ name, run });
  }

  get size(): number {
    return this.cleanups.length;
  }

  /**
   * Runs every cleanup once, the last registered first. One that throws, or takes longer than
   * `timeoutMs` when given, does not stop the others: it is returned with the failures.
   */
  async unwind(opts: { timeoutMs?: number } = {}): Promise<CleanupFailure[]> {
    const failures: CleanupFailure[] = [];
    for (let c = this.cleanups.pop(); c; c = this.cleanups.pop()) {
      try {
        await withTimeout(Promise.resolve().then(c.run), opts.timeoutMs);
      } catch (error) {
        failures.push({ name: c.name, error });
      }
    }
    return failures;
  }

  /** unwind(), then the failures as one error: the only one as is, several as an AggregateError. */
  async close(): Promise<void> {
    const failures = await this.unwind();
    if (failures.length === 1) throw failures[0]!.error;
    if (failures.length > 1) throw new AggregateError(failures.map((f) => f.error), failures.map((f) => `${f.name}: ${errorMessage(f.error)}`).join('; '));
  }
}

/**
 * Runs `build` (the stages); when it throws, what they built is undone (each cleanup bounded
 * by `timeoutMs`, so a stuck one cannot hold the error back) and the error is thrown.
 */
export async function buildOrUndo<T>(stack: CleanupStack, build: () => Promise<T>, opts: { timeoutMs?: number; onCleanupFailure?: (f: CleanupFailure) => void } = {}): Promise<T> {
  try {
    return await build();
  } catch (err) {
    for (const f of await stack.unwind({ timeoutMs: opts.timeoutMs })) opts.onCleanupFailure?.(f);
    throw err;
  }
}

function withTimeout(p: Promise<void>, ms: number | undefined): Promise<void> {
  if (ms === undefined) return p;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
