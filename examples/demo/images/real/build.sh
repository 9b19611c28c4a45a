#!/usr/bin/env bash
# Builds the demo's real service images with NO image registry, from Debian's own packages:
#   berth-real-postgres:local    PostgreSQL 15 (the official image's POSTGRES_* interface)
#   berth-real-redis:local       Redis 7
#   berth-real-prometheus:local  Prometheus 2
# on a base berth-deb-base:local (debootstrap --variant=minbase bookworm, `docker import`ed).
#
# How: 1. the base is debootstrapped from the system's Debian mirror once; its root file system
#         is kept as a tarball in the cache, so it is re-imported later with no network;
#      2. for each service the HOST's apt downloads only the .deb files the base lacks (resolved
#         against the base image's own dpkg status) into the cache;
#      3. `docker build --network none` installs those .deb files: the builds never touch a network.
# Builds what is missing and reuses what exists: an image whose recipe (this folder's files for
# it and its package list) is unchanged is kept; cached .deb files are reused, so a rebuild needs
# no network at all. On a machine with a registry none of this is needed: set
# BERTH_DEMO_POSTGRES_BASE=postgres:15 BERTH_DEMO_REDIS_BASE=redis:7
# BERTH_DEMO_PROMETHEUS_BASE=prom/prometheus and the demo builds on those instead.
#
# Usage: images/real/build.sh [--force] [--refresh] [--only postgres|redis|prometheus]...
#   --force     rebuild the service images even when they are up to date (cache reused: offline)
#   --refresh   debootstrap a new base and resolve the packages again (needs the mirror)
#   --only S    just this service (repeatable); `--only workspace` builds berth-workspace:local
# Environment:
#   BERTH_CACHE_DIR   cache root (default ${XDG_CACHE_HOME:-~/.cache}/berth); this script uses
#                     images/ there: deb-base.tar, debs/<service>/, logs/
#   MIRROR            Debian mirror (default: the system's apt source)
#   BERTH_DEMO_<SERVICE>_BASE  when set to anything but berth-real-<service>:local, that image
#                     is not built here (the demo uses the named one)
# Needs: docker; root and apt for the first build (debootstrap, chroot); nothing but docker after.
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${BERTH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/berth}/images
SUITE=bookworm
BASE_IMAGE=berth-deb-base:local
ALL_SERVICES=(postgres redis prometheus)
declare -A PACKAGES=([postgres]=postgresql-15 [redis]=redis-server [prometheus]=prometheus
  [workspace]="git python3 nodejs curl ca-certificates")
# berth's own workspace image (scripts/build-workspace-image.sh: --only workspace) is made here too,
# on the same base and package cache; it is not one of the demo's services (not in ALL_SERVICES).
REPO_ROOT=$(cd "$HERE/../../../.." && pwd)
declare -A IMAGE_OF=([workspace]=berth-workspace:local)
declare -A DIR_OF=([workspace]="$REPO_ROOT/plugins/compose/workspace")
image_of() { echo "${IMAGE_OF[$1]:-berth-real-$1:local}"; }
dir_of() { echo "${DIR_OF[$1]:-$HERE/$1}"; }
FORCE=0
REFRESH=0
ONLY=()

usage() { sed -n '2,33p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --force | -f) FORCE=1 ;;
    --refresh) REFRESH=1 ;;
    --only)
      [ $# -ge 2 ] && [ -n "${PACKAGES[$2]:-}" ] || { echo "real/build.sh: --only needs one of: ${ALL_SERVICES[*]} workspace" >&2; exit 2; }
      ONLY+=("$2")
      shift
      ;;
    -h | --help) usage; exit 0 ;;
    *) echo "real/build.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

