/**
 * One load-generator process: `node --import tsx bench/lib/load-worker.ts <url> <host> <concurrency> <ms> [warmupMs]`
 * runs a closed-loop load and prints its LoadReport as one JSON line. Benchmarks start several
 * so that the client is not the bottleneck (one Node process tops out near 4k req/s).
 * With warmupMs, a load of that length runs first and is not reported: JIT warm-up, new
 * connections and the start-up of the other worker processes fall outside the measurement.
 */
import { startLoad } from './load-generator';

const [url, host, concurrency, ms, warmupMs] = process.argv.slice(2);
if (!url || !host || !concurrency || !ms) {
  console.error('usage: load-worker.ts <url> <host> <concurrency> <ms> [warmupMs]');
  process.exit(2);
}
if (Number(warmupMs) > 0) {
  const warmup = startLoad({ url, hostHeader: host, concurrency: Number(concurrency) });
  await new Promise((r) => setTimeout(r, Number(warmupMs)));
  await warmup.stop();
}
const run = startLoad({ url, hostHeader: host, concurrency: Number(concurrency) });
await new Promise((r) => setTimeout(r, Number(ms)));
console.log(JSON.stringify(await run.stop()));
