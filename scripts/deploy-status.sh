#!/usr/bin/env bash
# What is deployed where: the git-recorded state (deploy and rollback tags) of each environment and,
# when CLOUDFLARE_API_TOKEN is set, what Cloudflare reports (`wrangler deployments status`).
set -euo pipefail

DC_SCRIPT_NAME=deploy-status.sh
PROJECT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=scripts/lib/deploy-common.sh
. "$PROJECT_DIR/scripts/lib/deploy-common.sh"

usage() {
  cat <<'EOF'
usage: scripts/deploy-status.sh [-e development|production]

Prints, per environment, the current version according to the git tags (as `rollback.sh -l`
marks it), when it went live and from which commit; then, if CLOUDFLARE_API_TOKEN is set,
`wrangler deployments status -c <config>`. Exits 1 if a wrangler query failed.
EOF
}

ENV_NAME=""

parse_args() {
  while [[ $# -gt 0 ]]; do
    case $1 in
      -e | --env) need_value "$1" "$#" "${2:-}"; ENV_NAME=$2; shift 2 ;;
      -h | --help) usage; exit 0 ;;
      *) usage_error "unknown option '$1' (see --help)" ;;
    esac
  done
  [[ -z $ENV_NAME ]] || validate_env "$ENV_NAME"
}

main() {
  local env config failed=0
  parse_args "$@"
  init_project "$PROJECT_DIR"
  make_scratch_dir

  for env in ${ENV_NAME:-$DC_ENVIRONMENTS}; do
    config=$(config_for_env "$env")
    printf '%s (%s)\n' "$env" "$config"
    printf '  git-recorded: %s\n' "$(describe_current "$env")"
    if [[ -n ${CLOUDFLARE_API_TOKEN:-} ]]; then
      printf '  cloudflare:\n'
      if ! run_wrangler "$DC_ROOT" deployments status -c "$config" | sed 's/^/    /'; then
        warn "wrangler deployments status failed for $env"
        failed=1
      fi
    else
      printf '  cloudflare: no Cloudflare credentials (CLOUDFLARE_API_TOKEN unset): showing git-recorded state only\n'
    fi
    printf '\n'
  done
  return "$failed"
}

main "$@"
