#!/usr/bin/env bash
# Build the local systemd images used by Molecule and the lab (no registry is reachable):
#   localhost/pgrepl-base:<suite>     debootstrap --variant=minbase, imported into podman
#   localhost/pgrepl-systemd:<suite>  molecule/images/Containerfile on top of it
# Each image is rebuilt only when it is missing or its recipe hash label changed, so a
# rerun costs about a second. Usage: build-images.sh [suite ...]  (default: bookworm trixie)
set -euo pipefail
cd "$(dirname "$0")/.."

export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/molecule/containers.conf}
SUITES=("$@")
((${#SUITES[@]})) || SUITES=(bookworm trixie)
BASE_REPO=localhost/pgrepl-base
IMAGE_REPO=localhost/pgrepl-systemd
CONTEXT=molecule/images
WORK=.cache/images
# Bump when the debootstrap step below changes (the script's other edits must not force
# a new debootstrap).
BASE_RECIPE="debootstrap --variant=minbase v1"

log() { printf 'build-images: %s\n' "$*" >&2; }

# The mirror and the security archive, read from the host's apt configuration at run time.
# deb822 format: first URIs line = main archive, second = security archive.
read_mirrors() {
  local src=/etc/apt/sources.list.d/debian.sources
  if [ -r "$src" ]; then
    MIRROR=$(awk '/^URIs:/ {print $2; exit}' "$src")
    SECURITY_MIRROR=$(awk '/^URIs:/ {n++; if (n == 2) {print $2; exit}}' "$src")
  fi
  if [ -z "${MIRROR:-}" ] && [ -r /etc/apt/sources.list ]; then
    MIRROR=$(awk '$1 == "deb" && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list)
    SECURITY_MIRROR=$(awk '$1 == "deb" && $0 ~ /security/ {print $2; exit}' /etc/apt/sources.list)
  fi
  if [ -z "${MIRROR:-}" ]; then
    log "no Debian mirror found in the host's apt configuration"
    exit 1
  fi
  SECURITY_MIRROR=${SECURITY_MIRROR:-}
}

label_of() {  # image label -> stdout ("" when the image or label is missing)
  podman image inspect --format "{{ index .Labels \"pgrepl.recipe\" }}" "$1" 2>/dev/null || true
}

# Hash of what defines an image; the mirror is part of it (a new snapshot means new packages).
recipe_hash() {
  { cat "$@"; printf '%s\n' "$MIRROR" "$SECURITY_MIRROR"; } | sha256sum | cut -c1-16
}

build_base() {
  local suite=$1 want rootfs
  want=$(printf '%s\n' "$BASE_RECIPE" | recipe_hash - | sed "s/^/$suite-/")
  [ "$(label_of "$BASE_REPO:$suite")" = "$want" ] && return 0
  rootfs=$WORK/rootfs-$suite
  log "$BASE_REPO:$suite: debootstrap $suite"
  rm -rf "$rootfs"
  mkdir -p "$rootfs"
  debootstrap --variant=minbase "$suite" "$rootfs" "$MIRROR" >"$WORK/debootstrap-$suite.log" 2>&1 || {
    tail -20 "$WORK/debootstrap-$suite.log" >&2
    exit 1
  }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | podman import --quiet --change 'CMD ["/bin/bash"]' \
    --change "LABEL pgrepl.recipe=$want" - "$BASE_REPO:$suite" >/dev/null
  rm -rf "$rootfs"
}

build_image() {
  local suite=$1 want
  # The base's id is part of the recipe: a new base means a new image.
  want=$(podman image inspect --format '{{.Id}}' "$BASE_REPO:$suite" |
    recipe_hash "$CONTEXT"/Containerfile "$CONTEXT"/setup.sh - | sed "s/^/$suite-/")
  [ "$(label_of "$IMAGE_REPO:$suite")" = "$want" ] && return 0
  log "$IMAGE_REPO:$suite: podman build"
  podman build --quiet --layers=false \
    --build-arg SUITE="$suite" --build-arg MIRROR="$MIRROR" \
    --build-arg SECURITY_MIRROR="$SECURITY_MIRROR" --build-arg RECIPE="$want" \
    -t "$IMAGE_REPO:$suite" -f "$CONTEXT"/Containerfile "$CONTEXT" >/dev/null
}

main() {
  command -v podman >/dev/null || { log "podman is not installed (run make deps)"; exit 1; }
  read_mirrors
  mkdir -p "$WORK"
  # One build at a time, even when several test runs start together.
  exec 9>"$WORK/.lock"
  flock 9
  local suite start
  for suite in "${SUITES[@]}"; do
    start=$SECONDS
    build_base "$suite"
    build_image "$suite"
    log "$IMAGE_REPO:$suite ready ($((SECONDS - start)) s)"
  done
  podman image prune -f >/dev/null 2>&1 || true
}

main
