#!/usr/bin/env bash
# Build the local images the tests use (no registry is reachable). Idempotent: an image that already
# exists is left alone. Needs a running engine (scripts/docker-up.sh) and busybox-static; the Python images
# (scripts/python-image.sh) need root and Debian's mirror.
set -euo pipefail

DOCKER=/usr/bin/docker
unset DOCKER_HOST DOCKER_CONTEXT

BUSYBOX_IMAGE=${BUSYBOX_IMAGE:-trainyard-test/busybox:1}

image_exists() {
  "$DOCKER" image inspect "$1" >/dev/null 2>&1
}

build_busybox() {
  local image=$1
  if image_exists "$image"; then
    echo "test-images: $image already present"
    return 0
  fi
  if [ ! -x /bin/busybox ]; then
    echo "test-images: /bin/busybox missing (apt-get install -y busybox-static)" >&2
    return 1
  fi
  local root
  root=$(mktemp -d)
  chmod 755 "$root"
  mkdir -p "$root/bin" "$root/tmp" "$root/etc"
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  local applet
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
  echo 'root:x:0:' >"$root/etc/group"
  tar -C "$root" -c . | "$DOCKER" import \
    --change 'ENV PATH=/bin' \
    --change 'CMD ["/bin/sh"]' \
    - "$image" >/dev/null || { rm -rf "$root"; return 1; }
  rm -rf "$root"
  echo "test-images: built $image"
}

build_busybox "$BUSYBOX_IMAGE"
bash "$(dirname "${BASH_SOURCE[0]}")/python-image.sh"
