#!/usr/bin/env bash
# Start Debian's Docker engine if it is not answering yet (idempotent).
#
# Uses /usr/bin/docker (Debian's client, same version as the engine); /usr/local/bin/docker may be a
# newer client that the 20.10 engine refuses. The engine runs detached and outlives this script.
set -euo pipefail

DOCKER=/usr/bin/docker
DOCKERD=$(command -v dockerd || echo /usr/sbin/dockerd)
SOCK=/var/run/docker.sock
PIDFILE=/var/run/docker.pid
LOG=/var/log/dockerd.log
WAIT_S=${DOCKER_UP_WAIT_S:-30}

# Always talk to the local engine on the default socket, whatever the caller's environment says.
unset DOCKER_HOST DOCKER_CONTEXT

engine_answers() {
  timeout 5 "$DOCKER" version >/dev/null 2>&1
}

if engine_answers; then
  echo "docker-up: engine already answering"
  exit 0
fi

if pgrep -x dockerd >/dev/null 2>&1; then
  echo "docker-up: dockerd already running, waiting for it"
else
  if [ ! -x "$DOCKERD" ]; then
    echo "docker-up: dockerd not found (apt-get install -y docker.io)" >&2
    exit 1
  fi
  # A pid file left by an engine that died would stop the new one from starting.
  if [ -f "$PIDFILE" ] && ! kill -0 "$(cat "$PIDFILE" 2>/dev/null)" 2>/dev/null; then
    rm -f "$PIDFILE"
  fi
  echo "docker-up: starting dockerd (log: $LOG)"
  setsid nohup "$DOCKERD" --iptables=false >"$LOG" 2>&1 </dev/null &
  disown || true
fi

start=$(date +%s)
while :; do
  if [ -S "$SOCK" ] && engine_answers; then
    echo "docker-up: engine answering after $(($(date +%s) - start)) s ($("$DOCKER" version --format '{{.Server.Version}} API {{.Server.APIVersion}}' 2>/dev/null || true))"
    exit 0
  fi
  if [ $(($(date +%s) - start)) -ge "$WAIT_S" ]; then
    echo "docker-up: engine did not answer within ${WAIT_S} s; tail of $LOG:" >&2
    tail -n 40 "$LOG" >&2 2>/dev/null || true
    exit 1
  fi
  sleep 0.2
done
