#!/usr/bin/env bash
# The pinned wrangler (package.json) on a Node it supports: scripts/node.sh picks that Node, so this
# works where the machine's Node is older than wrangler needs (where `npx wrangler` fails).
#   bash scripts/wrangler.sh <wrangler args...>     or: npm run wrangler -- <wrangler args...>
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wrangler="$here/../node_modules/wrangler/bin/wrangler.js"
if [[ ! -f $wrangler ]]; then
  printf 'wrangler.sh: wrangler is not installed (%s); run: bash scripts/setup.sh\n' "$wrangler" >&2
  exit 1
fi
exec bash "$here/node.sh" "$wrangler" "$@"
