#!/usr/bin/env bash
# Rolls an environment back to a version deployed earlier (a <env>/vX.Y.Z tag), and records the
# rollback as the tag <env>/rollback/<UTC yyyymmddThhmmssZ>. See docs/deploying.md.
set -euo pipefail

DC_SCRIPT_NAME=rollback.sh
PROJECT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=scripts/lib/deploy-common.sh
. "$PROJECT_DIR/scripts/lib/deploy-common.sh"

usage() {
  cat <<'EOF'
usage: rollback.sh -l [-e ENV]
       rollback.sh -e development|production -v vX.Y.Z [-m reason] [-y] [--dry-run]

  -l, --list           list the deployed versions per environment (newest first; * = current)
  -e, --env ENV        environment to roll back (or to list)
  -v, --version VER    version to go back to; its tag <env>/VER must exist
  -m, --reason MSG     why (recorded in the rollback tag and sent to Cloudflare)
  -y, --yes            do not ask for confirmation (required when there is no terminal)
      --dry-run        show what would happen; a rebuild is bundled with `wrangler deploy --dry-run`
  -h, --help           this help

A version whose tag records a cloudflare-version-id is restored with `wrangler rollback <id>`
(no rebuild). Otherwise its commit is checked out in a temporary git worktree, built
(EDGE_CACHE_BUILD_CMD) and deployed like deploy-versioned.sh does, with VERSION set to it.
Stored cache entries (KV, Durable Objects) are never rolled back.
EOF
}

LIST=0 ENV_NAME="" VERSION="" REASON="" ASSUME_YES=0 DRY_RUN=0

parse_args() {
  while [[ $# -gt 0 ]]; do
    case $1 in
      -l | --list) LIST=1; shift ;;
      -e | --env) need_value "$1" "$#" "${2:-}"; ENV_NAME=$2; shift 2 ;;
      -v | --version) need_value "$1" "$#" "${2:-}"; VERSION=$2; shift 2 ;;
      -m | --reason | --message) need_value "$1" "$#" "${2:-}"; REASON=$2; shift 2 ;;
      -y | --yes) ASSUME_YES=1; shift ;;
      --dry-run) DRY_RUN=1; shift ;;
      -h | --help) usage; exit 0 ;;
      *) usage_error "unknown option '$1' (see --help)" ;;
    esac
  done
  [[ -z $ENV_NAME ]] || validate_env "$ENV_NAME"
  [[ -z $VERSION ]] || validate_version "$VERSION"
  if [[ $LIST == 1 ]]; then
    [[ -z $VERSION ]] || usage_error "-l does not take -v"
    return 0
  fi
  [[ -n $ENV_NAME ]] || usage_error "missing -e development|production (or -l to list versions)"
  [[ -n $VERSION ]] || usage_error "missing -v vX.Y.Z (rollback.sh -l lists the deployed versions)"
}

list_versions() {
  local env
  for env in ${ENV_NAME:-$DC_ENVIRONMENTS}; do
    print_env_versions "$env"
  done
}

# rebuild_and_deploy <commit> <config>: the no-cloudflare-id path. Sets DC_CF_VERSION_ID (real deploy).
rebuild_and_deploy() {
  local commit=$1 config=$2 wt dir
  wt="$DC_SCRATCH/worktree"
  step "checking out $ENV_NAME/$VERSION (${commit:0:10}) in a temporary worktree"
  git_root worktree add --detach "$wt" "$commit" >/dev/null 2>&1 ||
    die 1 "git worktree add failed for $commit"
  add_cleanup "git -C $(printf '%q' "$DC_ROOT") worktree remove --force $(printf '%q' "$wt") >/dev/null 2>&1 || true
    git -C $(printf '%q' "$DC_ROOT") worktree prune || true"
  dir="$wt${DC_PREFIX:+/${DC_PREFIX%/}}"
  info "worktree: $dir"
  # The worktree has no node_modules (untracked): share the checkout's, so the build and
  # `npx wrangler` resolve the same tools.
  if [[ -d $DC_ROOT/node_modules && ! -e $dir/node_modules ]]; then
    ln -s "$DC_ROOT/node_modules" "$dir/node_modules"
  fi
  [[ -f $dir/$config ]] || die 1 "$config does not exist at $ENV_NAME/$VERSION; cannot rebuild it"
  [[ $DRY_RUN == 1 ]] || require_no_placeholder "$dir/$config" "$config (at $ENV_NAME/$VERSION)"

  run_build "$dir"
  if [[ $DRY_RUN == 1 ]]; then
    dry_run_bundle "$dir" "$config" "$VERSION" "${EDGE_CACHE_DRY_RUN_OUTDIR:-$DC_ROOT/dist/$ENV_NAME-rollback-$VERSION}"
    return 0
  fi
  release_version "$dir" "$config" "$VERSION" "rollback to $VERSION: $REASON" ||
    die 1 "rollback deploy failed; nothing recorded"
}

