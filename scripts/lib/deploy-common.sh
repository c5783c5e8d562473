# shellcheck shell=bash disable=SC2034  # variables set here are read by the sourcing scripts
# Shared functions for deploy-versioned.sh, rollback.sh and scripts/deploy-status.sh.
# Sourced, never executed. Needs bash >= 3.2 (no associative arrays, no mapfile).
#
# Conventions:
#   - exit 2: usage error (bad flag, missing value, bad environment or version format)
#   - exit 1: refusal or failure (dirty tree, duplicate version, tests failed, wrangler failed, ...)
#   - progress lines on stdout ("==> ..."), errors and warnings on stderr.
#
# Overridable commands (so tests and CI need neither Cloudflare nor the Wasm toolchain):
#   WRANGLER               default: npx wrangler      (word-split: "npx wrangler" is two words)
#   EDGE_CACHE_TEST_CMD    default: npm run --silent test:unit && npm run --silent check-rules
#   EDGE_CACHE_BUILD_CMD   default: node scripts/build.mjs --wasm-only
# Both *_CMD values are run with `bash -c` in the project directory.

DC_SCRIPT_NAME=${DC_SCRIPT_NAME:-$(basename "$0")}
DC_CALLER_PWD=$PWD
DC_ENVIRONMENTS="development production"
DC_VERSION_RE='^v[0-9]+\.[0-9]+\.[0-9]+$'
# Cloudflare limits version/deployment messages (rollback: 120 chars); keep wrangler's copy short.
DC_WRANGLER_MESSAGE_MAX=100

# ---------------------------------------------------------------------------------------------
# output

die() { # die <exit-code> <message...>
  local code=$1
  shift
  printf '%s: %s\n' "$DC_SCRIPT_NAME" "$*" >&2
  exit "$code"
}

usage_error() { die 2 "$*"; }

warn() { printf '%s: WARNING: %s\n' "$DC_SCRIPT_NAME" "$*" >&2; }

step() { printf '==> %s\n' "$*"; }

info() { printf '    %s\n' "$*"; }

# ---------------------------------------------------------------------------------------------
# cleanup: one EXIT trap running every registered command, newest first

DC_CLEANUPS=()

add_cleanup() { DC_CLEANUPS+=("$1"); }

