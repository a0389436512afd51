#!/usr/bin/env bash
# Make the Docker sandbox ready on a CI machine: install the engine if missing, start dockerd
# in the background, wait for its socket, build the sandbox image. Idempotent: each step is
# skipped when already done. Needs root (apt, dockerd, debootstrap).
set -euo pipefail
SOCK=/var/run/docker.sock
LOG=${DOCKERD_LOG:-/tmp/dockerd.log}

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup-docker: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  if ! pgrep -x dockerd >/dev/null 2>&1; then
    echo "setup-docker: starting dockerd (log: $LOG)" >&2
    nohup dockerd >"$LOG" 2>&1 &
  fi
  for _ in $(seq 120); do
    [ -S "$SOCK" ] && docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
  docker info >/dev/null 2>&1 || { echo "setup-docker: dockerd did not come up; see $LOG" >&2; tail -20 "$LOG" >&2; exit 1; }
fi
echo "setup-docker: engine ready" >&2

PY=${PYTHON:-python3}
if ! $PY -m codemind.sandbox.cli doctor >/dev/null 2>&1; then
  $PY -m codemind.sandbox.cli build
fi
$PY -m codemind.sandbox.cli doctor
