#!/usr/bin/env bash
# Runs every benchmark script in bench/*.ts (helpers in bench/lib/ are not benchmarks) and prints
# their tables, then a summary line per script.
#
#   bash bench/run-all.sh                 # every bench with its defaults
#   bash bench/run-all.sh act routing     # only the scripts whose name contains one of these words
#   BENCH_QUICK=1 bash bench/run-all.sh   # shorter act-bench (2 s per run, 1 round)
#   BENCH_OUT=/tmp/bench bash bench/run-all.sh   # also keep each script's output there
#
# Builds dist/ first when it is missing or older than core/src (act-bench starts the built CLI).
# Each script is bounded by BENCH_TIMEOUT seconds (default 900).
set -uo pipefail
cd "$(dirname "$0")/.."

timeout_s=${BENCH_TIMEOUT:-900}
filters=("$@")

stamp=dist/core/src/cli/main.js
if [[ ! -f $stamp ]]; then
  echo "== dist/ is missing: npm run build:core"
  npm run --silent build:core || echo "!! build:core reported errors (continuing with what it emitted)"
elif [[ -n "$(find core/src -name '*.ts' ! -name '*.test.ts' -newer "$stamp" -print -quit 2>/dev/null)" ]]; then
  echo "== core/src is newer than dist/: npm run build:core"
  npm run --silent build:core || echo "!! build:core reported errors (continuing with what it emitted)"
fi
if [[ ! -f $stamp ]]; then
  echo "!! no build at $stamp; act-bench will try to build it itself"
fi

[[ -n ${BENCH_OUT:-} ]] && mkdir -p "$BENCH_OUT"

summary=()
failed=0
shopt -s nullglob
for f in bench/*.ts; do
  name=$(basename "$f" .ts)
  if ((${#filters[@]} > 0)); then
    keep=0
    for w in "${filters[@]}"; do [[ $name == *"$w"* ]] && keep=1; done
    ((keep)) || continue
  fi
  args=()
  if [[ $name == act-bench && -n ${BENCH_QUICK:-} ]]; then args=(--seconds 2 --warmup 1 --rounds 1); fi
  if [[ $name == act-bench && -n ${BENCH_OUT:-} ]]; then args+=(--json "$BENCH_OUT/act-bench.json"); fi
  if [[ $name == act-side-by-side && -n ${BENCH_QUICK:-} ]]; then args=(--rounds 1 --seconds 2 --paced-seconds 4); fi
  if [[ $name == act-side-by-side && -n ${BENCH_OUT:-} ]]; then args+=(--json "$BENCH_OUT/act-side-by-side.json"); fi
  echo
  echo "================================================================ $name"
  start=$(date +%s)
  if [[ -n ${BENCH_OUT:-} ]]; then
    timeout --kill-after=30 "$timeout_s" npx --no-install tsx "$f" "${args[@]}" 2>&1 | tee "$BENCH_OUT/$name.txt"
    rc=${PIPESTATUS[0]}
  else
    timeout --kill-after=30 "$timeout_s" npx --no-install tsx "$f" "${args[@]}"
    rc=$?
  fi
  took=$(($(date +%s) - start))
  ((rc == 124)) && echo "!! $name ran past ${timeout_s}s and was stopped"
  ((rc != 0)) && failed=$((failed + 1))
  summary+=("$(printf '%-16s exit %-3s %5ss' "$name" "$rc" "$took")")
done

echo
echo "================================================================ summary"
if ((${#summary[@]} == 0)); then
  echo "no benchmark matched"
  exit 1
fi
printf '%s\n' "${summary[@]}"
((failed == 0))
