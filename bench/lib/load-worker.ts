/**
 * One load-generator process: `node --import tsx bench/lib/load-worker.ts <url> <host> <concurrency> <ms>`
 * runs a closed-loop load and prints its LoadReport as one JSON line. Benchmarks start several
 * so that the client is not the bottleneck (one Node process tops out near 4k req/s).
 */
import { startLoad } from './load-generator';

const [url, host, concurrency, ms] = process.argv.slice(2);
if (!url || !host || !concurrency || !ms) {
  console.error('usage: load-worker.ts <url> <host> <concurrency> <ms>');
  process.exit(2);
}
const run = startLoad({ url, hostHeader: host, concurrency: Number(concurrency) });
await new Promise((r) => setTimeout(r, Number(ms)));
console.log(JSON.stringify(await run.stop()));