run_cleanups() {
  local i
  for ((i = ${#DC_CLEANUPS[@]} - 1; i >= 0; i--)); do
    eval "${DC_CLEANUPS[$i]}" || true
  done
}

trap run_cleanups EXIT

make_scratch_dir() { # sets DC_SCRATCH
  DC_SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/edge-cache-deploy.XXXXXX")
  DC_SCRATCH=$(cd "$DC_SCRATCH" && pwd -P)
  add_cleanup "rm -rf $(printf '%q' "$DC_SCRATCH")"
}

# ---------------------------------------------------------------------------------------------
# argument helpers

# need_value <flag> <argc-remaining> [value]: a flag's value must exist and not look like a flag.
need_value() {
  if [[ $2 -lt 2 || -z ${3:-} || ${3:-} == -* ]]; then
    usage_error "option $1 needs a value"
  fi
}

validate_env() {
  local e
  for e in $DC_ENVIRONMENTS; do
    [[ $1 == "$e" ]] && return 0
  done
  usage_error "unknown environment '$1' (expected: development or production)"
}

validate_version() {
  [[ $1 =~ $DC_VERSION_RE ]] || usage_error "bad version '$1' (expected vMAJOR.MINOR.PATCH, e.g. v1.2.3)"
}

config_for_env() {
  case $1 in
    development) printf 'wrangler.dev.toml\n' ;;
    production) printf 'wrangler.production.toml\n' ;;
    *) usage_error "unknown environment '$1' (expected: development or production)" ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# git

# init_project <project-dir>: sets DC_ROOT (project dir: wrangler configs live here) and
# DC_PREFIX (project dir relative to the repository top, "" or "sub/dir/").
init_project() {
  DC_ROOT=$(cd "$1" && pwd -P)
  if ! git -C "$DC_ROOT" rev-parse --show-toplevel >/dev/null 2>&1; then
    die 1 "not a git repository: $DC_ROOT (deploys are recorded as git tags)"
  fi
  DC_PREFIX=$(git -C "$DC_ROOT" rev-parse --show-prefix)
  use_project_node
}

# use_project_node: puts the Node that scripts/node.sh picks (package.json engines: what the pinned
# wrangler needs) first on PATH, so `npx wrangler`, `npm run ...` and the build run on it even where
# the machine's Node is older. A project without scripts/node.sh keeps PATH as it is.
use_project_node() {
  [[ -f $DC_ROOT/scripts/node.sh ]] || return 0
  local node
  node=$(bash "$DC_ROOT/scripts/node.sh" -p 'process.execPath') || die 1 "no usable Node.js (see the message above)"
  PATH="$(dirname "$node"):$PATH"
  export PATH
}

git_root() { git -C "$DC_ROOT" "$@"; }

require_commit() {
  git_root rev-parse -q --verify 'HEAD^{commit}' >/dev/null ||
    die 1 "the repository has no commits yet; commit before deploying"
}

require_clean_tree() {
  local dirty
  dirty=$(git_root status --porcelain --untracked-files=normal)
  if [[ -n $dirty ]]; then
    printf '%s\n' "$dirty" | head -n 10 >&2
    die 1 "work tree is dirty (uncommitted or untracked files above); commit, stash or git-ignore them first"
  fi
}

tag_exists() { git_root rev-parse -q --verify "refs/tags/$1" >/dev/null; }

git_user() {
  local u
  u=$(git_root config user.name 2>/dev/null || true)
  [[ -n $u ]] || u=${USER:-$(id -un 2>/dev/null || echo unknown)}
  printf '%s\n' "$u"
}

# Versions deployed to an environment (tags <env>/vX.Y.Z), ascending in semver order.
env_versions() {
  git_root tag -l "$1/v*" |
    sed -n "s#^$1/v\([0-9][0-9]*\.[0-9][0-9]*\.[0-9][0-9]*\)\$#\1#p" |
    sort -t. -k1,1n -k2,2n -k3,3n |
    sed 's/^/v/'
}

next_version() {
  local last major minor patch
  last=$(env_versions "$1" | tail -n 1)
  if [[ -z $last ]]; then
    printf 'v0.1.0\n'
    return
  fi
  IFS=. read -r major minor patch <<<"${last#v}"
  printf 'v%s.%s.%s\n' "$major" "$minor" "$((patch + 1))"
}

# Single-line, tab-free text (tag fields and TSV records are line based).
one_line() {
  local s=${1//$'\n'/ }
  s=${s//$'\r'/ }
  printf '%s' "${s//$'\t'/ }"
}

# create_tag <tag> <commit> <message-file>: annotated tag, message kept verbatim (no '#' stripping).
create_tag() {
  git_root tag -a --cleanup=whitespace -F "$3" "$1" "$2"
}

# A free rollback record name: <env>/rollback/<UTC yyyymmddThhmmssZ>[-N]
rollback_tag_name() {
  local base n=2 name
  base="$1/rollback/$(date -u +%Y%m%dT%H%M%SZ)"
  name=$base
  while tag_exists "$name"; do
    name="$base-$n"
    n=$((n + 1))
  done
  printf '%s\n' "$name"
}

# UTC ISO-8601 with milliseconds (records made within the same second must still sort). GNU date
# has %3N; elsewhere (BSD/macOS date) node does it; last resort: whole seconds.
utc_now_iso() {
  local t
  t=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ 2>/dev/null || true)
  if [[ ! $t =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$ ]]; then
    t=$(node -e 'process.stdout.write(new Date().toISOString())' 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%S.000Z)
  fi
  printf '%s\n' "$t"
}

# ---------------------------------------------------------------------------------------------
# deploy history, read back from the annotated tags
#
# env_history <env>: one TSV line per record, newest first:
#   at  kind(deploy|rollback)  version  cloudflare-id  commit  message  from-version  tag
# Empty fields are "-". For a rollback record, version is the target version.
env_history() {
  local env=$1
  TZ=UTC git_root for-each-ref \
    --format='@@ref %(refname)%0a@@date %(creatordate:format-local:%Y-%m-%dT%H:%M:%S.000Z)%0a%(contents)' \
    "refs/tags/$env/" | awk -v env="$env" '
    function flush(   kind, ver, at, msg, from, cf, commit, t, tag) {
      if (ref == "") return
      tag = substr(ref, 11)                              # strip refs/tags/
      if (tag ~ ("^" env "/v[0-9]+\\.[0-9]+\\.[0-9]+$")) {
        kind = "deploy"; ver = substr(tag, length(env) + 2)
        at = f["deployed-at"]; msg = f["message"]; from = ""
      } else if (index(tag, env "/rollback/") == 1) {
        kind = "rollback"; ver = f["target-version"]
        at = f["rolled-back-at"]; msg = f["reason"]; from = f["from-version"]
      } else { ref = ""; return }
      if (at == "") at = date
      cf = f["cloudflare-version-id"]; commit = f["git-commit"]
      printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", at, kind, d(ver), d(cf), d(commit), d(msg), d(from), tag
      ref = ""
    }
    function d(s) { gsub(/\t/, " ", s); return s == "" ? "-" : s }
    /^@@ref / { flush(); ref = substr($0, 7); date = ""; split("", f); next }
    /^@@date / { date = substr($0, 8); next }
    {
      i = index($0, ": ")
      if (i > 1) { k = substr($0, 1, i - 1); if (!(k in f)) f[k] = substr($0, i + 2) }
    }
    END { flush() }
  ' | sort -t "$(printf '\t')" -s -k1,1r
}

# current_state <env>: sets CUR_VERSION CUR_AT CUR_KIND CUR_CF CUR_COMMIT CUR_FROM CUR_TAG from the
# newest record (a deploy tag, or a rollback record whose target is then current). CUR_VERSION is
# empty when nothing was ever deployed.
current_state() {
  local line
  CUR_VERSION="" CUR_AT="" CUR_KIND="" CUR_CF="" CUR_COMMIT="" CUR_FROM="" CUR_TAG=""
  line=$(env_history "$1" | head -n 1)
  [[ -n $line ]] || return 0
  IFS=$'\t' read -r CUR_AT CUR_KIND CUR_VERSION CUR_CF CUR_COMMIT _ CUR_FROM CUR_TAG <<<"$line"
}

# The value of "<key>: ..." in an annotated tag's message ("" when absent).
tag_field() {
  git_root for-each-ref --format='%(contents)' "refs/tags/$1" |
    awk -v k="$2: " 'index($0, k) == 1 { print substr($0, length(k) + 1); exit }'
}

short_time() { # 2024-01-02T03:04:05.678Z -> 2024-01-02T03:04:05Z
  local t=$1
  [[ $t == *.*Z ]] && t="${t%.*}Z"
  printf '%s\n' "$t"
}

short_sha() { [[ $1 == - ]] && printf -- '-\n' || printf '%s\n' "${1:0:10}"; }

# print_env_versions <env>: the table shown by `rollback.sh -l`.
print_env_versions() {
  local env=$1 history at kind ver cf commit msg from tag mark
  history=$(env_history "$env")
  current_state "$env"
  printf '%s (%s)\n' "$env" "$(config_for_env "$env")"
  if [[ -z $history ]]; then
    printf '    no deploys recorded (no %s/vX.Y.Z tags)\n\n' "$env"
    return 0
  fi
  printf '    %-10s %-21s %-36s  %-10s  %s\n' VERSION DATE "CLOUDFLARE VERSION ID" COMMIT MESSAGE
  while IFS=$'\t' read -r at kind ver cf commit msg from tag; do
    [[ $kind == deploy ]] || continue
    mark=' '
    [[ $ver == "$CUR_VERSION" ]] && mark='*'
    printf '  %s %-10s %-21s %-36s  %-10s  %s\n' "$mark" "$ver" "$(short_time "$at")" "$cf" \
      "$(short_sha "$commit")" "$msg"
  done <<<"$history"
  if grep -q "$(printf '\t')rollback$(printf '\t')" <<<"$history"; then
    printf '    rollbacks:\n'
    while IFS=$'\t' read -r at kind ver cf commit msg from tag; do
      [[ $kind == rollback ]] || continue
      printf '      %-21s %s -> %s  cloudflare %s  (%s)  %s\n' "$(short_time "$at")" "$from" "$ver" "$cf" \
        "$tag" "$msg"
    done <<<"$history"
  fi
  printf '    * = current: %s\n\n' "$(describe_current "$env")"
}

# One-line description of what is live according to git (uses current_state's variables).
describe_current() {
  current_state "$1"
  if [[ -z $CUR_VERSION ]]; then
    printf 'nothing deployed (no %s tags)\n' "$1"
  elif [[ $CUR_KIND == rollback ]]; then
    printf '%s (rolled back from %s at %s, commit %s, cloudflare version %s)\n' "$CUR_VERSION" "$CUR_FROM" \
      "$(short_time "$CUR_AT")" "$(short_sha "$CUR_COMMIT")" "$CUR_CF"
  else
    printf '%s (deployed %s, commit %s, cloudflare version %s)\n' "$CUR_VERSION" "$(short_time "$CUR_AT")" \
      "$(short_sha "$CUR_COMMIT")" "$CUR_CF"
  fi
}

# ---------------------------------------------------------------------------------------------
# config checks

# The first REPLACE_WITH_* placeholder in a config file ("" if none).
find_placeholder() {
  grep -o 'REPLACE_WITH_[A-Za-z0-9_]*' "$1" 2>/dev/null | head -n 1 || true
}

require_no_placeholder() { # <config-path> <display-name>
  local ph
  ph=$(find_placeholder "$1")
  if [[ -n $ph ]]; then
    die 1 "$2 still contains the placeholder $ph; put the real value in before a real deploy (--dry-run works without it)"
  fi
}

# ---------------------------------------------------------------------------------------------
# confirmation

# confirm <question> <assume-yes 0|1>: returns 0 to go ahead. Without a terminal and without -y it
# refuses (exit 1) instead of guessing.
confirm() {
  local reply
  [[ $2 == 1 ]] && return 0
  if [[ ! -t 0 ]]; then
    die 1 "refusing: no terminal to confirm \"$1\" on; pass -y to confirm non-interactively"
  fi
  printf '%s [y/N] ' "$1"
  read -r reply || reply=""
  case $reply in
    y | Y | yes | YES | Yes) return 0 ;;
    *) die 1 "aborted by user" ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# tests, build, wrangler

run_in() { # run_in <dir> <shell-command>
  (cd "$1" && bash -c "$2")
}

run_tests() { # <dir>
  local cmd=${EDGE_CACHE_TEST_CMD:-npm run --silent test:unit && npm run --silent check-rules}
  step "running tests ($cmd)"
  run_in "$1" "$cmd" || die 1 "tests failed; refusing to deploy"
}

run_build() { # <dir>
  local cmd=${EDGE_CACHE_BUILD_CMD:-node scripts/build.mjs --wasm-only}
  step "building ($cmd)"
  run_in "$1" "$cmd" || die 1 "build failed; nothing was deployed"
}

# Runs wrangler with cwd <dir>, showing its output and keeping a copy in DC_WRANGLER_OUT.
# run_wrangler <dir> <args...>
run_wrangler() {
  local dir=$1 rc=0
  shift
  local -a cmd
  read -r -a cmd <<<"${WRANGLER:-npx wrangler}"
  # wrangler may run in another directory (a rollback worktree): anchor a relative WRANGLER path
  # to where the script was started.
  [[ ${cmd[0]} == /* || ${cmd[0]} != */* ]] || cmd[0]="$DC_CALLER_PWD/${cmd[0]}"
  DC_WRANGLER_OUT="$DC_SCRATCH/wrangler.out"
  info "\$ ${WRANGLER:-npx wrangler} $(quote_args "$@")"
  (cd "$dir" && "${cmd[@]}" "$@") 2>&1 | tee "$DC_WRANGLER_OUT" || rc=$?
  return "$rc"
}

quote_args() {
  local a out=""
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./:@=+,-]+$ ]]; then out+=" $a"; else out+=" '${a//\'/\'\\\'\'}'"; fi
  done
  printf '%s\n' "${out# }"
}

