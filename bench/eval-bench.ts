/**
 * Evaluation benchmark (spec §10, "the demo suite in seconds, batched across cases"):
 * `npx tsx bench/eval-bench.ts [versions...]`.
 *
 * For each demo policy version, runs the demo suite (`cartpole-frozen-v1`, 300 cases of 500
 * steps) through a real PolicyRunner worker twice: batched across cases (every live episode in
 * one `runBatch` call per time step) and one case at a time (batch size 1). Prints cases per
 * second, wall time, policy calls, the speed-up, and whether both modes gave identical per-case
 * results (they must: a case's result may not depend on what it was batched with).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { printTable } from '../core/src/cli/table.js';
import { DEMO_VERSIONS, writeDemoExports } from '../core/src/demo/cartpole-policies.js';
import { demoSuite } from '../core/src/eval/demo-suite.js';
import { compareRuns, evaluate, sliceSummary, type EvalRunResult } from '../core/src/eval/evaluator.js';
import { readExport } from '../core/src/runtime/export.js';
import { PolicyRunner } from '../core/src/runtime/policy-runner.js';

const wanted = process.argv.slice(2);
const versions = wanted.length ? DEMO_VERSIONS.filter((v) => wanted.includes(v)) : DEMO_VERSIONS;
const dir = mkdtempSync(join(tmpdir(), 'swy-eval-bench-'));

async function main(): Promise<void> {
  const suite = demoSuite();
  const dirs = await writeDemoExports(dir);
  process.stdout.write(`suite ${suite.name} (${suite.fingerprint.slice(0, 12)}): ${suite.cases.length} cases, ${Object.entries(suite.sliceCounts).map(([k, n]) => `${k} ${n}`).join(', ')}\n`);
  process.stdout.write(`node ${process.version}, ${process.platform}/${process.arch}\n\n`);
  const rows: string[][] = [];
  const rates: string[][] = [];
  for (const d of dirs) {
    const exp = await readExport(d);
    if (!versions.includes(exp.manifest.version as (typeof DEMO_VERSIONS)[number])) continue;
    const runner = await PolicyRunner.start({ export: exp, slot: 'a', device: 'cpu' });
    try {
      await evaluate({ runner, suite, batchSize: suite.cases.length }); // warm-up
      const batched = await evaluate({ runner, suite });
      const single = await evaluate({ runner, suite, batchSize: 1 });
      const same = compareRuns(batched.results, single.results);
      const row = (mode: string, r: EvalRunResult, speedup: string): string[] => [
        exp.manifest.version,
        `${exp.manifest.kind}/${exp.manifest.action.chunk}`,
        mode,
        String(r.casesDone),
        (r.wallMs / 1000).toFixed(2),
        r.casesPerSecond.toFixed(0),
        String(r.policyCalls),
        speedup,
        same.identical ? 'yes' : `NO (${same.differing.length})`,
      ];
      rows.push(row('batched', batched, `${(batched.casesPerSecond / single.casesPerSecond).toFixed(1)}x`));
      rows.push(row('one case at a time', single, '1.0x'));
      const s = sliceSummary(batched.results);
      rates.push([exp.manifest.version, ...['all', ...suite.sliceNames].map((k) => (s[k] ? `${s[k].passed}/${s[k].n} (${(s[k].rate * 100).toFixed(0)}%)` : '-'))]);
    } finally {
      await runner.close();
    }
  }
  printTable(['version', 'kind/chunk', 'mode', 'cases', 'wall s', 'cases/s', 'policy calls', 'speed-up', 'identical'], rows);
  process.stdout.write('\npass rate per slice (batched run)\n');
  printTable(['version', 'all', ...suite.sliceNames], rates);
}

main()
  .catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  })
  .finally(() => rmSync(dir, { recursive: true, force: true }));
