#!/usr/bin/env bash
# Builds the web dashboard (web/ → web/dist, served by the control plane at /) when the
# build is missing or older than its sources (always with --force). Vite takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=web/dist/index.html
if [ "${1:-}" = --force ] || [ ! -f "$stamp" ] || [ -n "$(find web/src web/index.html web/vite.config.ts src/client src/core/contract package-lock.json -newer "$stamp" -print -quit 2>/dev/null)" ]; then
  echo "[dashboard] building web/ → web/dist…" >&2
  npx --no-install vite build web --logLevel warn >&2
fi
