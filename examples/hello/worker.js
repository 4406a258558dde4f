// examples/hello/worker.js: a background worker (no port) for Slipway's worker services.
//   node worker.js          ticks every TICK_MS (500), logging "tick N", and refreshes a
//                           heartbeat file; exits 0 on SIGTERM after finishing the current tick.
//   node worker.js --check  the HEALTHCHECK: exit 0 if the heartbeat is fresher than 5 s.
// Knob: FAIL_AFTER_MS exits with code 3 after that long (a crashing worker, for tests).
import { readFileSync, writeFileSync } from 'node:fs';

// /dev/shm is a tmpfs Docker mounts writable in every container, even FROM scratch ones.
const HEARTBEAT = '/dev/shm/slipway-worker-heartbeat';

if (process.argv.includes('--check')) {
  try {
    const age = Date.now() - Number(readFileSync(HEARTBEAT, 'utf8'));
    process.exit(age < 5000 ? 0 : 1);
  } catch {
    process.exit(1);
  }
}

const tickMs = Number(process.env.TICK_MS ?? 500);
let n = 0;
let stopping = false;
console.log(`worker ${process.env.APP_VERSION ?? '-'} (release ${process.env.SLIPWAY_RELEASE ?? 'none'}) started`);
const timer = setInterval(() => {
  n++;
  writeFileSync(HEARTBEAT, String(Date.now()));
  if (n % 10 === 0) console.log(`tick ${n}`);
  if (stopping) {
    clearInterval(timer);
    console.log('stopped cleanly');
    process.exit(0);
  }
}, tickMs);
writeFileSync(HEARTBEAT, String(Date.now()));
if (process.env.FAIL_AFTER_MS) {
  setTimeout(() => {
    console.error('worker failing on purpose (FAIL_AFTER_MS)');
    process.exit(3);
  }, Number(process.env.FAIL_AFTER_MS));
}
process.on('SIGTERM', () => {
  stopping = true;
});
