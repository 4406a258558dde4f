/** Polls `fn` until it returns something truthy; on timeout the error names what was awaited, the last failure and `context()` (e.g. the server log's tail). */
export async function until<T>(what: string, fn: () => Promise<T | undefined | false | null>, opts: { timeoutMs?: number; everyMs?: number; context?: () => string } = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const started = Date.now();
  let last: unknown;
  while (Date.now() - started < timeoutMs) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 500));
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? `: ${String(last)}` : ''}${opts.context ? `\n${opts.context()}` : ''}`);
}
