#!/usr/bin/env bash
# Every test Switchyard has, on a fresh Debian machine with Node 20: installs what is missing,
# builds, lints, type-checks, runs vitest (unit, integration, Electron bridge) and Playwright
# (the workbench in Debian's Chromium against a real server), then builds, type-checks and runs
# vitest again on Node 24 (scripts/node24.sh: the Node Electron 45 embeds), and prints one
# summary line `N passed, N failed, N skipped` summed over all runs. Each stage prints its time.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-results
# A report left by an earlier run must not stand in for one this run failed to write.
rm -f test-results/vitest-results.json test-results/vitest-node24-results.json test-results/e2e-results.json
ci_start=$SECONDS
# Wall time and CPU time per stage: on a shared machine the wall time says little on its own.
timed() {
  local TIMEFORMAT="[time] $1: %0R s wall, %0U s user + %0S s sys CPU"
  shift
  time "$@"
}

bash scripts/ensure-deps.sh --system || { echo "setup failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

steps_failed=0
step() {
  local name=$1; shift
  echo "== $name"
  if ! timed "$name" "$@"; then echo "!! $name failed"; steps_failed=$((steps_failed + 1)); fi
}

# Node 24 first, so the packaged-layout test (which starts the app under Node 24) runs in both
# vitest runs. Fetched and its better-sqlite3 compiled once, then cached (scripts/node24.sh).
echo "== node 24 setup"
node24_ready=0
timed "node 24 setup" bash scripts/node24.sh prepare || { node24_ready=1; echo "!! node 24 setup failed"; steps_failed=$((steps_failed + 1)); }

step build npm run --silent build
step lint npx eslint . --max-warnings=0
step typecheck npm run --silent typecheck

echo "== vitest"
timed vitest npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest-results.json
vitest_rc=$?

echo "== playwright"
if [[ -n "${DISPLAY:-}" ]] || ! command -v xvfb-run >/dev/null 2>&1; then
  timed playwright npx playwright test -c e2e/playwright.config.ts
else
  timed playwright xvfb-run -a npx playwright test -c e2e/playwright.config.ts
fi
e2e_rc=$?

# Playwright is not repeated on Node 24: the browser tests drive the same server over HTTP.
vitest24_rc=1
if ((node24_ready == 0)); then
  step "build (node 24)" bash scripts/node24.sh run npm run --silent build
  step "typecheck (node 24)" bash scripts/node24.sh run npm run --silent typecheck
  echo "== vitest (node 24)"
  timed "vitest (node 24)" bash scripts/node24.sh run npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest-node24-results.json
  vitest24_rc=$?
else
  echo "!! no Node 24: its build, typecheck and vitest run did not happen; the missing report counts as failed"
fi
echo "[time] total: $((SECONDS - ci_start)) s"

node scripts/summarize-results.mjs test-results/vitest-results.json test-results/e2e-results.json "$steps_failed" test-results/vitest-node24-results.json
summary_rc=$?
if ((vitest_rc != 0 || vitest24_rc != 0 || e2e_rc != 0 || steps_failed != 0 || summary_rc != 0)); then exit 1; fi
