/**
 * `switchyard eval`, `switchyard gate` and `switchyard import-results` (spec §4.4, §4.5, §8).
 *
 * Exit codes: `eval` 0 completed, 1 failed (or an error), 130 cancelled (Ctrl-C; the finished
 * cases are kept, labelled `cancelled`). `gate` 0 GO, 1 NO-GO, 2 INCONCLUSIVE (fixed by the spec),
 * 3 for anything that stops it from reaching a verdict (a malformed rules file, an unknown
 * version or suite, a usage error). `import-results` 0 imported, 1 rejected (nothing written).
 */
import { writeFile } from 'node:fs/promises';
import { CommanderError, Option, type Command } from 'commander';
import { ErrorCodes, SwitchyardError, toErrorShape } from '../../contract/index.js';
import type { RuleEvidence } from '../../domain/verdict.js';
import { compareResults, type SliceComparison } from '../../eval/compare.js';
import type { EvalJob, EvalProgressEvent } from '../../eval/eval-service.js';
import type { GateResult } from '../../eval/gate.js';
import { ImportResultsError, importResults, type ImportSummary } from '../../eval/import-results.js';
import { createProgress, type ProgressLine } from '../../eval/progress.js';
import type { StoredEvaluation } from '../../eval/run-eval.js';
import type { Engine } from '../../engine.js';
import { engineClient, intIn, jsonOption, reportFailure, storeOption, withEngine } from '../common.js';
import { caseRows, type CaseExportFormat } from '../../eval/case-export.js';
import { printTable } from '../table.js';

export const GATE_EXIT = { GO: 0, 'NO-GO': 1, INCONCLUSIVE: 2, ERROR: 3 } as const;
export const EVAL_EXIT_CANCELLED = 130;

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
const iv = (i: [number, number]) => `[${(i[0] * 100).toFixed(1)}, ${(i[1] * 100).toFixed(1)}]`;

function listIds(ids: readonly string[], max = 20): string {
  return ids.length <= max ? ids.join(', ') : `${ids.slice(0, max).join(', ')} and ${ids.length - max} more`;
}

function sliceRows(slices: SliceComparison[]): string[][] {
  return slices.map((s) => [s.slice, String(s.n), String(s.candidate.passed), pct(s.candidate.rate), iv(s.candidate.interval)]);
}

/** Progress lines for every evaluation a command waits on (one line per run), on stderr. */
export function progressDisplay(json: boolean | undefined): { onProgress: (p: EvalProgressEvent) => void; finish: () => void } {
  const lines = new Map<number, ProgressLine>();
  const finished = new Set<number>();
  return {
    onProgress(p) {
      if (json || finished.has(p.runId) || p.runId <= 0) return;
      let line = lines.get(p.runId);
      if (!line) lines.set(p.runId, (line = createProgress({ label: `eval ${p.version} on ${p.suite} (run #${p.runId})` })));
      const extra = p.phase === 'determinism' ? `pass ${p.passed}, determinism re-run` : `pass ${p.passed}`;
      line.update(p.done, p.total, extra, p.fraction);
      if (p.status !== 'running') {
        finished.add(p.runId);
        line.done(p.status === 'completed' ? undefined : `run #${p.runId} ${p.status}${p.error ? `: ${p.error.message}` : ''}`);
      }
    },
    finish() {
      for (const [id, l] of lines) if (!finished.has(id)) l.done();
    },
  };
}

/** Ctrl-C cancels what runs (once); a second Ctrl-C exits at once. */
function onInterrupt(cancel: () => void): { interrupted: () => boolean; dispose: () => void } {
  let count = 0;
  const handler = () => {
    count++;
    if (count === 1) {
      process.stderr.write('\nCancelling; the finished cases are kept (Ctrl-C again to quit at once)…\n');
      cancel();
    } else {
      process.exit(EVAL_EXIT_CANCELLED);
    }
  };
  process.on('SIGINT', handler);
  return { interrupted: () => count > 0, dispose: () => process.off('SIGINT', handler) };
}

interface EvalFlags {
  suite: string;
  reruns: number;
  store: string;
  json?: boolean;
}

