#!/usr/bin/env bash
# Every test Switchyard has, on a fresh Debian machine with Node 20: installs what is missing,
# builds, lints, type-checks, runs vitest (unit, integration, Electron bridge) and Playwright
# (the workbench in Debian's Chromium against a real server), then prints one summary line
# `N passed, N failed, N skipped` summed over both runners.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-results

bash scripts/ensure-deps.sh --system || { echo "setup failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

steps_failed=0
step() {
  local name=$1; shift
  echo "== $name"
  if ! "$@"; then echo "!! $name failed"; steps_failed=$((steps_failed + 1)); fi
}

step build npm run --silent build
step lint npx eslint . --max-warnings=0
step typecheck npm run --silent typecheck

echo "== vitest"
npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest-results.json
vitest_rc=$?

echo "== playwright"
if [[ -n "${DISPLAY:-}" ]] || ! command -v xvfb-run >/dev/null 2>&1; then
  npx playwright test -c e2e/playwright.config.ts
else
  xvfb-run -a npx playwright test -c e2e/playwright.config.ts
fi
e2e_rc=$?

node scripts/summarize-results.mjs test-results/vitest-results.json test-results/e2e-results.json "$steps_failed"
summary_rc=$?
if ((vitest_rc != 0 || e2e_rc != 0 || steps_failed != 0 || summary_rc != 0)); then exit 1; fi
