/**
 * Per-slice comparison of two versions on one frozen suite (spec §7, the Compare page): for every
 * slice (and `all`), n, the candidate's and the baseline's pass rates with Wilson intervals, the
 * difference with Newcombe's hybrid score interval, the new failures (passed on the baseline,
 * fail on the candidate; paired by case id, exact) and the fixed cases; then the candidate's
 * failing cases with their slices and grader results, and the determinism badge of the
 * candidate's run.
 *
 * `compareResults` is pure; `compareVersions` reads the newest completed run of each version on
 * the suite from the store.
 */
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';
import type { Stage } from '../contract/schemas.js';
import { newcombeInterval, wilsonInterval } from '../domain/stats.js';
import type { EvalRunRecord, EvalStore, StoredGrader, SuiteRecord } from '../store/eval-store.js';
import type { Registry, VersionRecord } from '../store/registry.js';
import type { DeterminismReport } from './evaluator.js';

/** One case's result as the comparison needs it: a stored result fits. */
export interface CompareCase {
  caseId: string;
  slices: readonly string[];
  pass: boolean;
  graders?: readonly StoredGrader[];
  /** Native runs: why the episode ended early. */
  detail?: Record<string, unknown> | null;
}

export interface RateWithInterval {
  passed: number;
  n: number;
  /** passed / n; null when n = 0. */
  rate: number | null;
  /** Two-sided Wilson score interval at the comparison's confidence ([0, 1] when n = 0). */
  interval: [number, number];
}

export interface SliceComparison {
  /** `all` first, then the suite's slices. */
  slice: string;
  /** Cases of the slice in the candidate's run. */
  n: number;
  candidate: RateWithInterval;
  baseline: RateWithInterval | null;
  /** candidate - baseline pass rate with Newcombe's hybrid score interval; null without data on either side. */
  delta: { estimate: number; interval: [number, number] } | null;
  /** Passed on the baseline, fail on the candidate (paired by case id). */
  newFailures: string[];
  /** Failed on the baseline, pass on the candidate. */
  fixed: string[];
}

export interface FailingCase {
  caseId: string;
  slices: string[];
  graders: StoredGrader[];
  /** Why the episode ended early (native runs), or null. */
  failure: string | null;
  /** The same case on the baseline: true/false, or null when the baseline has no result for it. */
  baselinePass: boolean | null;
  /** Passed on the baseline and fails here: a regression. */
  newFailure: boolean;
}

export type DeterminismStatus = 'deterministic' | 'not frozen' | 'not checked';

export interface DeterminismBadge {
  status: DeterminismStatus;
  /** Re-runs compared (null when not checked). */
  reruns: number | null;
  /** Case ids whose results differed on a re-run. */
  differing: string[];
  note: string;
}

export interface Comparison {
  confidence: number;
  slices: SliceComparison[];
  failingCases: FailingCase[];
  determinism: DeterminismBadge;
}

export interface CompareInput {
  candidate: readonly CompareCase[];
  baseline: readonly CompareCase[] | null;
  confidence?: number;
  /** Slice names in display order (`all` always comes first); slices found only in results follow. */
  sliceOrder?: readonly string[];
  /** The candidate's run, for the determinism badge (null: not checked). */
  candidateRun?: Pick<EvalRunRecord, 'kind' | 'determinism'> | null;
}

function rateOf(cases: readonly CompareCase[], confidence: number): RateWithInterval {
  const n = cases.length;
  const passed = cases.filter((c) => c.pass).length;
  const w = wilsonInterval(passed, n, confidence);
  return { passed, n, rate: n > 0 ? passed / n : null, interval: [w.lower, w.upper] };
}

