#!/usr/bin/env bash
# README command 1: on a fresh Debian/Ubuntu machine, install what Slipway needs,
# start the control plane in the background, build the offline base image, deploy
# examples/hello (2 replicas) behind the edge and print where it is served.
# Running it again redeploys (a rolling deploy with zero dropped requests).
# `npm run demo -- --stack` also deploys examples/stack (web ×2 + worker + Postgres + Redis).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STACK=0
for arg in "$@"; do
  case "$arg" in
    --stack) STACK=1 ;;
    *) echo "usage: npm run demo [-- --stack]" >&2; exit 2 ;;
  esac
done
bash scripts/bootstrap-host.sh
bash scripts/ensure-node-modules.sh
bash scripts/ensure-dashboard.sh

export SLIPWAY_HTTP_PORT="${SLIPWAY_HTTP_PORT:-80}"
export SLIPWAY_HTTPS_PORT="${SLIPWAY_HTTPS_PORT:-443}"
slipway() { node "$ROOT/bin/slipway.mjs" "$@"; }
DATA_DIR=$(node --import tsx -e "import('./src/cli/locations.ts').then(m => console.log(m.defaultDataDir()))")
# Private from the start (docs/operations.md, "File modes"); the server also checks at every start.
(umask 077 && mkdir -p "$DATA_DIR" && touch "$DATA_DIR/server.log")

if slipway status --project hello >/dev/null 2>&1 || node -e "
  const i = JSON.parse(require('fs').readFileSync('$DATA_DIR/server.json','utf8'));
  fetch(i.url + '/api/v1/health').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1));" 2>/dev/null; then
  echo "[demo] control plane already running"
else
  echo "[demo] starting the control plane (log: $DATA_DIR/server.log)"
  setsid node "$ROOT/bin/slipway.mjs" server --data-dir "$DATA_DIR" >>"$DATA_DIR/server.log" 2>&1 < /dev/null &
  for _ in $(seq 1 60); do
    if node -e "
      const i = JSON.parse(require('fs').readFileSync('$DATA_DIR/server.json','utf8'));
      process.kill(i.pid, 0);
      fetch(i.url + '/api/v1/health').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1));" 2>/dev/null; then break; fi
    sleep 0.5
  done
  slipway --data-dir "$DATA_DIR" status --project none >/dev/null 2>&1 || true
  if ! grep -q '"url"' "$DATA_DIR/server.json" 2>/dev/null; then
    echo "[demo] the control plane did not start; last lines of its log:" >&2
    tail -20 "$DATA_DIR/server.log" >&2
    exit 1
  fi
fi

echo "[demo] building the offline node base image (from this host's node binary)"
slipway --data-dir "$DATA_DIR" base-image create node
echo "[demo] deploying examples/hello"
slipway --data-dir "$DATA_DIR" deploy -f examples/hello/slipway.yml

PORT_SUFFIX=$([ "$SLIPWAY_HTTP_PORT" = 80 ] && echo "" || echo ":$SLIPWAY_HTTP_PORT")
URL="http://hello.localhost$PORT_SUFFIX/"
echo
echo "[demo] a request through the edge:"
curl -sS --max-time 5 --resolve "hello.localhost:$SLIPWAY_HTTP_PORT:127.0.0.1" "$URL" || true
echo
HTTPS_LINE=""
if [ "$SLIPWAY_HTTPS_PORT" != off ]; then
  # hello.localhost gets a certificate from Slipway's local CA right after the deploy.
  CA_FILE="$DATA_DIR/tls/local-ca.pem"
  TLS_SUFFIX=$([ "$SLIPWAY_HTTPS_PORT" = 443 ] && echo "" || echo ":$SLIPWAY_HTTPS_PORT")
  for _ in $(seq 1 20); do
    curl -sS --max-time 5 --cacert "$CA_FILE" --resolve "hello.localhost:$SLIPWAY_HTTPS_PORT:127.0.0.1" -o /dev/null "https://hello.localhost$TLS_SUFFIX/" 2>/dev/null && break
    sleep 0.5
  done
  echo "[demo] the same over HTTPS (local CA $CA_FILE):"
  curl -sS --max-time 5 --cacert "$CA_FILE" --resolve "hello.localhost:$SLIPWAY_HTTPS_PORT:127.0.0.1" "https://hello.localhost$TLS_SUFFIX/" || true
  echo
  HTTPS_LINE="  https:     https://hello.localhost$TLS_SUFFIX/  (certificate from Slipway's local CA; ./bin/slipway.mjs certs ca prints how to trust it)"
fi
STACK_LINE=""
if [ "$STACK" = 1 ]; then
  echo "[demo] deploying examples/stack (the first time also builds the Postgres and Redis images: minutes)"
  slipway --data-dir "$DATA_DIR" deploy -f examples/stack/slipway.yml
  echo "[demo] the stack through the edge:"
  curl -sS --max-time 5 --resolve "stack.localhost:$SLIPWAY_HTTP_PORT:127.0.0.1" "http://stack.localhost$PORT_SUFFIX/" || true
  STACK_LINE="stack is served at http://stack.localhost$PORT_SUFFIX/  (accessories: ./bin/slipway.mjs accessories -f examples/stack/slipway.yml)"
fi
cat <<MSG

hello is served at $URL  (curl $URL, or with -H 'Host: hello.localhost' http://127.0.0.1$PORT_SUFFIX/)
$HTTPS_LINE
$STACK_LINE

  dashboard: $(node -p "require('$DATA_DIR/server.json').url")/  user admin, password: $( [ -f "$DATA_DIR/admin-password" ] && echo "in $DATA_DIR/admin-password" || echo "the one printed at the first start")

  status:    ./bin/slipway.mjs status -f examples/hello/slipway.yml
  redeploy:  ./bin/slipway.mjs deploy -f examples/hello/slipway.yml      (or run npm run demo again)
  releases:  ./bin/slipway.mjs releases web -f examples/hello/slipway.yml
  rollback:  ./bin/slipway.mjs rollback web -f examples/hello/slipway.yml
  logs:      ./bin/slipway.mjs logs web -f --file examples/hello/slipway.yml   (-f follows here)
  certs:     ./bin/slipway.mjs certs
  stop:      kill \$(node -p "require('$DATA_DIR/server.json').pid")   (the edge keeps serving;
             scripts/stop-all.sh stops the edge and removes the replicas too)
MSG