async function runEvalCommand(engine: Engine, version: string, flags: EvalFlags): Promise<number> {
  const display = progressDisplay(flags.json);
  let job: EvalJob | null = null;
  const sig = onInterrupt(() => {
    if (job) engine.evals.cancel(job.runId);
  });
  let out: StoredEvaluation;
  try {
    job = await engine.evals.start({ version, suite: flags.suite, reruns: flags.reruns, onProgress: display.onProgress });
    if (sig.interrupted()) engine.evals.cancel(job.runId);
    out = await job.done;
  } finally {
    display.finish();
    sig.dispose();
  }
  const { run, determinism, runId } = out;
  const suiteRec = engine.evalStore.getSuite(run.suite.fingerprint);
  const cmp = compareResults({ candidate: run.results, baseline: null, sliceOrder: suiteRec ? Object.keys(suiteRec.slices) : [], candidateRun: out.record });
  const failing = run.results.filter((r) => !r.pass).map((r) => r.caseId);
  const code = run.status === 'completed' ? (sig.interrupted() ? EVAL_EXIT_CANCELLED : 0) : run.status === 'cancelled' ? EVAL_EXIT_CANCELLED : 1;
  if (flags.json) {
    process.stdout.write(
      JSON.stringify({
        ok: run.status === 'completed',
        runId,
        version: job.version,
        modelVersion: run.modelVersion,
        suite: { name: run.suite.name, fingerprint: run.suite.fingerprint, path: suiteRec?.path ?? null },
        status: run.status,
        error: run.error,
        casesTotal: run.casesTotal,
        casesDone: run.casesDone,
        passed: run.passed,
        partial: run.status !== 'completed',
        slices: cmp.slices.map((s) => ({ slice: s.slice, n: s.n, passed: s.candidate.passed, rate: s.candidate.rate, interval: s.candidate.interval })),
        failingCases: failing,
        determinism: cmp.determinism,
        determinismReport: determinism,
        wallMs: Math.round(run.wallMs),
        casesPerSecond: Math.round(run.casesPerSecond * 10) / 10,
        // Every case as stored (what `switchyard results RUN_ID` exports and determinism compares).
        cases: caseRows(engine.evalStore.results(runId)),
      }) + '\n',
    );
    return code;
  }
  const w = process.stdout;
  w.write(`${job.version} (${run.modelVersion ?? 'not started'}) on suite ${run.suite.name} (${run.suite.fingerprint.slice(0, 12)}): run #${runId} ${run.status}\n`);
  if (run.results.length > 0) {
    if (run.status !== 'completed') w.write(`Partial results (${run.status}): ${run.casesDone} of ${run.casesTotal} cases finished.\n`);
    printTable(['slice', 'n', 'passed', 'pass rate', '95% Wilson interval (%)'], sliceRows(cmp.slices));
  }
  if (run.status === 'completed') {
    w.write(`${run.passed} of ${run.casesTotal} cases passed in ${(run.wallMs / 1000).toFixed(2)} s (${run.casesPerSecond.toFixed(0)} cases/s, batch ${run.batchSize}).\n`);
    if (failing.length > 0) w.write(`Failing cases: ${listIds(failing)}\n`);
    const d = cmp.determinism;
    w.write(d.status === 'not frozen' ? `Determinism: NOT FROZEN: ${d.differing.length} cases differed on re-run (${listIds(d.differing)}).\n` : `Determinism: ${d.status} (${d.note}).\n`);
  } else if (run.status === 'cancelled') {
    w.write(`Cancelled. Run #${runId} keeps the ${run.casesDone} finished cases, labelled cancelled; gates and comparisons use completed runs only.\n`);
  } else {
    w.write(`Failed: ${run.error?.message ?? 'unknown error'}\nRun #${runId} keeps ${run.casesDone} partial results, labelled partial; none counts as a pass.\n`);
  }
  return code;
}

function fmtNumber(id: string, x: number): string {
  if (id.endsWith('p99_latency_ms')) return `${x.toFixed(4)} ms`;
  if (id.endsWith('latency_vs_baseline')) return `${x.toFixed(3)}x`;
  if (id.endsWith('no_regression') || id === 'determinism' || id === 'shadow.min_requests') return String(x);
  return x.toFixed(3);
}

