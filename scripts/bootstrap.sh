#!/usr/bin/env bash
# Prepares a fresh machine (Node 20 present) for berth: pnpm, a Docker engine, Compose v2 (the
# docker CLI plugin), dependencies, a build, the demo stack's locally built images and berth's
# default workspace image (berth-workspace:local).
# Idempotent; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1

pnpm_version=$(node -p "require('./package.json').packageManager.split('@')[1]")
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$pnpm_version" ]; then
  echo "bootstrap: installing pnpm $pnpm_version"
  npm install -g "pnpm@$pnpm_version" >/dev/null
fi

bash scripts/ensure-engine.sh
bash scripts/ensure-compose-v2.sh
pnpm install --frozen-lockfile
pnpm run build
bash examples/demo/images/build.sh
bash scripts/build-workspace-image.sh
