#!/usr/bin/env bash
# Runs the console on the demo workspace: the Electron window where Electron can run, otherwise
# the same workbench served on http://127.0.0.1:<port>/ with the reason printed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
bash scripts/build-if-stale.sh
store=${SWITCHYARD_STORE:-$PWD/.switchyard/store.db}
electron_bin=$(node -e "try{const p=require('path');const f=p.join(p.dirname(require.resolve('electron/package.json')),'path.txt');const fs=require('fs');if(fs.existsSync(f)){const b=p.join(p.dirname(f),'dist',fs.readFileSync(f,'utf8').trim());if(fs.existsSync(b))console.log(b)}}catch{}" 2>/dev/null || true)
reason=""
if [[ -z "$electron_bin" ]]; then
  reason="the Electron binary is not installed (node_modules/electron/dist is missing; it cannot be downloaded on this machine)"
elif [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]]; then
  reason="there is no display (DISPLAY is unset)"
fi
if [[ -z "$reason" ]]; then
  exec "$electron_bin" dist/electron/main/main.js --store "$store" "$@"
fi
echo "Opening the workbench in a browser instead of the desktop window: $reason."
# Simulated cart-pole robots drive /act so Live moves and there is a recording to replay.
exec node bin/switchyard.js console --demo --demo-traffic --store "$store" --port "${PORT:-8080}" "$@"
