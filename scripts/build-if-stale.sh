#!/usr/bin/env bash
# Builds only the parts of dist/ whose sources changed since their last build (npm start runs it;
# a start with nothing changed builds nothing). Each part has a stamp in dist/ written after a
# successful build; any source newer than the stamp, or a missing output, rebuilds that part.
set -euo pipefail
cd "$(dirname "$0")/.."

# newer STAMP PATH...: true when STAMP is missing or any file under PATH... is newer than it.
newer() {
  local stamp=$1
  shift
  [[ -f $stamp ]] || return 0
  [[ -n $(find "$@" -type f -newer "$stamp" -not -path '*/node_modules/*' -print -quit 2>/dev/null) ]]
}

# build NAME STAMP OUTPUT COMMAND...: the stamp's time is taken before building, so a file saved
# during the build is seen as newer next time.
build() {
  local name=$1 stamp=$2 output=$3
  shift 3
  echo "[start] building $name (no build yet, or its sources changed since the last one)"
  mkdir -p dist
  local pending=$stamp.pending
  touch "$pending"
  "$@"
  mv "$pending" "$stamp"
  [[ -e $output ]] || { echo "[start] building $name did not produce $output" >&2; exit 1; }
}

core_stamp=dist/.core-built
if [[ ! -f dist/core/src/cli/run.js ]] || newer "$core_stamp" core/src electron tsconfig.base.json tsconfig.build.json package-lock.json; then
  build core "$core_stamp" dist/core/src/cli/run.js npm run --silent build:core
fi

renderer_stamp=dist/.renderer-built
# The renderer imports the contract from core/src/contract.
if [[ ! -f dist/renderer/index.html ]] || newer "$renderer_stamp" renderer core/src/contract tsconfig.base.json package-lock.json; then
  build renderer "$renderer_stamp" dist/renderer/index.html npm run --silent build:renderer -- --logLevel warn
fi