started=$(date +%s%N)
log() { printf 'real/build.sh: %s\n' "$*"; }
die() { printf 'real/build.sh: error: %s\n' "$*" >&2; exit 1; }
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
image_label() { docker image inspect -f "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null || true; }

command -v docker >/dev/null 2>&1 || die "docker client not found"
timeout 20 docker version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
  die "the Docker engine does not answer (try scripts/ensure-engine.sh)"

# Which services to build: the requested ones whose base the demo does not take from elsewhere.
services=()
[ "${#ONLY[@]}" -gt 0 ] || ONLY=("${ALL_SERVICES[@]}")
for svc in "${ONLY[@]}"; do
  var="BERTH_DEMO_${svc^^}_BASE"
  if [ "$svc" != workspace ] && [ -n "${!var:-}" ] && [ "${!var}" != "berth-real-$svc:local" ]; then
    log "$var=${!var}: the demo uses that image, nothing to build for $svc"
    continue
  fi
  services+=("$svc")
done

# A service's recipe: its folder's files and its package name. The image carries the hash as a
# label; an image with the same hash is up to date.
recipe_hash() {
  (cd "$(dir_of "$1")" && find . -type f -print0 | sort -z | xargs -0 sha256sum && echo "packages: ${PACKAGES[$1]}") |
    sha256sum | cut -c1-16
}

todo=()
for svc in "${services[@]}"; do
  image=$(image_of "$svc")
  if [ "$FORCE" = 0 ] && [ "$REFRESH" = 0 ] && [ "$(image_label "$image" berth.recipe)" = "$(recipe_hash "$svc")" ]; then
    log "$image is up to date"
    continue
  fi
  todo+=("$svc")
done
[ "${#todo[@]}" -gt 0 ] || exit 0
mkdir -p "$CACHE/logs" "$CACHE/debs"

# The system's Debian mirror (debootstrap and the host's apt use it).
mirror() {
  if [ -z "${MIRROR:-}" ]; then
    MIRROR=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    [ -n "$MIRROR" ] || MIRROR=$(awk '$1 == "deb" && $2 ~ /^http/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
  fi
  [ -n "$MIRROR" ] || die "no Debian mirror found in the apt sources (set MIRROR)"
  echo "$MIRROR"
}

need_root_apt() { # what for
  [ "$(id -u)" = 0 ] || die "$1 needs root (debootstrap, chroot, apt); run this once as root, or use registry images (see --help)"
  command -v apt-get >/dev/null 2>&1 || die "$1 needs apt-get (a Debian or Ubuntu host); or use registry images (see --help)"
}

# ---------------------------------------------------------------- 1. the base image
make_base_tar() {
  need_root_apt "making the base image"
  local rootfs="$CACHE/rootfs" m
  m=$(mirror)
  if ! command -v debootstrap >/dev/null 2>&1; then
    log "installing debootstrap"
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap; } >"$CACHE/logs/debootstrap-install.log" 2>&1 ||
      { tail -20 "$CACHE/logs/debootstrap-install.log" >&2; die "apt-get install debootstrap failed"; }
  fi
  rm -rf "$rootfs"
  local t
  t=$(date +%s%N)
  log "debootstrap --variant=minbase $SUITE from $m (log: $CACHE/logs/debootstrap.log)"
  debootstrap --variant=minbase "$SUITE" "$rootfs" "$m" >"$CACHE/logs/debootstrap.log" 2>&1 ||
    { tail -20 "$CACHE/logs/debootstrap.log" >&2; die "debootstrap failed"; }
  # Package scripts must never start daemons inside image builds (as in the official debian images).
  printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
  chmod 755 "$rootfs/usr/sbin/policy-rc.d"
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  cat >"$rootfs/etc/apt/apt.conf.d/docker-slim" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  rm -f "$rootfs/etc/apt/sources.list"
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then # the host's suites: updates and security too
    grep -v '^#' /etc/apt/sources.list.d/debian.sources >"$rootfs/etc/apt/sources.list.d/debian.sources"
  else
    echo "deb $m $SUITE main" >"$rootfs/etc/apt/sources.list"
  fi
  log "upgrading the base from the updates and security suites (chroot)"
  { chroot "$rootfs" apt-get update -q && DEBIAN_FRONTEND=noninteractive chroot "$rootfs" apt-get -y -q dist-upgrade; } \
    >"$CACHE/logs/base-upgrade.log" 2>&1 || { tail -20 "$CACHE/logs/base-upgrade.log" >&2; die "upgrading the base failed"; }
  chroot "$rootfs" apt-get clean
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*
  find "$rootfs/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  : >"$rootfs/etc/resolv.conf"
  : >"$rootfs/etc/hostname" # docker bind-mounts its own
  tar -C "$rootfs" --numeric-owner -cf "$CACHE/deb-base.tar.tmp" . && mv "$CACHE/deb-base.tar.tmp" "$CACHE/deb-base.tar"
  rm -rf "$rootfs"
  log "base root file system ready in $(ms_since "$t") ms ($CACHE/deb-base.tar)"
}

if [ "$REFRESH" = 1 ] || ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  if [ "$REFRESH" = 1 ] || [ ! -s "$CACHE/deb-base.tar" ]; then make_base_tar; fi
  t=$(date +%s%N)
  docker import --change 'CMD ["bash"]' --change 'ENV LANG=C.UTF-8' \
    --change 'LABEL org.opencontainers.image.title="berth Debian base (debootstrap minbase)"' \
    --message "debootstrap --variant=minbase $SUITE" "$CACHE/deb-base.tar" "$BASE_IMAGE" >/dev/null
  log "imported $BASE_IMAGE in $(ms_since "$t") ms"
fi

# ------------------------------------------------- 2. the .deb files each service needs
# Resolved against the base image's dpkg status: apt downloads only what the base lacks.
status_file=
fetch_debs() { # service
  local svc=$1 dir="$CACHE/debs/$1"
  if [ "$REFRESH" = 0 ] && [ -s "$dir/packages.txt" ] && ls "$dir"/*.deb >/dev/null 2>&1; then
    return 0 # cached: the build needs no network
  fi
  need_root_apt "downloading the packages of $svc"
  if [ -z "$status_file" ]; then
    status_file="$CACHE/base.dpkg-status"
    docker run --rm --network none "$BASE_IMAGE" cat /var/lib/dpkg/status >"$status_file"
    log "apt-get update (host; log: $CACHE/logs/host-apt-update.log)"
    apt-get update -q >"$CACHE/logs/host-apt-update.log" 2>&1 ||
      { tail -20 "$CACHE/logs/host-apt-update.log" >&2; die "apt-get update failed"; }
  fi
  local t staging="$dir.new"
  t=$(date +%s%N)
  rm -rf "$staging"
  mkdir -p "$staging/partial" "$dir"
  cp "$dir"/*.deb "$staging/" 2>/dev/null || true # apt reuses files whose hashes match
  local opts=(-o "Dir::State::status=$status_file" -o Debug::NoLocking=1)
  apt-get -q -y --download-only --no-install-recommends "${opts[@]}" -o "Dir::Cache::archives=$staging" \
    install ${PACKAGES[$svc]} >"$CACHE/logs/download-$svc.log" 2>&1 ||
    { tail -20 "$CACHE/logs/download-$svc.log" >&2; die "apt could not download ${PACKAGES[$svc]}"; }
  # Keep exactly the set apt resolved, and record it (name and version per line).
  apt-get -s -q -y --no-install-recommends "${opts[@]}" install ${PACKAGES[$svc]} |
    sed -n 's/^Inst \([^ ]*\) \(\[[^]]*\] \)\{0,1\}(\([^ ]*\) .*/\1 \3/p' >"$staging/packages.txt"
  local pkg ver file
  mkdir -p "$staging/keep"
  while read -r pkg ver; do
    file=$(ls "$staging/${pkg}_${ver//:/%3a}_"*.deb 2>/dev/null | head -1 || true)
    [ -n "$file" ] || die "apt resolved $pkg $ver but downloaded no file for it"
    mv "$file" "$staging/keep/"
  done <"$staging/packages.txt"
  rm -rf "$dir"
  mkdir -p "$dir"
  mv "$staging/keep/"*.deb "$dir/"
  mv "$staging/packages.txt" "$dir/"
  rm -rf "$staging"
  log "$svc: $(wc -l <"$dir/packages.txt") packages, $(du -sm "$dir" | cut -f1) MB, fetched in $(ms_since "$t") ms"
}

# ------------------------------------------------------------------ 3. the images
for svc in "${todo[@]}"; do
  fetch_debs "$svc"
  image=$(image_of "$svc")
  ctx=$(mktemp -d "${TMPDIR:-/tmp}/berth-real-$svc.XXXXXX")
  cp -a "$(dir_of "$svc")/." "$ctx/"
  mkdir -p "$ctx/debs"
  ln "$CACHE/debs/$svc"/*.deb "$ctx/debs/" 2>/dev/null || cp "$CACHE/debs/$svc"/*.deb "$ctx/debs/"
  t=$(date +%s%N)
  old_id=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
  if ! docker build --network none -t "$image" --build-arg "BASE_IMAGE=$BASE_IMAGE" \
    --label "berth.recipe=$(recipe_hash "$svc")" \
    --label "berth.packages=$(sha256sum "$CACHE/debs/$svc/packages.txt" | cut -c1-16)" \
    --label "org.opencontainers.image.title=berth real $svc (Debian ${PACKAGES[$svc]})" \
    "$ctx" >"$CACHE/logs/build-$svc.log" 2>&1; then
    rm -rf "$ctx"
    tail -30 "$CACHE/logs/build-$svc.log" >&2
    die "docker build of $image failed (log: $CACHE/logs/build-$svc.log)"
  fi
  rm -rf "$ctx"
  new_id=$(docker image inspect -f '{{.Id}}' "$image")
  if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then docker image rm "$old_id" >/dev/null 2>&1 || true; fi
  size=$(docker image inspect -f '{{.Size}}' "$image")
  version=$(awk -v p="${PACKAGES[$svc]}" '$1 == p { print $2 }' "$CACHE/debs/$svc/packages.txt")
  log "built $image (${PACKAGES[$svc]} $version, $((size / 1000000)) MB) in $(ms_since "$t") ms"
done
log "done in $(ms_since "$started") ms"
