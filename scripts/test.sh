#!/usr/bin/env bash
# `npm test`: prepares the host and dependencies, then lint, typecheck, and every
# test (unit tests next to the code, integration tests against real Docker + HAProxy)
# in one node:test run so its summary is the last thing printed.
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
mapfile -t files < <(find src test bench/lib -name '*.test.ts' | sort)
echo "[test] ${#files[@]} test files" >&2
# Every control plane the tests start checks its answers against the API contract.
export SLIPWAY_STRICT_RESPONSES=1
exec node --import tsx --test --test-concurrency=1 --test-timeout=600000 --test-reporter=spec "${files[@]}"