/** The run's determinism report when it is one, else null. */
export function readDeterminism(run: Pick<EvalRunRecord, 'determinism'> | null | undefined): DeterminismReport | null {
  const d = run?.determinism as Partial<DeterminismReport> | null | undefined;
  if (!d || typeof d !== 'object' || typeof d.reruns !== 'number' || !Array.isArray(d.differing)) return null;
  return { reruns: d.reruns, identical: d.identical === true, compared: typeof d.compared === 'number' ? d.compared : 0, differing: d.differing.map(String), ...(typeof d.error === 'string' ? { error: d.error } : {}) };
}

/** The determinism badge of a run (spec §7): deterministic, not frozen (with the case ids), or not checked. */
export function determinismBadge(run: Pick<EvalRunRecord, 'kind' | 'determinism'> | null | undefined): DeterminismBadge {
  if (!run) return { status: 'not checked', reruns: null, differing: [], note: 'no completed evaluation' };
  if (run.kind === 'imported') {
    return { status: 'not checked', reruns: null, differing: [], note: 'imported results: they were graded elsewhere, so Switchyard cannot re-run them' };
  }
  const d = readDeterminism(run);
  if (d === null) return { status: 'not checked', reruns: null, differing: [], note: 'the run was not re-run; evaluate with --reruns 1 to check that the suite is frozen' };
  if (d.error !== undefined) return { status: 'not checked', reruns: d.reruns, differing: [], note: `the determinism re-run did not finish: ${d.error}` };
  if (d.differing.length > 0) {
    return { status: 'not frozen', reruns: d.reruns, differing: d.differing, note: `environment not frozen: ${d.differing.length} case${d.differing.length === 1 ? '' : 's'} differed on re-run` };
  }
  return { status: 'deterministic', reruns: d.reruns, differing: [], note: `${d.reruns} re-run${d.reruns === 1 ? '' : 's'} gave identical per-case results on ${d.compared} cases` };
}

/** Compare two runs of one suite, slice by slice (pure). */
export function compareResults(input: CompareInput): Comparison {
  const confidence = input.confidence ?? 0.95;
  const cand = input.candidate;
  const base = input.baseline;
  const seenIds = new Set<string>();
  for (const c of cand) {
    if (seenIds.has(c.caseId)) throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `Duplicate case id \`${c.caseId}\` in the candidate results.`, `candidate.${c.caseId}`);
    seenIds.add(c.caseId);
  }
  const basePass = new Map<string, boolean>();
  for (const b of base ?? []) {
    if (basePass.has(b.caseId)) throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `Duplicate case id \`${b.caseId}\` in the baseline results.`, `baseline.${b.caseId}`);
    basePass.set(b.caseId, b.pass);
  }

  const order: string[] = ['all'];
  const add = (s: string) => {
    if (!order.includes(s)) order.push(s);
  };
  for (const s of input.sliceOrder ?? []) add(s);
  for (const c of cand) for (const s of c.slices) add(s);
  for (const c of base ?? []) for (const s of c.slices) add(s);

  const inSlice = (slice: string) => (c: CompareCase) => slice === 'all' || c.slices.includes(slice);
  const slices: SliceComparison[] = order.map((slice) => {
    const cs = cand.filter(inSlice(slice));
    const bs = base === null ? null : base.filter(inSlice(slice));
    const candidate = rateOf(cs, confidence);
    const baseline = bs === null ? null : rateOf(bs, confidence);
    let delta: SliceComparison['delta'] = null;
    if (baseline !== null && candidate.n > 0 && baseline.n > 0) {
      const iv = newcombeInterval(candidate.passed, candidate.n, baseline.passed, baseline.n, confidence);
      delta = { estimate: iv.estimate, interval: [iv.lower, iv.upper] };
    }
    const newFailures: string[] = [];
    const fixed: string[] = [];
    if (base !== null) {
      for (const c of cs) {
        const b = basePass.get(c.caseId);
        if (b === true && !c.pass) newFailures.push(c.caseId);
        else if (b === false && c.pass) fixed.push(c.caseId);
      }
    }
    return { slice, n: candidate.n, candidate, baseline, delta, newFailures, fixed };
  });

  const failingCases: FailingCase[] = cand
    .filter((c) => !c.pass)
    .map((c) => {
      const b = base === null ? undefined : basePass.get(c.caseId);
      const failure = c.detail && typeof c.detail['failure'] === 'string' ? c.detail['failure'] : null;
      return { caseId: c.caseId, slices: [...c.slices], graders: (c.graders ?? []).map((g) => ({ ...g })), failure, baselinePass: b ?? null, newFailure: b === true };
    });

  return { confidence, slices, failingCases, determinism: determinismBadge(input.candidateRun ?? null) };
}

