#!/usr/bin/env bash
# Builds berth's default workspace image, berth-workspace:local (git, Node.js, Python 3, curl, a
# shell; plugins/compose/workspace/Dockerfile), with no image registry: Debian's own packages on
# the debootstrapped base the demo's real images use (examples/demo/images/real/build.sh does the
# work: base and .deb files cached in ${BERTH_CACHE_DIR:-~/.cache/berth}/images, a rebuild needs
# no network). Up to date (same Dockerfile, same package list) -> nothing is built.
# Needs root and the Debian mirror the first time only.
#
# Usage: scripts/build-workspace-image.sh [--force] [--refresh]
# With a registry instead: docker build --build-arg BASE_IMAGE=debian:bookworm-slim \
#   -t berth-workspace:local plugins/compose/workspace
set -euo pipefail
cd "$(dirname "$0")/.."
exec bash examples/demo/images/real/build.sh --only workspace "$@"
