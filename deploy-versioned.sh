#!/usr/bin/env bash
# Deploys edge-cache to one environment as a numbered version, recorded as the git tag <env>/vX.Y.Z.
# See docs/deploying.md. Usage: deploy-versioned.sh -h
set -euo pipefail

DC_SCRIPT_NAME=deploy-versioned.sh
PROJECT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=scripts/lib/deploy-common.sh
. "$PROJECT_DIR/scripts/lib/deploy-common.sh"

usage() {
  cat <<'EOF'
usage: deploy-versioned.sh -e development|production [-v vX.Y.Z] [-m message] [--dry-run] [--skip-tests] [-y]

  -e, --env ENV        development (wrangler.dev.toml) or production (wrangler.production.toml); required
  -v, --version VER    version to deploy, vMAJOR.MINOR.PATCH; default: next patch after the highest
                       <env>/vX.Y.Z tag (v0.1.0 if there is none)
  -m, --message MSG    deploy message (git tag and Cloudflare version); default: the commit subject
      --dry-run        test + build + `wrangler deploy --dry-run --outdir dist/<env>`; uploads and tags nothing
      --skip-tests     EMERGENCIES ONLY: deploy without running the tests (recorded as "tests: skipped")
  -y, --yes            do not ask for confirmation (required when there is no terminal)
  -h, --help           this help

Environment: WRANGLER (default "npx wrangler"), EDGE_CACHE_TEST_CMD, EDGE_CACHE_BUILD_CMD,
EDGE_CACHE_DRY_RUN_OUTDIR (default dist/<env>).
EOF
}

ENV_NAME="" VERSION="" MESSAGE="" DRY_RUN=0 SKIP_TESTS=0 ASSUME_YES=0

parse_args() {
  while [[ $# -gt 0 ]]; do
    case $1 in
      -e | --env) need_value "$1" "$#" "${2:-}"; ENV_NAME=$2; shift 2 ;;
      -v | --version) need_value "$1" "$#" "${2:-}"; VERSION=$2; shift 2 ;;
      -m | --message) need_value "$1" "$#" "${2:-}"; MESSAGE=$2; shift 2 ;;
      --dry-run) DRY_RUN=1; shift ;;
      --skip-tests) SKIP_TESTS=1; shift ;;
      -y | --yes) ASSUME_YES=1; shift ;;
      -h | --help) usage; exit 0 ;;
      *) usage_error "unknown option '$1' (see --help)" ;;
    esac
  done
  [[ -n $ENV_NAME ]] || usage_error "missing -e development|production"
  validate_env "$ENV_NAME"
  [[ -z $VERSION ]] || validate_version "$VERSION"
}

main() {
  parse_args "$@"
  init_project "$PROJECT_DIR"
  require_commit
  make_scratch_dir

  local config tag commit tests_state deployed_at deployed_by outdir msgfile dry_note
  config=$(config_for_env "$ENV_NAME")
  [[ -f $DC_ROOT/$config ]] || die 1 "missing $config"

  require_clean_tree
  if [[ -z $VERSION ]]; then
    VERSION=$(next_version "$ENV_NAME")
  fi
  tag="$ENV_NAME/$VERSION"
  if tag_exists "$tag"; then
    die 1 "version $VERSION was already deployed to $ENV_NAME (tag $tag exists); pick another -v or omit it"
  fi
  [[ $DRY_RUN == 1 ]] || require_no_placeholder "$DC_ROOT/$config" "$config"

  commit=$(git_root rev-parse 'HEAD^{commit}')
  [[ -n $MESSAGE ]] || MESSAGE=$(git_root log -1 --format=%s "$commit")
  MESSAGE=$(one_line "$MESSAGE")

  dry_note=""
  [[ $DRY_RUN == 0 ]] || dry_note=" [DRY RUN]"
  step "plan: edge-cache $VERSION -> $ENV_NAME ($config), commit ${commit:0:10}$dry_note"
  if [[ $DRY_RUN == 0 ]]; then
    confirm "Deploy $VERSION to $ENV_NAME (commit ${commit:0:10})?" "$ASSUME_YES"
  fi

  if [[ $SKIP_TESTS == 1 ]]; then
    tests_state=skipped
    warn "************************************************************************"
    warn "--skip-tests: deploying $VERSION to $ENV_NAME WITHOUT RUNNING THE TESTS."
    warn "This is recorded in the tag and .deploy-log as 'tests: skipped'."
    warn "************************************************************************"
  else
    tests_state=run
    run_tests "$DC_ROOT"
  fi

  run_build "$DC_ROOT"

  if [[ $DRY_RUN == 1 ]]; then
    outdir=${EDGE_CACHE_DRY_RUN_OUTDIR:-$DC_ROOT/dist/$ENV_NAME}
    dry_run_bundle "$DC_ROOT" "$config" "$VERSION" "$outdir"
    step "dry run complete: nothing uploaded, no tag created (bundle in $outdir)"
    summary "$tests_state" "(dry run)" "$commit" "(none: dry run)"
    return 0
  fi

  release_version "$DC_ROOT" "$config" "$VERSION" "$MESSAGE" || die 1 "deploy failed; no tag created"

  deployed_at=$(utc_now_iso)
  deployed_by=$(git_user)
  msgfile="$DC_SCRATCH/tag-message"
  {
    printf 'edge-cache %s %s\n\n' "$ENV_NAME" "$VERSION"
    printf 'environment: %s\n' "$ENV_NAME"
    printf 'version: %s\n' "$VERSION"
    printf 'cloudflare-version-id: %s\n' "$DC_CF_VERSION_ID"
    printf 'git-commit: %s\n' "$commit"
    printf 'deployed-at: %s\n' "$deployed_at"
    printf 'deployed-by: %s\n' "$(one_line "$deployed_by")"
    printf 'message: %s\n' "$MESSAGE"
    printf 'tests: %s\n' "$tests_state"
    printf 'config: %s\n' "$config"
  } >"$msgfile"
  create_tag "$tag" "$commit" "$msgfile" || die 1 "DEPLOYED $VERSION (cloudflare version $DC_CF_VERSION_ID) but could not create tag $tag; create it by hand"
  step "tagged $tag"
  append_deploy_log action deploy environment "$ENV_NAME" version "$VERSION" \
    cloudflare_version_id "$DC_CF_VERSION_ID" git_commit "$commit" deployed_at "$deployed_at" \
    deployed_by "$deployed_by" message "$MESSAGE" tests "$tests_state" tag "$tag"

  summary "$tests_state" "$DC_CF_VERSION_ID" "$commit" "$tag"
  info "share the record: git push origin refs/tags/$tag"
  if [[ $DC_TRIGGERS_FAILED == 1 ]]; then
    die 1 "$VERSION is live and tagged, but its triggers were not applied: npm run wrangler -- triggers deploy -c $config"
  fi
}

summary() { # <tests> <cloudflare-id> <commit> <tag>
  step "summary"
  info "environment:  $ENV_NAME ($(config_for_env "$ENV_NAME"))"
  info "version:      $VERSION"
  info "cloudflare:   $2"
  info "git commit:   $3"
  info "tag:          $4"
  info "message:      $MESSAGE"
  info "tests:        $1"
}

main "$@"