export interface RunRef {
  /** `policy@label` */
  version: string;
  modelVersion: string;
  kind: 'direct' | 'iterative' | 'external';
  stage: Stage;
  runId: number;
  runKind: 'native' | 'imported';
  evaluatedAt: string;
}

export interface VersionComparison extends Comparison {
  suite: { name: string; fingerprint: string };
  candidate: RunRef;
  baseline: RunRef;
}

export function runRef(v: VersionRecord, run: EvalRunRecord): RunRef {
  return { version: `${v.policy}@${v.label}`, modelVersion: v.modelVersion, kind: v.kind, stage: v.stage, runId: run.id, runKind: run.kind, evaluatedAt: run.endedAt ?? run.startedAt };
}

/** The suite a rules file or a request names (name, fingerprint or unique prefix), or a clear error. */
export function requireSuite(evalStore: EvalStore, ref: string, hint: string, where?: string): SuiteRecord {
  const s = evalStore.findSuite(ref);
  if (s) return s;
  const known = evalStore.listSuites().map((x) => x.name);
  throw new SwitchyardError(
    ErrorCodes.SWY_ERR_NOT_FOUND,
    `The store has no suite \`${ref}\`${known.length ? ` (it has: ${[...new Set(known)].join(', ')})` : ' (it has none yet)'}. ${hint}`,
    where ?? ref,
  );
}

/** The newest completed run of a version on a suite, or an error saying how to get one. */
export function requireCompletedRun(evalStore: EvalStore, v: VersionRecord, suite: SuiteRecord): EvalRunRecord {
  const run = evalStore.latestCompletedRun(v.id, suite.fingerprint);
  if (run) return run;
  const ref = `${v.policy}@${v.label}`;
  const how =
    v.kind === 'external'
      ? `${ref} is an external version: import its results with \`switchyard import-results FILE\`.`
      : suite.path
        ? `Evaluate it: \`switchyard eval ${ref} --suite ${suite.path}\` (or eval.start in the workbench).`
        : `Evaluate it: \`switchyard eval ${ref} --suite FILE\` with the suite's file.`;
  throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, `${ref} has no completed evaluation on suite ${suite.name} (${suite.fingerprint.slice(0, 12)}). ${how}`, ref);
}

/** Compare the newest completed runs of two registered versions on a stored suite. */
export function compareVersions(opts: { registry: Registry; evalStore: EvalStore; candidate: string; baseline: string; suite: string; confidence?: number }): VersionComparison {
  const suite = requireSuite(opts.evalStore, opts.suite, 'Evaluate a version on the suite first (`switchyard eval VERSION --suite FILE`).', 'suite');
  const cv = opts.registry.resolve(opts.candidate);
  const bv = opts.registry.resolve(opts.baseline);
  const cr = requireCompletedRun(opts.evalStore, cv, suite);
  const br = requireCompletedRun(opts.evalStore, bv, suite);
  const cmp = compareResults({
    candidate: opts.evalStore.results(cr.id),
    baseline: opts.evalStore.results(br.id),
    confidence: opts.confidence ?? 0.95,
    sliceOrder: Object.keys(suite.slices),
    candidateRun: cr,
  });
  return { ...cmp, suite: { name: suite.name, fingerprint: suite.fingerprint }, candidate: runRef(cv, cr), baseline: runRef(bv, br) };
}
