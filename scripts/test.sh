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
mapfile -t integration < <(find test -name '*.test.ts' | sort)
# Every control plane (and API) the tests start checks its answers against the API contract.
export SLIPWAY_STRICT_RESPONSES=1
echo "[test] unit lane: ${#unit[@]} test files" >&2
node --import tsx --test --test-concurrency=1 --test-timeout=600000 --test-reporter=spec "${unit[@]}"
echo "[test] integration lane: ${#integration[@]} test files" >&2
exec node --import tsx --test --test-concurrency=1 --test-timeout=600000 --test-reporter=spec "${integration[@]}"
