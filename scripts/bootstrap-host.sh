#!/usr/bin/env bash
# Makes this host ready for Slipway, idempotently: Docker engine running, HAProxy,
# busybox-static (for the static base image), debootstrap (the Debian base image), git (deploys from a repository) and
# docker-compose (benchmark baseline); nginx only with SLIPWAY_BOOTSTRAP_NGINX=1 (the
# edge-overhead benchmark's comparison proxy; its packaged service is stopped and disabled, so
# it never takes port 80 from the edge).
# On Debian/Ubuntu as root it installs what is missing and starts dockerd in the
# background; elsewhere it prints exactly what to install and exits non-zero.
set -euo pipefail

log() { printf '[bootstrap] %s\n' "$*" >&2; }

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v haproxy >/dev/null 2>&1 || need_pkgs+=(haproxy)
dpkg -s busybox-static >/dev/null 2>&1 || need_pkgs+=(busybox-static)
command -v git >/dev/null 2>&1 || need_pkgs+=(git)
# debootstrap: `slipway base-image create debian` and the built-in accessory images built on it.
[ -x /usr/sbin/debootstrap ] || need_pkgs+=(debootstrap)
if [ "${SLIPWAY_BOOTSTRAP_BENCH:-1}" = 1 ]; then
  command -v docker-compose >/dev/null 2>&1 || need_pkgs+=(docker-compose)
fi
# nginx: the comparison proxy of `npm run bench -- edge-overhead` (run from a temp config, never as a service).
want_nginx=0
if [ "${SLIPWAY_BOOTSTRAP_NGINX:-0}" = 1 ] && ! [ -x /usr/sbin/nginx ]; then need_pkgs+=(nginx-light); want_nginx=1; fi
# Extra packages a caller needs (e.g. the browser tests): SLIPWAY_EXTRA_PKGS="chromium".
for p in ${SLIPWAY_EXTRA_PKGS:-}; do dpkg -s "$p" >/dev/null 2>&1 || need_pkgs+=("$p"); done

if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    log "missing: ${need_pkgs[*]}"
    log "Slipway needs a Docker engine (dockerd), HAProxy >= 2.4, busybox-static and git on the host."
    log "On Debian/Ubuntu run this script as root, or: sudo apt-get install -y ${need_pkgs[*]}"
    log "Elsewhere install Docker Engine (https://docs.docker.com/engine/install/), HAProxy 2.4+, a static busybox and git."
    exit 1
  fi
  log "installing ${need_pkgs[*]} (apt-get)…"
  export DEBIAN_FRONTEND=noninteractive
  # The package lists may be missing on a fresh machine; refresh them once.
  if ! apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/tmp/slipway-apt.log 2>&1; then
    apt-get update -qq >>/tmp/slipway-apt.log 2>&1
    apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >>/tmp/slipway-apt.log 2>&1 || {
      log "apt-get failed; last lines of /tmp/slipway-apt.log:"; tail -20 /tmp/slipway-apt.log >&2; exit 1; }
  fi
  if [ "$want_nginx" = 1 ]; then
    # The package starts a system nginx on port 80 where an init system runs: the edge's port.
    { systemctl disable --now nginx || service nginx stop || /etc/init.d/nginx stop; } >/dev/null 2>&1 || true
  fi
fi

# live-restore: containers keep running while dockerd stops, restarts or is upgraded, so the
# edge keeps serving meanwhile (docs/operations.md, "Docker engine restarts"). Written only when
# there is no daemon.json: an existing one is the operator's, and we only say what it lacks.
# SLIPWAY_LIVE_RESTORE=0 skips this.
DAEMON_JSON=/etc/docker/daemon.json
if [ "$(id -u)" = 0 ] && [ "${SLIPWAY_LIVE_RESTORE:-1}" = 1 ]; then
  if [ ! -e "$DAEMON_JSON" ]; then
    mkdir -p /etc/docker
    printf '{\n  "live-restore": true\n}\n' > "$DAEMON_JSON"
    log "wrote $DAEMON_JSON: live-restore enabled"
    # A running engine reloads live-restore on SIGHUP; no restart needed.
    if [ -s /var/run/docker.pid ] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then kill -HUP "$(cat /var/run/docker.pid)"; fi
  elif ! grep -Eq '"live-restore"[[:space:]]*:[[:space:]]*true' "$DAEMON_JSON"; then
    log "note: $DAEMON_JSON does not enable live-restore: replicas stop whenever dockerd stops (docs/operations.md)"
  fi
fi

# Docker engine: start it in the background if nothing answers on the socket.
if ! docker info >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    if [ -S /var/run/docker.sock ]; then
      log "cannot use the Docker socket /var/run/docker.sock as $(id -un): run as root or add the user to the docker group"
    else
      log "the Docker engine is not running and this user cannot start it: start dockerd (as root) and retry"
    fi
    exit 1
  fi
  log "starting dockerd in the background (log: /var/log/slipway-dockerd.log)…"
  # setsid: dockerd must outlive this script and the shell that ran it.
  setsid dockerd >/var/log/slipway-dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
  docker info >/dev/null 2>&1 || { log "dockerd did not come up; last log lines:"; tail -20 /var/log/slipway-dockerd.log >&2; exit 1; }
fi

log "ready: docker $(docker version --format '{{.Server.Version}}' 2>/dev/null), $(haproxy -v 2>/dev/null | head -1 | awk '{print "haproxy " $3}')"
