#!/usr/bin/env bash
# Installs Trainyard on this machine from this checkout, then runs it:
#   ./install.sh              install dependencies, build the binary and install it as `trainyard` and `yard`,
#                             create the data directory and the first admin, start the appliance
#   ./install.sh --no-start   the same, without starting
# Safe to run again: each step checks what is already there. Settings come from the environment
# (TRAINYARD_BIN_DIR, TRAINYARD_DATA, TRAINYARD_PORT, TRAINYARD_HOST, TRAINYARD_ADMIN_USER, TRAINYARD_ADMIN_PASSWORD, ...).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

start=1
for arg in "$@"; do
  case "$arg" in
    --no-start) start=0 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1m==>\033[0m %s\n' "$*"; }

say "checking prerequisites"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "install.sh: Node.js and npm are needed to install (any version from 18; the project brings its own Node 24)." >&2
  echo "            On Debian or Ubuntu: sudo apt-get install -y nodejs npm" >&2
  exit 1
fi
if docker version >/dev/null 2>&1; then
  echo "Docker engine: $(docker version --format '{{.Server.Version}}' 2>/dev/null)"
else
  echo "Docker engine: not reachable. The appliance runs, but jobs, notebooks and served models will need Docker."
fi
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
  echo "GPUs: $(nvidia-smi -L | wc -l) found by nvidia-smi"
else
  echo "GPUs: none found by nvidia-smi"
fi

say "installing dependencies"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  echo "up to date"
fi
# npm links the bins of dependencies, not the project's own: put `yard` beside them.
ln -sf ../../src/cli/yard.ts node_modules/.bin/yard
export PATH="$PWD/node_modules/.bin:$PATH"

say "building the binary"
node scripts/build-binary.ts

if [ -n "${TRAINYARD_BIN_DIR:-}" ]; then
  bin="$TRAINYARD_BIN_DIR"
elif [ "$(id -u)" = 0 ]; then
  bin=/usr/local/bin
else
  bin="$HOME/.local/bin"
fi
say "installing trainyard and yard in $bin"
mkdir -p "$bin"
if cmp -s dist/trainyard "$bin/trainyard"; then
  echo "up to date"
else
  # Copied aside and renamed over the old one, which a running appliance may still be executing.
  cp dist/trainyard "$bin/.trainyard.new"
  chmod 755 "$bin/.trainyard.new"
  mv -f "$bin/.trainyard.new" "$bin/trainyard"
fi
# One binary, two names: as `yard` it is always the command line.
ln -sfn trainyard "$bin/yard"
trainyard="$bin/trainyard"
case ":$PATH:" in
  *":$bin:"*) ;;
  *) echo "note: $bin is not on your PATH; add it (export PATH=\"$bin:\$PATH\") to type trainyard and yard" ;;
esac

chosen_data="${TRAINYARD_DATA:-}"
data="${TRAINYARD_DATA:-${XDG_DATA_HOME:-$HOME/.local/share}/trainyard}"
export TRAINYARD_DATA="$data"
say "data directory $data"
mkdir -p "$data"
chmod 700 "$data"

say "first admin"
if "$trainyard" admin users --json | grep -q '"isAdmin": true'; then
  echo "an admin exists already"
else
  admin="${TRAINYARD_ADMIN_USER:-admin}"
  if [ -n "${TRAINYARD_ADMIN_PASSWORD:-}" ]; then
    printf '%s' "$TRAINYARD_ADMIN_PASSWORD" | "$trainyard" admin create-user --admin -u "$admin" --password-stdin
  elif [ -t 0 ]; then
    echo "Choose a password (at least 8 characters) for the site admin \"$admin\"."
    "$trainyard" admin create-user --admin -u "$admin"
  else
    echo "install.sh: no terminal to ask for the admin password: set TRAINYARD_ADMIN_PASSWORD" >&2
    exit 1
  fi
fi

if [ "$start" = 1 ]; then
  say "starting Trainyard (Ctrl-C stops it)"
  exec "$trainyard" server
fi
say "done: start it with ${chosen_data:+TRAINYARD_DATA=$chosen_data }$trainyard"
