#!/usr/bin/env bash
# Installs what Switchyard needs on a fresh Debian machine with Node 20: Debian's Chromium and
# Xvfb for the browser tests (only with --system), then the npm packages when the lock changed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--system" ]]; then
  missing=()
  [[ -x /usr/bin/chromium ]] || missing+=(chromium)
  command -v xvfb-run >/dev/null 2>&1 || missing+=(xvfb)
  command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
  # The reference-client compatibility test drives the server from Python with httpx.
  /usr/bin/python3 -c 'import httpx' >/dev/null 2>&1 || missing+=(python3-httpx)
  if ((${#missing[@]})); then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    echo "[setup] installing ${missing[*]} with apt-get"
    $sudo apt-get update -qq
    # prometheus is only for promtool's metrics check; its absence is reported, not fatal.
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium xvfb >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1 || echo "[setup] prometheus (promtool) could not be installed; its check will report itself skipped"
    # Without it the reference-client suite reports itself skipped, with the reason.
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-httpx >/dev/null 2>&1 || echo "[setup] python3-httpx could not be installed; the reference-client compatibility test will report itself skipped"
  fi
fi

stamp=node_modules/.switchyard-lock
if [[ ! -f $stamp ]] || ! cmp -s package-lock.json "$stamp"; then
  echo "[setup] npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
