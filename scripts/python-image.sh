#!/usr/bin/env bash
# Build Trainyard's Python images from Debian bookworm packages (no registry needed):
#   trainyard/python:bookworm        python3 and ca-certificates, for jobs
#   trainyard/python-serve:bookworm  the same plus scikit-learn, NumPy and pandas, and the scoring server
#                                    scripts/serve/score.py as its command (port $PORT, 8080), for model serving
# Both run as the non-root user trainyard (uid 1000, HOME=/home/trainyard) in /workspace. The serving image is
# two layers on top of the jobs image (the packages, then the scoring server), so the images share the base on
# disk and a change to score.py rebuilds only its own small layer.
#
# Usage: bash scripts/python-image.sh [--rebuild]
# Idempotent: an image that exists is left alone unless --rebuild, or unless what it was built from changed (the
# jobs image, SERVE_PACKAGES, score.py). Building the jobs image needs root (debootstrap, chroot, mount), and
# every build a running engine (scripts/docker-up.sh) and Debian's mirror; debootstrap is installed with apt-get
# when it is missing.
set -euo pipefail

DOCKER=/usr/bin/docker
unset DOCKER_HOST DOCKER_CONTEXT

PYTHON_IMAGE=${PYTHON_IMAGE:-trainyard/python:bookworm}
PYTHON_SERVE_IMAGE=${PYTHON_SERVE_IMAGE:-trainyard/python-serve:bookworm}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
SUITE=bookworm
SERVE_PACKAGES='python3-sklearn python3-numpy python3-pandas'
SCORE_SERVER=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/serve/score.py
# What the serving image was built from, as labels: a build compares them with the current ones.
PACKAGES_LABEL=dev.trainyard.serve-packages
SCORE_LABEL=dev.trainyard.score-sha256

# What `docker import` and `docker commit` write into both images' configuration. PYTHONUNBUFFERED makes a
# job's print() reach its live log at once instead of when an 8 KiB buffer fills.
IMAGE_CONFIG=(
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  --change 'ENV LANG=C.UTF-8'
  --change 'ENV PYTHONUNBUFFERED=1'
  --change 'ENV HOME=/home/trainyard'
  --change 'USER 1000:1000'
  --change 'WORKDIR /workspace'
  --change 'CMD ["python3"]'
)
# The serving image's own, on top: it starts the scoring server.
SERVE_CONFIG=(
  --change 'ENV PORT=8080'
  --change 'EXPOSE 8080'
  --change 'CMD ["python3", "/opt/trainyard/score.py"]'
)

rebuild=false
case "${1:-}" in
  '') ;;
  --rebuild) rebuild=true ;;
  *)
    echo "usage: bash scripts/python-image.sh [--rebuild]" >&2
    exit 2
    ;;
esac

log() {
  echo "python-image: [${SECONDS}s] $*"
}

image_exists() {
  "$DOCKER" image inspect "$1" >/dev/null 2>&1
}

image_id() {
  "$DOCKER" image inspect --format '{{.Id}}' "$1" 2>/dev/null || true
}

needs_build() {
  [ "$rebuild" = true ] || ! image_exists "$1"
}

ensure_debootstrap() {
  command -v debootstrap >/dev/null && return 0
  log "installing debootstrap"
  quietly apt-get update -qq
  quietly env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap
}

image_parent() {
  "$DOCKER" image inspect --format '{{.Parent}}' "$1" 2>/dev/null || true
}

image_label() {
  "$DOCKER" image inspect --format "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null || true
}

score_hash() {
  sha256sum "$SCORE_SERVER" | cut -d ' ' -f 1
}

# The serving image is the scoring server's commit on the packages' commit on the jobs image: its packages are
# stale once the jobs image was rebuilt or SERVE_PACKAGES changed, its server once score.py changed.
packages_stale() {
  [ "$(image_parent "$(image_parent "$PYTHON_SERVE_IMAGE")")" != "$(image_id "$PYTHON_IMAGE")" ] ||
    [ "$(image_label "$PYTHON_SERVE_IMAGE" "$PACKAGES_LABEL")" != "$SERVE_PACKAGES" ]
}

score_stale() {
  [ "$(image_label "$PYTHON_SERVE_IMAGE" "$SCORE_LABEL")" != "$(score_hash)" ]
}

