#!/usr/bin/env bash
# `npm test`: prepares the host and dependencies, then lint, typecheck, the unit lane
# (tests next to the code) and the integration lane (real Docker + HAProxy), each one
# node:test run; the integration lane's summary is the last thing printed.
set -euo pipefail
cd "$(dirname "$0")/.."
# nats-server: the NATS notification test publishes to a real one; chromium: the dashboard
# tests drive Debian's browser (headless, never a downloaded one); pebble: the HTTPS tests get
# certificates from Let's Encrypt's test CA through real ACME exchanges.
SLIPWAY_EXTRA_PKGS="${SLIPWAY_EXTRA_PKGS:-} nats-server chromium pebble" bash scripts/bootstrap-host.sh
bash scripts/ensure-node-modules.sh
echo "[test] lint + typecheck" >&2
npx --no-install eslint . 
npx --no-install tsc --noEmit
npx --no-install svelte-check --workspace web --fail-on-warnings --output human >&2
bash scripts/ensure-dashboard.sh --force
# The unit lane first (next to the code, in-memory ports: minutes), so a broken unit fails fast;
# then the integration lane (real Docker + HAProxy), whose summary is the last thing printed.
mapfile -t unit < <(find src bench/lib -name '*.test.ts' | sort)
# Integration files run side by side (each has its own control plane, edge ports, Docker
# networks and volumes); a file that says `@runs-alone` runs first, by itself: it stops dockerd, or
# measures timings (latency, drain waits, warm windows) that a busy host would make meaningless.
mapfile -t alone < <(grep -l '@runs-alone' test/*.test.ts | sort)
mapfile -t together < <(find test -name '*.test.ts' | sort | grep -vxF -f <(printf '%s\n' "${alone[@]}" ''))
jobs="${SLIPWAY_TEST_JOBS:-2}"
# Every control plane (and API) the tests start checks its answers against the API contract.
export SLIPWAY_STRICT_RESPONSES=1
echo "[test] unit lane: ${#unit[@]} test files" >&2
node --import tsx --test --test-concurrency=1 --test-timeout=600000 --test-reporter=spec "${unit[@]}"
echo "[test] integration lane: building the shared images" >&2
node --import tsx test/support/prepare-images.ts
# Each file its own process, at most $jobs at once, its output printed whole when it ends.
echo "[test] integration lane: ${#alone[@]} file(s) alone, then ${#together[@]} files, $jobs at a time" >&2
alone_rc=0
node scripts/run-test-files.mjs --jobs 1 "${alone[@]}" || alone_rc=$?
rc=0
node scripts/run-test-files.mjs --jobs "$jobs" "${together[@]}" || rc=$?
if [ "$alone_rc" -ne 0 ]; then echo "[test] FAILED: the files run alone (${alone[*]}): see their output above" >&2; exit "$alone_rc"; fi
exit "$rc"