function fmtThreshold(r: RuleEvidence): string {
  const t = r.threshold;
  if (Array.isArray(t)) return `in [${t[0].toFixed(3)}, ${t[1].toFixed(3)}]`;
  const kind = r.id.split('.').pop();
  switch (kind) {
    case 'min_pass_rate':
    case 'non_inferior':
    case 'min_improvement':
      return `lower >= ${t.toFixed(3)}`;
    case 'max_fail_rate':
      return `<= ${t.toFixed(3)}`;
    case 'no_regression':
      return '0 new failures';
    case 'p99_latency_ms':
      return `<= ${t} ms`;
    case 'latency_vs_baseline':
      return `<= ${t}x`;
    case 'determinism':
      return '0 differing';
    case 'min_requests':
      return `>= ${t}`;
    default:
      return `<= ${t}`;
  }
}

export function gateTableRows(rules: readonly RuleEvidence[]): string[][] {
  return rules.map((r) => [
    r.id,
    r.observed === null ? '—' : fmtNumber(r.id, r.observed),
    r.interval === null ? '—' : `[${r.interval[0].toFixed(3)}, ${r.interval[1].toFixed(3)}]`,
    fmtThreshold(r),
    r.pass === true ? 'PASS' : r.pass === false ? 'FAIL' : '—',
  ]);
}

export function printGate(g: GateResult, w: NodeJS.WritableStream = process.stdout): void {
  const side = (s: GateResult['candidate']) => `${s.version} (${s.modelVersion}, ${s.runKind} run #${s.runId}${s.evaluated ? ', evaluated now' : ''})`;
  w.write(`Gate ${g.transition} with ${g.rulesFile}\n`);
  w.write(`  candidate ${side(g.candidate)}\n`);
  w.write(`  baseline  ${g.baseline ? `${side(g.baseline)}${g.baselineSource === 'production' ? ' [production now]' : ''}` : 'none'}\n`);
  w.write(`  suite     ${g.suite.name} (${g.suite.fingerprint.slice(0, 12)})\n\n`);
  printTable(['rule', 'observed', 'interval', 'threshold', 'result'], gateTableRows(g.rules), w);
  w.write(`\n${g.summary}\n`);
  if (g.failingCases.length > 0) w.write(`Failing cases: ${listIds(g.failingCases)}\n`);
  w.write(`Verdict #${g.verdictId} recorded.\n`);
}

function printImport(s: ImportSummary): void {
  printTable(
    ['run', 'suite', 'version', 'cases', 'passed', 'new external version'],
    s.runs.map((r) => [`#${r.runId}`, r.suite, r.version, String(r.cases), String(r.passed), r.externalCreated ? 'yes' : 'no']),
  );
  process.stdout.write(
    `Imported ${s.lines} results from ${s.file}: ${s.runs.length} run${s.runs.length === 1 ? '' : 's'}. ` +
      (s.externalVersions.length ? `External versions created: ${s.externalVersions.join(', ')}.\n` : 'No external version created.\n'),
  );
}

