#!/usr/bin/env bash
# Builds the berth demo base image (default berth-demo-base:local) FROM scratch out of this host's
# own files, so the demo runs on machines where no image registry is reachable:
#   - the host's node binary (stripped when `strip` is available) and every library `ldd` lists,
#   - a static busybox (Debian: busybox-static) with one symlink per applet, so sh, nc, wget exist,
#   - a minimal /etc (passwd, group, nsswitch.conf) and a world-writable /tmp.
# The service images are then built by compose (images/service.Dockerfile, ARG BASE_IMAGE).
#
# Usage: images/build.sh [--force] [--tag NAME]
#   --force       rebuild even if the image already exists (default: exit at once when it exists)
#   --tag NAME    image to build (default berth-demo-base:local)
# Environment:
#   BERTH_DEMO_BASE_IMAGE  the base compose.yaml uses; set to another image (node:20-slim),
#                          there is nothing to build and this script says so and exits 0
#   NODE_BIN               node binary to copy (default: `node` on PATH)
#   BUSYBOX_BIN            busybox binary to copy (default /bin/busybox)
set -euo pipefail

IMAGE=berth-demo-base:local
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FORCE=0

usage() { sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

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

if [ -n "${BERTH_DEMO_BASE_IMAGE:-}" ] && [ "$BERTH_DEMO_BASE_IMAGE" != "$IMAGE" ]; then
  echo "build.sh: BERTH_DEMO_BASE_IMAGE=$BERTH_DEMO_BASE_IMAGE: the stack uses that base, nothing to build here"
  exit 0
fi

command -v docker >/dev/null 2>&1 || die "docker client not found"
timeout 20 docker version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
  die "the Docker engine does not answer (try scripts/ensure-engine.sh)"

# The service images (berth-demo-<service>:local) every instance shares: the sources are
# bind-mounted at run time, so the images hold only the base, the helpers and a copy of the
# source for use without a checkout. Built once here so `up` never builds.
build_services() {
  local svc
  for svc in db backend worker observability e2e; do
    local tag="berth-demo-$svc:local"
    if [ "$FORCE" = 0 ] && docker image inspect "$tag" >/dev/null 2>&1; then continue; fi
    if ! docker build -q -t "$tag" -f "$HERE/service.Dockerfile" \
      --build-arg "BASE_IMAGE=$IMAGE" --build-arg "SERVICE=$svc" \
      --label "org.opencontainers.image.title=berth demo $svc" \
      "$HERE/.." >"${TMPDIR:-/tmp}/berth-demo-build-$svc.log" 2>&1; then
      cat "${TMPDIR:-/tmp}/berth-demo-build-$svc.log" >&2
      die "docker build of $tag failed"
    fi
    echo "build.sh: built $tag"
  done
}

if [ "$FORCE" = 0 ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "build.sh: $IMAGE already exists (use --force to rebuild)"
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
