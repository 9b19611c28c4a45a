#!/usr/bin/env bash
# Builds everything the demo stack runs on, with no image registry, and reuses what is up to date:
#   1. the real services' images (PostgreSQL 15, Redis 7, Prometheus) from Debian's packages:
#      images/real/build.sh (needs root and the Debian mirror once; cached afterwards);
#   2. berth-demo-base:local FROM scratch out of this host's own files:
#      - the host's node binary (stripped when `strip` is available) and every library `ldd` lists,
#      - a static busybox (Debian: busybox-static) with one symlink per applet, so sh, nc, wget exist,
#      - a minimal /etc (passwd, group, nsswitch.conf) and a world-writable /tmp;
#   3. the npm clients the Node services use (pg, ioredis: images/deps, `npm ci` once; the npm
#      registry is needed only then);
#   4. the service images berth-demo-<service>:real (images/*.Dockerfile), each labelled with a
#      hash of what it is built from and rebuilt when that changes.
#
# Usage: images/build.sh [--force] [--tag NAME]
#   --force       rebuild even what is up to date (the real images' package cache is reused)
#   --tag NAME    base image to build (default berth-demo-base:local)
# Environment:
#   BERTH_DEMO_BASE_IMAGE  the Node base compose.yaml uses; set to another image (node:20-slim),
#                          the FROM-scratch base is not built
#   BERTH_DEMO_POSTGRES_BASE / BERTH_DEMO_REDIS_BASE / BERTH_DEMO_PROMETHEUS_BASE
#                          bases of the real services (postgres:15, redis:7, prom/prometheus with
#                          a registry); when set, images/real/build.sh skips that service
#   NODE_BIN               node binary to copy (default: `node` on PATH)
#   BUSYBOX_BIN            busybox binary to copy (default /bin/busybox)
set -euo pipefail

IMAGE=berth-demo-base:local
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FORCE=0

usage() { sed -n '2,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --force | -f) FORCE=1 ;;
    --tag) [ $# -ge 2 ] || { usage >&2; exit 2; }; IMAGE=$2; shift ;;
    --tag=*) IMAGE=${1#--tag=} ;;
    -h | --help) usage; exit 0 ;;
    *) echo "build.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

die() { echo "build.sh: $*" >&2; exit 1; }

CUSTOM_BASE=0
if [ -n "${BERTH_DEMO_BASE_IMAGE:-}" ] && [ "$BERTH_DEMO_BASE_IMAGE" != "$IMAGE" ]; then
  echo "build.sh: BERTH_DEMO_BASE_IMAGE=$BERTH_DEMO_BASE_IMAGE: the stack uses that Node base, not $IMAGE"
  CUSTOM_BASE=1
fi

command -v docker >/dev/null 2>&1 || die "docker client not found"
timeout 20 docker version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
  die "the Docker engine does not answer (try scripts/ensure-engine.sh)"

DEMO=$(cd "$HERE/.." && pwd)

# The npm clients of the Node services, installed from the committed lockfile into
# images/deps/node_modules (copied into the service images). Reinstalled when the lockfile changes.
install_deps() {
  local deps="$HERE/deps" stamp="$HERE/deps/node_modules/.berth-lock-sha"
  local want
  want=$(sha256sum "$deps/package-lock.json" | cut -c1-16)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  command -v npm >/dev/null 2>&1 || die "npm not found: it installs the demo's npm clients (images/deps)"
  local started
  started=$(date +%s%N)
  # --prefer-offline: a second install (another checkout, a wiped node_modules) needs no network.
  if ! (cd "$deps" && npm ci --omit=dev --no-audit --no-fund --prefer-offline --loglevel=error) >"${TMPDIR:-/tmp}/berth-demo-npm.log" 2>&1; then
    cat "${TMPDIR:-/tmp}/berth-demo-npm.log" >&2
    die "npm ci in $deps failed"
  fi
  echo "$want" >"$stamp"
  echo "build.sh: installed the demo's npm clients (pg, ioredis) in $((($(date +%s%N) - started) / 1000000)) ms"
}