export function registerEvalCommands(program: Command): void {
  const evalCmd = program
    .command('eval')
    .argument('<VERSION>', 'a registered version: policy@label or policy@production')
    .description('evaluate a version on a frozen suite (in a worker), store every case, check determinism')
    .requiredOption('--suite <FILE>', 'the suite file (.json or .jsonl), or the name of a suite in the store')
    .option('--reruns <n>', 'determinism re-runs after a completed run (0 skips the check)', intIn('--reruns', 0, 10), 1)
    .addHelpText('after', '\nExit codes: 0 completed, 1 failed, 130 cancelled (Ctrl-C keeps the finished cases, labelled cancelled).');
  jsonOption(storeOption(evalCmd)).action(async (version: string, flags: EvalFlags) => {
    let code: number;
    try {
      code = await withEngine({ storePath: flags.store }, (e) => runEvalCommand(e, version, flags));
    } catch (e) {
      reportFailure(e, flags.json);
    }
    process.exitCode = code;
  });

  const results = program
    .command('results')
    .argument('<RUN_ID>', 'a stored evaluation run (its number, as `eval` printed it)')
    .description('export every case of a stored run: id, slices, pass, grader results, score, latency')
    .addOption(new Option('--format <format>', 'json (one array), jsonl (one case a line) or csv (graders as columns)').choices(['json', 'jsonl', 'csv']).default('jsonl'))
    .option('--output <FILE>', 'write to FILE instead of standard output');
  storeOption(results).action(async (runIdText: string, flags: { format: CaseExportFormat; output?: string; store: string }) => {
    try {
      const runId = Number(runIdText);
      if (!Number.isInteger(runId) || runId < 1) throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `RUN_ID must be a whole number from 1, got "${runIdText}".`, 'RUN_ID');
      const out = await withEngine({ storePath: flags.store }, (e) => engineClient(e).call('eval.results', { runId, format: flags.format }));
      if (flags.output) {
        await writeFile(flags.output, out.text);
        process.stderr.write(`Wrote ${out.cases} cases of run #${runId} (${out.status}) to ${flags.output}\n`);
      } else process.stdout.write(out.text);
    } catch (e) {
      reportFailure(e, false);
    }
  });

  const gate = program
    .command('gate')
    .description('decide GO / NO-GO / INCONCLUSIVE for a candidate under a rules file, evaluating what is missing')
    .requiredOption('--rules <FILE>', 'the promotion rules (YAML, spec §4.5)')
    .requiredOption('--candidate <VERSION>', 'the version to gate: policy@label')
    .option('--baseline <VERSION>', "compare with this version instead of the rules' baseline")
    .option('--reeval', 'evaluate both versions afresh even when stored runs exist')
    .addHelpText('after', '\nExit codes: 0 GO, 1 NO-GO, 2 INCONCLUSIVE, 3 error (a malformed rules file, an unknown version or suite, a usage error).')
    .exitOverride((err: CommanderError) => {
      process.exit(err.exitCode === 0 ? 0 : GATE_EXIT.ERROR);
    });
  jsonOption(storeOption(gate)).action(async (flags: { rules: string; candidate: string; baseline?: string; reeval?: boolean; store: string; json?: boolean }) => {
    let result: GateResult;
    try {
      result = await withEngine({ storePath: flags.store }, async (engine) => {
        const display = progressDisplay(flags.json);
        const off = engine.events.on('eval.progress', display.onProgress);
        const sig = onInterrupt(() => {
          for (const j of engine.evals.active()) engine.evals.cancel(j.runId);
        });
        try {
          return await engine.gate({ rulesPath: flags.rules, candidate: flags.candidate, ...(flags.baseline ? { baseline: flags.baseline } : {}), reeval: flags.reeval ?? false });
        } finally {
          off();
          display.finish();
          sig.dispose();
        }
      });
    } catch (e) {
      reportFailure(e, flags.json, GATE_EXIT.ERROR);
    }
    if (flags.json) process.stdout.write(JSON.stringify({ ok: true, ...result }) + '\n');
    else printGate(result);
    process.exitCode = GATE_EXIT[result.verdict];
  });

  const imp = program
    .command('import-results')
    .argument('<FILE>', 'JSONL of per-case results graded elsewhere (spec §4.4)')
    .description('store results of versions evaluated elsewhere; unknown versions become external versions');
  jsonOption(storeOption(imp)).action(async (file: string, flags: { store: string; json?: boolean }) => {
    let summary: ImportSummary;
    try {
      summary = await withEngine({ storePath: flags.store }, (e) => importResults(file, { db: e.db, clock: e.clock, actor: process.env.USER ?? 'cli' }));
    } catch (e) {
      if (e instanceof ImportResultsError) {
        if (flags.json) process.stdout.write(JSON.stringify({ ok: false, error: toErrorShape(e), issues: e.issues }) + '\n');
        else {
          process.stderr.write(`switchyard: cannot import ${file}; nothing was written. ${e.issues.length} problem${e.issues.length === 1 ? '' : 's'}:\n`);
          for (const i of e.issues) process.stderr.write(`  ${i.where}: ${i.message}\n`);
        }
        process.exit(1);
      }
      reportFailure(e, flags.json);
    }
    if (flags.json) process.stdout.write(JSON.stringify({ ok: true, ...summary }) + '\n');
    else printImport(summary);
  });
}
