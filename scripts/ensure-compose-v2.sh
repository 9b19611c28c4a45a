#!/usr/bin/env bash
# ensure-compose-v2.sh — make `docker compose` (Compose v2, the docker CLI plugin) answer, idempotently.
#
#   1. if `docker compose version` already answers, say so and exit 0 (nothing is touched);
#   2. else install the plugin binary from berth's cache when it holds one (no network);
#   3. else fetch Debian's `docker-compose` package of the next Debian release (trixie: Compose
#      v2, a static Go binary needing only libc) with apt pointed at that suite through options —
#      the system's apt sources are not changed — keep the binary in the cache, and install it.
# Debian 12 itself ships only Compose v1; berth prefers v2 when both are present
# (BERTH_COMPOSE=v1|v2 forces one).
#
# Where the plugin goes: $BERTH_COMPOSE_PLUGIN_DIR when set; else, as root, the folder Debian's
# own package uses (/usr/libexec/docker/cli-plugins); else ${DOCKER_CONFIG:-~/.docker}/cli-plugins.
#
# Environment (all optional):
#   BERTH_CACHE_DIR            cache root (default ${XDG_CACHE_HOME:-~/.cache}/berth); the binary
#                              is kept in compose-v2/ there so a reinstall needs no network
#   BERTH_COMPOSE_PLUGIN_DIR   install the plugin into this folder instead
#   BERTH_COMPOSE_V2_SUITE     Debian suite to take the package from (default trixie)
#   BERTH_REQUIRE_COMPOSE_V2   1: fail (exit 1) when v2 cannot be installed (CI); otherwise a
#                              warning and exit 0 — berth then runs on v1
#   MIRROR                     Debian mirror URI (default: the system's own apt source)
set -euo pipefail

CACHE=${BERTH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/berth}/compose-v2
SUITE=${BERTH_COMPOSE_V2_SUITE:-trixie}
REQUIRE=${BERTH_REQUIRE_COMPOSE_V2:-0}

say() { echo "ensure-compose-v2: $*"; }
give_up() {
  if [ "$REQUIRE" = 1 ]; then
    echo "ensure-compose-v2: error: $*" >&2
    exit 1
  fi
  say "warning: $* — continuing without Compose v2 (berth uses docker-compose v1 when present)"
  exit 0
}

v2_version() { timeout 20 docker compose version --short 2>/dev/null | sed 's/^v//'; }

command -v docker >/dev/null 2>&1 || give_up "no docker client on PATH"
if v=$(v2_version) && [ -n "$v" ]; then
  say "docker compose v$v answers"
  exit 0
fi

if [ -n "${BERTH_COMPOSE_PLUGIN_DIR:-}" ]; then
  DEST=$BERTH_COMPOSE_PLUGIN_DIR
elif [ "$(id -u)" = 0 ]; then
  DEST=/usr/libexec/docker/cli-plugins
else
  DEST=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
fi

install_plugin() {
  install -D -m 0755 "$CACHE/docker-compose" "$DEST/docker-compose"
  if ! v=$(v2_version) || [ -z "$v" ]; then
    give_up "installed $DEST/docker-compose but 'docker compose version' does not answer (is $DEST a folder the docker CLI searches? set DOCKER_CONFIG to its parent)"
  fi
  say "installed docker compose v$v as $DEST/docker-compose"
}

# The cached binary (from an earlier run): no network needed.
if [ -x "$CACHE/docker-compose" ] && "$CACHE/docker-compose" version >/dev/null 2>&1; then
  install_plugin
  exit 0
fi

command -v apt-get >/dev/null 2>&1 || give_up "no apt-get to fetch Compose v2 (install the docker compose plugin yourself)"
command -v dpkg >/dev/null 2>&1 || give_up "no dpkg to unpack the Compose v2 package"
[ "$(id -u)" = 0 ] || give_up "fetching Compose v2 with apt needs root (or install the docker compose plugin yourself)"
if [ -z "${MIRROR:-}" ]; then
  MIRROR=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
fi
if [ -z "${MIRROR:-}" ]; then
  MIRROR=$(awk '$1 == "deb" && $2 ~ /^http/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
fi
[ -n "${MIRROR:-}" ] || give_up "no Debian mirror found in the apt sources (set MIRROR)"

work=$(mktemp -d "${TMPDIR:-/tmp}/berth-compose-v2.XXXXXX")
trap 'rm -rf "$work"' EXIT
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n' "$MIRROR" "$SUITE" "$keyring" >"$work/next.sources"
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
apt_opts=(
  -o "Dir::Etc::SourceList=$work/next.sources" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o Debug::NoLocking=1
)
say "fetching Compose v2 (Debian $SUITE's docker-compose package) from $MIRROR"
if ! apt-get -q "${apt_opts[@]}" update >"$work/apt.log" 2>&1 ||
  ! (cd "$work" && apt-get -q "${apt_opts[@]}" download docker-compose >>"$work/apt.log" 2>&1); then
  tail -n 20 "$work/apt.log" >&2
  give_up "apt could not fetch docker-compose from $SUITE"
fi
deb=$(ls "$work"/docker-compose_2.*.deb 2>/dev/null | head -1 || true)
[ -n "$deb" ] || give_up "$SUITE's docker-compose package is not Compose v2 ($(ls "$work"/*.deb 2>/dev/null | xargs -r -n1 basename))"
dpkg -x "$deb" "$work/x"
binary=$(find "$work/x" -path '*/cli-plugins/docker-compose' -type f | head -1)
[ -n "$binary" ] || give_up "$(basename "$deb") holds no cli-plugins/docker-compose"
mkdir -p "$CACHE"
install -m 0755 "$binary" "$CACHE/docker-compose.tmp"
mv "$CACHE/docker-compose.tmp" "$CACHE/docker-compose"
install_plugin