wrangler_message() { # Cloudflare-side copy of a message: one line, at most DC_WRANGLER_MESSAGE_MAX chars
  local m
  m=$(one_line "$1")
  printf '%s\n' "${m:0:$DC_WRANGLER_MESSAGE_MAX}"
}

# release_version <dir> <config> <version> <message>
# Real deploy: versions upload (tagged, VERSION injected) -> versions deploy <id>@100 -> triggers deploy.
# Sets DC_CF_VERSION_ID. Returns 1 (after printing why) if the upload or the deployment failed: nothing
# new is serving traffic then. A failed `triggers deploy` only sets DC_TRIGGERS_FAILED=1: the version
# IS live, so the caller must still record it.
release_version() {
  local dir=$1 config=$2 version=$3 msg
  msg=$(wrangler_message "$4")
  DC_CF_VERSION_ID="" DC_TRIGGERS_FAILED=0

  step "uploading version $version ($config)"
  if ! run_wrangler "$dir" versions upload -c "$config" --var "VERSION:$version" --tag "$version" --message "$msg"; then
    printf '%s: wrangler versions upload failed; nothing was deployed\n' "$DC_SCRIPT_NAME" >&2
    return 1
  fi
  DC_CF_VERSION_ID=$(grep -Eo 'Worker Version ID: *[0-9A-Fa-f-]{36}' "$DC_WRANGLER_OUT" | head -n 1 |
    grep -Eo '[0-9A-Fa-f-]{36}$' || true)
  if [[ -z $DC_CF_VERSION_ID ]]; then
    printf '%s: could not find "Worker Version ID: <uuid>" in the wrangler versions upload output; nothing was deployed\n' \
      "$DC_SCRIPT_NAME" >&2
    return 1
  fi

  step "deploying version $version (cloudflare version $DC_CF_VERSION_ID) to 100% of traffic"
  if ! run_wrangler "$dir" versions deploy "$DC_CF_VERSION_ID@100" -c "$config" --message "$msg" -y; then
    printf '%s: wrangler versions deploy failed; version %s was uploaded but is NOT serving traffic\n' \
      "$DC_SCRIPT_NAME" "$DC_CF_VERSION_ID" >&2
    return 1
  fi

  # `versions upload` leaves triggers (cron schedules, routes, workers.dev) alone; apply them.
  step "applying triggers (cron schedules, routes) from $config"
  if ! run_wrangler "$dir" triggers deploy -c "$config"; then
    DC_TRIGGERS_FAILED=1
    warn "wrangler triggers deploy failed: version $version IS live but its triggers were not updated; run: npm run wrangler -- triggers deploy -c $config"
  fi
  return 0
}