main() {
  parse_args "$@"
  init_project "$PROJECT_DIR"
  make_scratch_dir

  if [[ $LIST == 1 ]]; then
    list_versions
    return 0
  fi

  local config tag cf_id commit from method record at by msgfile avail dry_note
  config=$(config_for_env "$ENV_NAME")
  tag="$ENV_NAME/$VERSION"
  if ! tag_exists "$tag"; then
    avail=$(env_versions "$ENV_NAME" | tr '\n' ' ')
    avail=${avail% }
    die 1 "no tag $tag: $VERSION was never deployed to $ENV_NAME. Deployed versions: ${avail:-none}"
  fi
  cf_id=$(tag_field "$tag" cloudflare-version-id)
  commit=$(git_root rev-parse "refs/tags/$tag^{commit}")
  current_state "$ENV_NAME"
  from=${CUR_VERSION:-unknown}
  [[ -n $REASON ]] || REASON="roll back $ENV_NAME from $from to $VERSION"
  REASON=$(one_line "$REASON")
  if [[ -n $cf_id && $cf_id != - ]]; then method=wrangler-rollback; else method=rebuild cf_id=""; fi

  dry_note=""
  [[ $DRY_RUN == 0 ]] || dry_note=" [DRY RUN]"
  step "rollback plan: $ENV_NAME $from -> $VERSION ($config)$dry_note"
  if [[ $method == wrangler-rollback ]]; then
    info "restore Cloudflare version $cf_id (no rebuild)"
  else
    info "no cloudflare-version-id recorded in $tag: rebuild commit ${commit:0:10} and deploy it"
  fi
  [[ $from != "$VERSION" ]] || warn "$ENV_NAME is already at $VERSION according to git; rolling back anyway"
  stored_data_warning

  if [[ $DRY_RUN == 0 ]]; then
    confirm "Roll back $ENV_NAME to $VERSION?" "$ASSUME_YES"
  fi

  if [[ $method == wrangler-rollback ]]; then
    if [[ $DRY_RUN == 1 ]]; then
      step "dry run: would run: ${WRANGLER:-npx wrangler} $(quote_args rollback "$cf_id" -c "$config" -m "$(wrangler_message "$REASON")" -y)"
    else
      step "rolling back to cloudflare version $cf_id"
      run_wrangler "$DC_ROOT" rollback "$cf_id" -c "$config" -m "$(wrangler_message "$REASON")" -y ||
        die 1 "wrangler rollback failed; nothing recorded"
      DC_CF_VERSION_ID=$cf_id DC_TRIGGERS_FAILED=0
    fi
  else
    rebuild_and_deploy "$commit" "$config"
  fi

  if [[ $DRY_RUN == 1 ]]; then
    step "dry run complete: nothing deployed, no rollback recorded"
    return 0
  fi

  record=$(rollback_tag_name "$ENV_NAME")
  at=$(utc_now_iso)
  by=$(git_user)
  msgfile="$DC_SCRATCH/rollback-message"
  {
    printf 'edge-cache %s rollback to %s\n\n' "$ENV_NAME" "$VERSION"
    printf 'environment: %s\n' "$ENV_NAME"
    printf 'target-version: %s\n' "$VERSION"
    printf 'from-version: %s\n' "$from"
    printf 'cloudflare-version-id: %s\n' "$DC_CF_VERSION_ID"
    printf 'method: %s\n' "$method"
    printf 'git-commit: %s\n' "$commit"
    printf 'rolled-back-at: %s\n' "$at"
    printf 'rolled-back-by: %s\n' "$(one_line "$by")"
    printf 'reason: %s\n' "$REASON"
  } >"$msgfile"
  create_tag "$record" "$commit" "$msgfile" ||
    die 1 "ROLLED BACK to $VERSION but could not create the record tag $record; create it by hand"
  step "recorded $record"
  append_deploy_log action rollback environment "$ENV_NAME" version "$VERSION" from_version "$from" \
    cloudflare_version_id "$DC_CF_VERSION_ID" method "$method" git_commit "$commit" deployed_at "$at" \
    deployed_by "$by" message "$REASON" tag "$record"

  step "summary"
  info "environment:  $ENV_NAME ($config)"
  info "now serving:  $VERSION (was $from)"
  info "cloudflare:   $DC_CF_VERSION_ID ($method)"
  info "record:       $record"
  info "share the record: git push origin refs/tags/$record"
  warn "reminder: stored cache entries (KV, Durable Objects) were NOT rolled back"
  if [[ $DC_TRIGGERS_FAILED == 1 ]]; then
    die 1 "$VERSION is live and recorded, but its triggers were not applied: npm run wrangler -- triggers deploy -c $config"
  fi
}

main "$@"
