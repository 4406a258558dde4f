#!/usr/bin/env bash
# Stops the control plane, the edge (HAProxy), every replica and accessory Slipway started, and
# removes its Docker networks. Volumes (accessories' data) are kept: `slipway env destroy NAME
# --delete-volumes --yes` is the only thing that deletes them. The only thing that stops the edge.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA_DIR="${1:-$(node --import tsx -e "import('./src/cli/locations.ts').then(m => console.log(m.defaultDataDir()))")}"
NETWORK="${SLIPWAY_DOCKER_NETWORK:-slipway}"
if [ -f "$DATA_DIR/server.json" ]; then
  pid=$(node -p "require('$DATA_DIR/server.json').pid")
  kill "$pid" 2>/dev/null && echo "stopped the control plane (pid $pid)" || true
fi
if [ -f "$DATA_DIR/edge/haproxy.pid" ]; then
  pid=$(head -1 "$DATA_DIR/edge/haproxy.pid")
  kill "$pid" 2>/dev/null && echo "stopped the edge (pid $pid)" || true
fi
ids=$(docker ps -aq --filter label=slipway.project || true)
[ -n "$ids" ] && docker rm -f $ids >/dev/null && echo "removed $(echo "$ids" | wc -w) replica(s)"
ids=$(docker ps -aq --filter label=slipway.accessory.project --filter "label=slipway.base=$NETWORK" || true)
[ -n "$ids" ] && docker rm -f $ids >/dev/null && echo "removed $(echo "$ids" | wc -w) accessory container(s) (their volumes are kept)"
for net in $(docker network ls -q --filter "label=slipway.base=$NETWORK"); do
  docker network rm "$net" >/dev/null 2>&1 || true
done
docker network rm "$NETWORK" >/dev/null 2>&1 && echo "removed network $NETWORK" || true
