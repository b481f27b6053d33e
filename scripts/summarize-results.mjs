// Sums vitest's and Playwright's JSON reports into the one closing line CI reads.
// A report that is missing counts as one failure: a runner that never reported did not pass.
import { existsSync, readFileSync } from 'node:fs';

// Further vitest reports (the same suite on another Node) follow the three fixed arguments.
const [vitestPath, e2ePath, stepsFailedArg, ...moreVitestPaths] = process.argv.slice(2);
let passed = 0;
let failed = Number(stepsFailedArg ?? 0);
let skipped = 0;

function read(path, name) {
  if (!path || !existsSync(path)) {
    console.log(`[summary] ${name}: no report at ${path}; counted as 1 failed`);
    failed += 1;
    return null;
  }
  return JSON.parse(readFileSync(path, 'utf8'));
}

function addVitest(path, name) {
  const v = read(path, name);
  if (!v) return;
  passed += v.numPassedTests ?? 0;
  failed += v.numFailedTests ?? 0;
  skipped += (v.numPendingTests ?? 0) + (v.numTodoTests ?? 0);
  if ((v.numFailedTestSuites ?? 0) > 0 && (v.numFailedTests ?? 0) === 0) failed += v.numFailedTestSuites;
  console.log(`[summary] ${name}: ${v.numPassedTests} passed, ${v.numFailedTests} failed, ${v.numPendingTests} skipped`);
}
addVitest(vitestPath, 'vitest');
// test-results/vitest-node24-results.json is reported as "vitest (node24)".
for (const path of moreVitestPaths) addVitest(path, `vitest (${/vitest-(.+)-results\.json$/.exec(path)?.[1] ?? path})`);

const p = read(e2ePath, 'playwright');
if (p) {
  const s = p.stats ?? {};
  // A spec that failed once and passed on its one CI retry is "flaky": it counts as passed (the
  // product did what the spec asks) but is named here, so a flake is seen and fixed, not hidden.
  const flaky = [];
  const walk = (suite) => {
    for (const spec of suite.specs ?? []) for (const t of spec.tests ?? []) if (t.status === 'flaky') flaky.push(`${spec.file}:${spec.line} ${spec.title}`);
    for (const child of suite.suites ?? []) walk(child);
  };
  for (const suite of p.suites ?? []) walk(suite);
  const pf = s.unexpected ?? 0;
  const pp = (s.expected ?? 0) + (s.flaky ?? 0);
  passed += pp;
  failed += pf;
  skipped += s.skipped ?? 0;
  if ((p.errors ?? []).length && !pp && !pf) failed += p.errors.length;
  console.log(`[summary] playwright: ${pp} passed, ${pf} failed, ${s.skipped ?? 0} skipped${flaky.length ? ` (${flaky.length} passed only on retry)` : ''}`);
  for (const f of flaky) console.log(`[summary] playwright flaky (failed once, passed on retry): ${f}`);
}
if (Number(stepsFailedArg) > 0) console.log(`[summary] ${stepsFailedArg} build/lint/typecheck step(s) failed, each counted as 1 failed`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
