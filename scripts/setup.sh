#!/usr/bin/env bash
# Idempotent machine + project setup, called by `npm run dev`, `npm test` and .ci/run.
#   1. Debian packages for the C++/Wasm toolchain (apt-get, as root), only when one is missing.
#   2. npm dependencies (npm ci), only when node_modules does not match package-lock.json.
# Set EDGE_CACHE_SKIP_SETUP=1 to skip it (e.g. on a machine managed some other way).
set -euo pipefail
cd "$(dirname "$0")/.."

[ "${EDGE_CACHE_SKIP_SETUP:-0}" = "1" ] && exit 0

PACKAGES=(clang lld llvm wasi-libc libc++-14-dev-wasm32 libc++abi-14-dev-wasm32 libclang-rt-14-dev-wasm32
          libclang-rt-14-dev nlohmann-json3-dev doctest-dev binaryen wabt cmake make emscripten)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages (${missing[*]}); run: sudo bash scripts/setup.sh" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "setup: Node.js $(node --version) is too old; edge-cache needs Node 20 or newer" >&2
  exit 1
fi

# npm ci only when the installed tree does not match the lock file (npm writes its own copy of the
# lock into node_modules/.package-lock.json after an install).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules/.package-lock.json
fi
