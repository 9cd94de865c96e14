#!/usr/bin/env bash
# Fresh-clone check: does "Node 24 comes with the project" still hold with npm 12?
#
# npm 12 runs a dependency's install scripts only when package.json's `allowScripts` allows it. Without the
# `node` entry, `npm ci` succeeds but skips the `node` package's preinstall, so node_modules/.bin/node is
# missing and every npm script silently runs on the machine's own Node. This script clones the committed
# HEAD into a temp dir, runs `npm ci` there with npm 12 (Node 24 from this checkout first on PATH), checks
# that node_modules/.bin/node exists and reports v24, then runs `npm test` there with npm 12.
#
#   npm run check:npm12                  # npm@12 (the default), then npm test in the clone
#   scripts/check-npm12.sh --npm system  # the machine's own npm on the machine's own Node, as a first `npm ci` runs
#   scripts/check-npm12.sh --no-test     # install and the Node check only (about 2 minutes)
#
# Without the npm registry it prints a loud SKIPPED banner and exits 0, or 1 when CI is set (a CI run that
# cannot check must not look green). Uncommitted changes are not checked: it is a clone of HEAD.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NPM_SPEC="npm@12"
RUN_TESTS=1
WORK=""

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }

parse_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --npm) NPM_SPEC="${2:?--npm needs a spec such as npm@12 or system}"; shift 2 ;;
      --no-test) RUN_TESTS=0; shift ;;
      -h | --help) usage; exit 0 ;;
      *) echo "check-npm12: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
  done
}

say() { printf '[check-npm12 %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
fail() { say "FAIL: $*" >&2; exit 1; }

# Runs "$@" and prints how long it took, so CI logs show where the minutes go.
timed() {
  local label="$1" start=$SECONDS
  shift
  "$@"
  say "$label took $((SECONDS - start)) s"
}

# Run from `npm run`, the environment carries the outer npm's own state (npm_config_local_prefix pointing at
# this checkout, its version, user agent, an empty npm_config_allow_scripts, the package's fields...), which
# npm 12 would read as settings. Drop those; keep the user's npm_config_* (registry, cache, proxy, ...).
forget_outer_npm() {
  local name
  for name in $(compgen -e); do
    case "$name" in
      npm_config_local_prefix | npm_config_prefix | npm_config_global_prefix | npm_config_allow_scripts | \
        npm_config_npm_version | npm_config_node_gyp | npm_config_user_agent | npm_config_call) unset "$name" ;;
      npm_config_*) ;;
      npm_*) unset "$name" ;;
    esac
  done
}

cleanup() { if [ -n "$WORK" ]; then rm -rf "$WORK"; fi; }

# Node 24 of this checkout, alone in a bin dir, first on PATH: npm 12 itself and everything it starts run on it.
use_project_node() {
  local node="$ROOT/node_modules/.bin/node"
  [ -x "$node" ] || fail "$node is missing: run 'npm ci' in $ROOT first (this check needs the project's Node 24)"
  mkdir -p "$WORK/bin"
  ln -s "$(readlink -f "$node")" "$WORK/bin/node"
  export PATH="$WORK/bin:$PATH"
  say "Node $(node -v) from $node"
}

# True when the registry answers within 20 s; otherwise a banner, and the exit code CI or a laptop needs.
registry_or_skip() {
  if timeout 20 npm ping >/dev/null 2>&1; then return 0; fi
  {
    echo '################################################################################'
    echo '# SKIPPED: the npm registry is unreachable, so the npm 12 fresh-clone check did  #'
    echo '# NOT run. Nothing about npm 12 was verified.                                    #'
    echo '################################################################################'
  } >&2
  if [ -n "${CI:-}" ]; then exit 1; fi
  exit 0
}

# npm 12 in a private prefix (not the global one), first on PATH after Node.
install_npm() {
  if [ "$NPM_SPEC" = system ]; then
    say "npm $(npm -v) from $(command -v npm) (the machine's own)"
    return
  fi
  npm install --silent --no-audit --no-fund --prefix "$WORK/npm" "$NPM_SPEC" >/dev/null
  export PATH="$WORK/bin:$WORK/npm/node_modules/.bin:$PATH"
  say "npm $(npm -v) from $(command -v npm)"
}

clone_head() {
  local head
  head="$(git -C "$ROOT" rev-parse HEAD)"
  if [ -n "$(git -C "$ROOT" status --porcelain)" ]; then say "note: uncommitted changes in $ROOT are not part of this check"; fi
  git clone --quiet --no-checkout "$ROOT" "$WORK/clone"
  git -C "$WORK/clone" checkout --quiet --detach "$head"
  say "cloned $head into $WORK/clone"
}

# The point of the check: npm ci ran the `node` package's preinstall, so the project's Node is there and is 24.
check_project_node() {
  local node="$WORK/clone/node_modules/.bin/node" version
  [ -x "$node" ] || fail "npm $(npm -v) ci did not create node_modules/.bin/node (the node package's install script did not run: check allowScripts)"
  version="$("$node" -v)"
  case "$version" in
    v24.*) say "OK: node_modules/.bin/node exists and reports $version" ;;
    *) fail "node_modules/.bin/node reports $version, not v24" ;;
  esac
}

main() {
  parse_args "$@"
  forget_outer_npm
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/check-npm12.XXXXXX")"
  trap cleanup EXIT
  if [ "$NPM_SPEC" != system ]; then use_project_node; fi
  registry_or_skip
  if [ "$NPM_SPEC" = system ]; then install_npm; else timed "installing $NPM_SPEC" install_npm; fi
  clone_head
  cd "$WORK/clone"
  timed "npm ci" npm ci --no-audit --no-fund
  check_project_node
  if [ "$RUN_TESTS" = 1 ]; then timed "npm test" npm test; fi
  say "PASS: npm $(npm -v) on Node $(node -v) installed the project's Node $(node_modules/.bin/node -v)"
}

main "$@"