# dry_run_bundle <dir> <config> <version> <outdir>: bundles without uploading; nothing is recorded.
dry_run_bundle() {
  step "bundling (wrangler deploy --dry-run; nothing is uploaded)"
  mkdir -p "$4"
  run_wrangler "$1" deploy -c "$2" --dry-run --outdir "$4" --var "VERSION:$3" ||
    die 1 "wrangler deploy --dry-run failed"
}

# ---------------------------------------------------------------------------------------------
# .deploy-log (git-ignored, one JSON object per line)

json_str() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  printf '"%s"' "$s"
}

# append_deploy_log key value [key value ...]
append_deploy_log() {
  local line="{" sep="" log="$DC_ROOT/.deploy-log"
  while [[ $# -ge 2 ]]; do
    line+="$sep$(json_str "$1"):$(json_str "$2")"
    sep=","
    shift 2
  done
  printf '%s}\n' "$line" >>"$log"
  if ! git_root check-ignore -q "$log"; then
    warn ".deploy-log is not git-ignored: add it to .gitignore, or the next deploy will refuse the dirty tree"
  fi
}

# ---------------------------------------------------------------------------------------------

stored_data_warning() {
  cat >&2 <<'EOF'
WARNING: a rollback replaces the Worker CODE only. Stored cache entries (KV namespace CACHE_KV,
         Durable Object CACHE_DO storage) are NOT rolled back: entries written by the newer version
         stay, and the older code reads them. That is why the entry decoder reads the previous entry
         format as well as the current one (docs/entry-format.md); rolling back across more than one
         entry-format change leaves entries the older decoder rejects (envelope:unknown-version).
EOF
}