# Config files that keep every later install in the rootfs small and quick: no documentation, manuals or
# translations (copyright notices stay), no recommended packages, no package lists or .debs left behind, and no
# fsync per file (a container that dies mid-install is thrown away anyway).
write_slim_config() {
  local root=$1
  cat >"$root/etc/dpkg/dpkg.cfg.d/trainyard-slim" <<'EOF'
force-unsafe-io
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-exclude=/usr/share/lintian/*
EOF
  cat >"$root/etc/apt/apt.conf.d/trainyard-slim" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
Dpkg::Use-Pty "false";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
EOF
  cat >"$root/etc/apt/sources.list" <<EOF
deb $DEBIAN_MIRROR $SUITE main
deb $DEBIAN_MIRROR $SUITE-updates main
deb $DEBIAN_SECURITY_MIRROR $SUITE-security main
EOF
}

# Leaves only what the image needs: debootstrap's own installs ignored the slim config, apt leaves lists, caches
# and logs, and Python packages ship their test suites (a third of the serving image; dpkg cannot leave them out
# because py3compile then fails). Runs inside the rootfs (by chroot, or in the build container).
CLEAN_ROOTFS='
find /usr/lib/python3/dist-packages -type d -name tests -prune -exec rm -rf {} +
find /usr/share/doc -mindepth 1 ! -type d ! -name copyright -delete
find /usr/share/doc -mindepth 1 -type d -empty -delete
rm -rf /usr/share/man/* /usr/share/info/* /usr/share/lintian/* /usr/share/locale/*
rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/cache/debconf/*-old /var/lib/dpkg/*-old /tmp/* /root/.cache
find /var/log -type f -delete
'

# Runs a command with its output in the build log; on failure shows the log's tail.
quietly() {
  if ! "$@" >>"$build_log" 2>&1; then
    echo "python-image: failed; the end of the build log:" >&2
    tail -n 30 "$build_log" >&2
    return 1
  fi
}

# Runs a shell script inside the rootfs with /proc mounted (apt and maintainer scripts read it).
in_root() {
  local root=$1 script=$2
  mount -t proc proc "$root/proc"
  local status=0
  quietly env DEBIAN_FRONTEND=noninteractive chroot "$root" /bin/sh -euc "$script" || status=$?
  umount "$root/proc"
  return "$status"
}

# debootstrap installs only the base system: apt then installs Python once, at its latest (security) version,
# which is quicker than letting debootstrap install it and upgrading it afterwards.
build_python_image() {
  local root=$1
  log "debootstrap $SUITE minbase from $DEBIAN_MIRROR"
  quietly debootstrap --variant=minbase "$SUITE" "$root" "$DEBIAN_MIRROR"
  write_slim_config "$root"
  log "installing python3 with $SUITE-updates and $SUITE-security"
  in_root "$root" '
apt-get update -qq
apt-get upgrade -y -qq
apt-get install -y -qq python3 ca-certificates
useradd --uid 1000 --user-group --create-home --shell /bin/bash trainyard
install -d -o trainyard -g trainyard /workspace
'"$CLEAN_ROOTFS"
  # debootstrap copied the build host's name and resolver in; the engine gives each container its own.
  : >"$root/etc/hostname"
  : >"$root/etc/resolv.conf"
  log "importing $PYTHON_IMAGE"
  tar -C "$root" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -c . |
    "$DOCKER" import "${IMAGE_CONFIG[@]}" - "$PYTHON_IMAGE" >/dev/null
}

# Runs as root in a container of the jobs image, on the host's network so that apt reaches the mirror; the
# commit is one layer over the jobs image. Bookworm's python3-scipy depends on the Pythran compiler, which drags
# in g++, Boost and the Python headers (~250 MB) though SciPy never imports it at run time: an empty package
# that provides python3-pythran keeps them out.
SERVE_SETUP='
export DEBIAN_FRONTEND=noninteractive
mkdir -p /tmp/no-pythran/DEBIAN
printf "%s\n" "Package: trainyard-no-pythran" "Version: 1.0" "Architecture: all" "Maintainer: Trainyard" \
  "Provides: python3-pythran" "Description: satisfies python3-scipy without the Pythran compiler" \
  >/tmp/no-pythran/DEBIAN/control
dpkg-deb --build /tmp/no-pythran /tmp/no-pythran.deb
dpkg -i /tmp/no-pythran.deb
apt-get update -qq
apt-get install -y -qq '"$SERVE_PACKAGES"'
'"$CLEAN_ROOTFS"

# Sets packages_image to the untagged image of the packages' layer; IMAGE_CONFIG undoes the build container's
# root user and command.
build_serve_packages() {
  log "adding $SERVE_PACKAGES"
  quietly "$DOCKER" run --name "$build_container-packages" --network host --user 0:0 "$PYTHON_IMAGE" /bin/sh -euc "$SERVE_SETUP"
  packages_image=$("$DOCKER" commit "${IMAGE_CONFIG[@]}" --change "LABEL $PACKAGES_LABEL=\"$SERVE_PACKAGES\"" "$build_container-packages")
}

# score.py goes in as root:root 0644 (readable, not writable, by the user trainyard) through a never-started
# container: a layer of a few kilobytes.
add_score_server() {
  local staging=$work/score-layer
  log "adding the scoring server $SCORE_SERVER"
  install -d -m 0755 "$staging/opt" "$staging/opt/trainyard"
  install -m 0644 "$SCORE_SERVER" "$staging/opt/trainyard/score.py"
  "$DOCKER" create --name "$build_container-score" "$packages_image" >/dev/null
  tar -C "$staging" --owner=0 --group=0 --numeric-owner -c opt | "$DOCKER" cp - "$build_container-score:/"
  "$DOCKER" commit "${SERVE_CONFIG[@]}" --change "LABEL $SCORE_LABEL=$(score_hash)" "$build_container-score" "$PYTHON_SERVE_IMAGE" >/dev/null
}

# Removes the image that a rebuild replaced, unless a container still uses it.
remove_replaced() {
  local old=$1 image=$2
  if [ -n "$old" ] && [ "$old" != "$(image_id "$image")" ]; then
    "$DOCKER" rmi "$old" >/dev/null 2>&1 || true
  fi
}

report() {
  log "$1 ready in $(($(date +%s) - $2)) s ($("$DOCKER" image inspect --format '{{.Size}}' "$1" | awk '{printf "%.0f MB", $1 / 1e6}'))"
}

# The rootfs is built in memory when a tmpfs can be mounted: unpacking and deleting thousands of small files
# on a disk mounted with `discard` costs tens of seconds.
make_rootfs_dir() {
  mkdir "$work/rootfs"
  mount -t tmpfs -o size=2g,mode=755 trainyard-rootfs "$work/rootfs" 2>/dev/null || true
}

# The rootfs holds device nodes and, while apt runs, a mounted /proc: unmount before deleting.
remove_work() {
  "$DOCKER" rm -f "$build_container-packages" "$build_container-score" >/dev/null 2>&1 || true
  umount "$work/rootfs/proc" 2>/dev/null || true
  umount "$work/rootfs" 2>/dev/null || true
  rm -rf "$work"
}

main() {
  if [ ! -f "$SCORE_SERVER" ]; then
    echo "python-image: the scoring server $SCORE_SERVER is missing" >&2
    return 1
  fi
  if ! needs_build "$PYTHON_IMAGE" && ! needs_build "$PYTHON_SERVE_IMAGE" && ! packages_stale && ! score_stale; then
    log "$PYTHON_IMAGE and $PYTHON_SERVE_IMAGE already present"
    return 0
  fi
  if needs_build "$PYTHON_IMAGE" && [ "$(id -u)" != 0 ]; then
    echo "python-image: building $PYTHON_IMAGE needs root (debootstrap, chroot, mount): sudo bash scripts/python-image.sh" >&2
    return 1
  fi
  work=$(mktemp -d "${TMPDIR:-/tmp}/trainyard-python.XXXXXX")
  build_log=$work/build.log
  build_container=trainyard-python-serve-build-$$
  trap remove_work EXIT
  local started old_base old_serve
  old_base=$(image_id "$PYTHON_IMAGE")
  old_serve=$(image_id "$PYTHON_SERVE_IMAGE")
  if needs_build "$PYTHON_IMAGE"; then
    started=$(date +%s)
    ensure_debootstrap
    make_rootfs_dir
    build_python_image "$work/rootfs"
    report "$PYTHON_IMAGE" "$started"
  else
    log "$PYTHON_IMAGE already present"
  fi
  if needs_build "$PYTHON_SERVE_IMAGE" || packages_stale; then
    started=$(date +%s)
    build_serve_packages
    log "packages layer ready in $(($(date +%s) - started)) s"
  else
    packages_image=$(image_parent "$PYTHON_SERVE_IMAGE")
  fi
  started=$(date +%s)
  add_score_server
  report "$PYTHON_SERVE_IMAGE" "$started"
  remove_replaced "$old_serve" "$PYTHON_SERVE_IMAGE"
  remove_replaced "$old_base" "$PYTHON_IMAGE"
}

main