# What a service image is built from; the image carries it as a label and is rebuilt when it changes.
service_recipe() { # dockerfile service base
  {
    cat "$HERE/$1"
    echo "service=$2 base=$3 base-id=$(docker image inspect -f '{{.Id}}' "$3" 2>/dev/null || echo none)"
    if [ "$1" = service.Dockerfile ]; then
      cat "$HERE/deps/package-lock.json"
      (cd "$HERE/bin" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
    fi
    if [ "$2" = prometheus ]; then cat "$DEMO/prometheus/prometheus.yml"; fi
  } | sha256sum | cut -c1-16
}

# The service images (berth-demo-<service>:real) every instance shares: the Node services'
# sources are bind-mounted at run time, so the images hold the base, the npm clients, the helpers
# and a copy of the source for use without a checkout. Built here so `up` never builds.
build_services() {
  install_deps
  local entry svc dockerfile base
  for entry in \
    "backend service.Dockerfile node" "worker service.Dockerfile node" \
    "observability service.Dockerfile node" "e2e service.Dockerfile node" \
    "postgres postgres.Dockerfile ${BERTH_DEMO_POSTGRES_BASE:-berth-real-postgres:local}" \
    "redis redis.Dockerfile ${BERTH_DEMO_REDIS_BASE:-berth-real-redis:local}" \
    "prometheus prometheus.Dockerfile ${BERTH_DEMO_PROMETHEUS_BASE:-berth-real-prometheus:local}"; do
    read -r svc dockerfile base <<<"$entry"
    [ "$base" = node ] && base=${BERTH_DEMO_BASE_IMAGE:-$IMAGE}
    local tag="berth-demo-$svc:real" recipe
    recipe=$(service_recipe "$dockerfile" "$svc" "$base")
    if [ "$FORCE" = 0 ] && [ "$(docker image inspect -f '{{index .Config.Labels "berth.demo.recipe"}}' "$tag" 2>/dev/null)" = "$recipe" ]; then
      continue
    fi
    local started
    started=$(date +%s%N)
    if ! docker build -q -t "$tag" -f "$HERE/$dockerfile" \
      --build-arg "BASE_IMAGE=$base" --build-arg "SERVICE=$svc" \
      --label "org.opencontainers.image.title=berth demo $svc" --label "berth.demo.recipe=$recipe" \
      "$DEMO" >"${TMPDIR:-/tmp}/berth-demo-build-$svc.log" 2>&1; then
      cat "${TMPDIR:-/tmp}/berth-demo-build-$svc.log" >&2
      die "docker build of $tag failed"
    fi
    echo "build.sh: built $tag in $((($(date +%s%N) - started) / 1000000)) ms"
  done
}

# 1. The real services (each skipped when its base comes from elsewhere, or is up to date).
bash "$HERE/real/build.sh" $([ "$FORCE" = 1 ] && echo --force)

if [ "$CUSTOM_BASE" = 1 ]; then
  build_services
  exit 0
fi
if [ "$FORCE" = 0 ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  build_services
  exit 0
fi

NODE_BIN=${NODE_BIN:-$(command -v node || true)}
[ -n "$NODE_BIN" ] || die "node not found on PATH (set NODE_BIN)"
NODE_BIN=$(readlink -f "$NODE_BIN")
BUSYBOX_BIN=$(readlink -f "${BUSYBOX_BIN:-/bin/busybox}")
[ -x "$BUSYBOX_BIN" ] ||
  die "$BUSYBOX_BIN not found: install busybox-static (apt-get install -y busybox-static) or set BUSYBOX_BIN"

start=$(date +%s%N)
old_id=$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)
work=$(mktemp -d "${TMPDIR:-/tmp}/berth-demo-base.XXXXXX")
trap 'rm -rf "$work"' EXIT
ctx=$work/context # the build context holds only Dockerfile and root/
root=$ctx/root
mkdir -p "$root/usr/bin" "$root/bin" "$root/etc" "$root/tmp" "$root/app" "$root/root"
chmod 1777 "$root/tmp"

# Copies one file to the same absolute path inside the image root, following symlinks.
put() {
  mkdir -p "$root$(dirname "$2")"
  cp -L "$1" "$root$2"
}

# Copies the shared libraries (and the dynamic loader) a binary needs, as `ldd` reports them.
# A static binary makes ldd say "not a dynamic executable" and exit 1: nothing to copy.
copy_libs() {
  local out
  out=$(ldd "$1" 2>/dev/null) || return 0
  awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$out" | sort -u |
    while read -r lib; do
      [ -e "$root$lib" ] || put "$lib" "$lib"
    done
  if grep -q 'not found' <<<"$out"; then
    die "ldd $1 reports missing libraries:$(grep 'not found' <<<"$out")"
  fi
}

# node: stripping its debug info saves ~13 MB on Debian's build and takes well under a second.
if command -v strip >/dev/null 2>&1 && strip --strip-unneeded -o "$root/usr/bin/node" "$NODE_BIN" 2>/dev/null; then
  :
else
  cp "$NODE_BIN" "$root/usr/bin/node"
fi
chmod 0755 "$root/usr/bin/node"
copy_libs "$NODE_BIN"

put "$BUSYBOX_BIN" /bin/busybox
copy_libs "$BUSYBOX_BIN"
for applet in $("$BUSYBOX_BIN" --list); do
  case "$applet" in */* | busybox) continue ;; esac
  [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
[ -e "$root/bin/sh" ] || die "$BUSYBOX_BIN has no sh applet"

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
node:x:1000:1000:node:/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
node:x:1000:
nogroup:x:65534:
EOF
echo 'hosts: files dns' >"$root/etc/nsswitch.conf"

node_version=$("$NODE_BIN" --version)
cp "$HERE/base.Dockerfile" "$ctx/Dockerfile"
echo "build.sh: building $IMAGE from $NODE_BIN ($node_version) and $BUSYBOX_BIN"
# Without buildx the legacy builder prints a deprecation note on every build: show the builder's
# output only when the build fails.
if ! docker build -q -t "$IMAGE" \
  --label "org.opencontainers.image.title=berth demo base" \
  --label "berth.demo.node-version=$node_version" \
  "$ctx" >"$work/build.log" 2>&1; then
  cat "$work/build.log" >&2
  die "docker build of $IMAGE failed"
fi
new_id=$(docker image inspect -f '{{.Id}}' "$IMAGE")
if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then
  # Drop the replaced image unless something (a service image built on it) still needs it.
  docker image rm "$old_id" >/dev/null 2>&1 || true
fi
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
echo "build.sh: built $IMAGE ($((size / 1000000)) MB) in ${elapsed_ms} ms"
build_services
