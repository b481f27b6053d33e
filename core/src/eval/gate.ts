/**
 * The promotion gate (spec §4.5, §6): rules file + candidate (+ baseline) -> a stored verdict.
 *
 * 1. Parse the rules (errors keep `<file>:<line>:<col>`).
 * 2. Find the suite the rules name (name or fingerprint) in the store, and check that every ruled
 *    slice exists in it.
 * 3. Resolve the candidate and the baseline: `--baseline` when given, else the rules' `baseline`;
 *    `production` is the candidate policy's production version *now*, at evaluation time.
 * 4. Take each version's newest completed run on the suite's fingerprint; evaluate natively what
 *    is missing (the candidate with the determinism re-runs the rules ask for, the baseline
 *    without) through `evaluateMissing`. `reeval` evaluates both afresh.
 * 5. `computeVerdict` with the determinism mismatches of the candidate's run (an imported run has
 *    none: a `determinism` rule is then INCONCLUSIVE, with a note saying why), then store the
 *    verdict with the suite fingerprint, the rules' hash and both versions.
 */
import { LineCounter, parseDocument } from 'yaml';
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';
import { parseRules, rulesHash, validateRulesAgainstSuite, type PromotionRules, type Transition } from './rules-parser.js';
import { computeVerdict, decide, type CaseResult as VerdictCase, type RuleEvidence, type ShadowEvidence, type VerdictValue } from '../domain/verdict.js';
import type { EvalRunRecord, EvalStore, SuiteRecord } from '../store/eval-store.js';
import type { Registry, VersionRecord } from '../store/registry.js';
import { readDeterminism, requireCompletedRun, requireSuite, runRef, type RunRef } from './compare.js';

/** Evaluate `version` natively on `suite` and resolve with the finished run's id. */
export type EvaluateMissing = (req: { version: VersionRecord; ref: string; suite: SuiteRecord; reruns: number; role: 'candidate' | 'baseline' }) => Promise<number>;

export interface GateOptions {
  registry: Registry;
  evalStore: EvalStore;
  rulesText: string;
  /** Names the rules file in errors and in the verdict. */
  rulesFile: string;
  /** `policy@label` or `policy@<stage>`. */
  candidate: string;
  /** Overrides the rules' `baseline` (a version reference). */
  baseline?: string | null;
  /** Evaluates what is missing; null: use stored runs only. */
  evaluateMissing?: EvaluateMissing | null;
  /** Evaluate both versions afresh even when stored runs exist (native versions only). */
  reeval?: boolean;
  /**
   * Shadow traffic evidence of the candidate, compared with `baselineVersionId` (the baseline of
   * this gate; null without one), for rules with a `shadow` block. Null: none recorded.
   */
  shadowEvidence?: ((candidateVersionId: number, baselineVersionId: number | null) => ShadowEvidence | null) | null;
}

export interface GateSide extends RunRef {
  /** True when this gate ran the evaluation. */
  evaluated: boolean;
}

export interface GateResult {
  verdictId: number;
  verdict: VerdictValue;
  summary: string;
  rules: RuleEvidence[];
  transition: Transition;
  rulesFile: string;
  rulesHash: string;
  suite: { name: string; fingerprint: string };
  candidate: GateSide;
  baseline: GateSide | null;
  /** Where the baseline came from: `production` (resolved now), the rules file, or --baseline. */
  baselineSource: 'production' | 'rules' | 'override';
  /** Every case id behind a failed rule, in rule order, without repeats. */
  failingCases: string[];
  createdAt: string;
}

/** `<file>:<line>:<col>` of a top-level key's value, or `<file>: key` when it cannot be found. */
export function rulesKeyLocation(text: string, file: string, key: string): string {
  try {
    const lc = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lc });
    const node = doc.get(key, true) as { range?: [number, number, number] } | undefined;
    if (node?.range) {
      const { line, col } = lc.linePos(node.range[0]);
      return `${file}:${line}:${col}`;
    }
  } catch {
    // fall through
  }
  return `${file}: ${key}`;
}

function toVerdictCases(results: { caseId: string; slices: string[]; pass: boolean; latencyMs: number | null }[]): VerdictCase[] {
  return results.map((r) => ({ caseId: r.caseId, slices: r.slices, pass: r.pass, latencyMs: r.latencyMs ?? NaN }));
}

/** What the gate needs of a run before it can use it. */
function needsRun(run: EvalRunRecord | null, v: VersionRecord, rules: PromotionRules, role: 'candidate' | 'baseline'): boolean {
  if (run === null) return true;
  if (role === 'baseline' || !rules.determinism || v.kind === 'external' || run.kind === 'imported') return false;
  const d = readDeterminism(run);
  return d === null || d.error !== undefined || d.reruns < rules.determinism.reruns;
}

/** Run the gate (see the file comment); the verdict is stored before it is returned. */
export async function runGate(opts: GateOptions): Promise<GateResult> {
  const { registry, evalStore } = opts;
  const rules = parseRules(opts.rulesText, opts.rulesFile);
  const hash = rulesHash(opts.rulesText);
  const candidate = registry.resolve(opts.candidate);
  const candRef = `${candidate.policy}@${candidate.label}`;
  const suite = requireSuite(
    evalStore,
    rules.suite,
    `The rules file ${opts.rulesFile} gates on suite \`${rules.suite}\`: record it by evaluating a version on the suite's file first, e.g. \`switchyard eval ${candRef} --suite FILE\` (FILE is the suite's .json or .jsonl), then run the gate again.`,
    rulesKeyLocation(opts.rulesText, opts.rulesFile, 'suite'),
  );
  validateRulesAgainstSuite(rules, Object.keys(suite.slices));

  // The baseline, resolved now: `production` is whatever is in production at this moment.
  const baselineSource: GateResult['baselineSource'] = opts.baseline ? 'override' : rules.baseline === 'production' ? 'production' : 'rules';
  let baseline: VersionRecord | null = null;
  let noProduction = false;
  if (baselineSource === 'production') {
    const prod = registry.listPolicies().find((p) => p.name === candidate.policy)?.productionLabel ?? null;
    if (prod === null) noProduction = true;
    else baseline = registry.getVersion(candidate.policy, prod);
  } else {
    baseline = registry.resolve(baselineSource === 'override' ? opts.baseline! : rules.baseline);
  }
  if (baseline !== null && baseline.id === candidate.id) {
    throw new SwitchyardError(
      ErrorCodes.SWY_ERR_INVALID_INPUT,
      `${candRef} is its own baseline (${baselineSource === 'production' ? 'it is the production version' : 'the baseline names it'}): a gate compares a candidate with another version. Pick another candidate or pass --baseline VERSION.`,
      baselineSource === 'rules' ? rulesKeyLocation(opts.rulesText, opts.rulesFile, 'baseline') : candRef,
    );
  }

  // Runs: the newest completed ones, evaluating what is missing.
  const getRun = async (v: VersionRecord, role: 'candidate' | 'baseline'): Promise<{ run: EvalRunRecord | null; evaluated: boolean }> => {
    const stored = opts.reeval && v.kind !== 'external' ? null : evalStore.latestCompletedRun(v.id, suite.fingerprint);
    if (!needsRun(stored, v, rules, role) || v.kind === 'external' || !opts.evaluateMissing) return { run: stored, evaluated: false };
    const reruns = role === 'candidate' ? (rules.determinism?.reruns ?? 0) : 0;
    const runId = await opts.evaluateMissing({ version: v, ref: `${v.policy}@${v.label}`, suite, reruns, role });
    const run = evalStore.getRun(runId);
    if (!run || run.status !== 'completed') {
      const why = run?.error?.message ?? `the run ended ${run?.status ?? 'missing'}`;
      throw new SwitchyardError(
        run?.status === 'cancelled' ? ErrorCodes.SWY_ERR_CONFLICT : ErrorCodes.SWY_ERR_INFERENCE,
        `The gate could not evaluate the ${role} ${v.policy}@${v.label} on suite ${suite.name}: ${why}. No verdict was recorded.`,
        `${v.policy}@${v.label}`,
      );
    }
    return { run, evaluated: true };
  };
  const [cand, base] = await Promise.all([getRun(candidate, 'candidate'), baseline ? getRun(baseline, 'baseline') : Promise.resolve(null)]);
  const candRun = cand.run ?? requireCompletedRun(evalStore, candidate, suite);

  const determinism = candRun.kind === 'imported' ? null : readDeterminism(candRun);
  const shadow = rules.shadow && opts.shadowEvidence ? opts.shadowEvidence(candidate.id, baseline?.id ?? null) : null;
  const verdict = computeVerdict({
    rules,
    candidate: toVerdictCases(evalStore.results(candRun.id)),
    baseline: base?.run ? toVerdictCases(evalStore.results(base.run.id)) : null,
    determinismMismatches: determinism === null || determinism.error !== undefined ? null : determinism.differing,
    shadow,
  });

  // Notes that know more than the pure verdict does.
  let evidence = verdict.rules;
  let renoted = false;
  const renote = (pred: (r: RuleEvidence) => boolean, note: string) => {
    evidence = evidence.map((r) => {
      if (!pred(r)) return r;
      renoted = true;
      return { ...r, note };
    });
  };
  if (rules.determinism && candRun.kind === 'imported') {
    renote((r) => r.id === 'determinism' && r.pass === null, `no re-run evidence: ${candRef} has imported results, graded elsewhere, which Switchyard cannot re-run; drop \`determinism\` from rules that gate imported results`);
  } else if (rules.determinism && determinism?.error !== undefined) {
    renote((r) => r.id === 'determinism' && r.pass === null, `no re-run evidence: ${determinism.error}; run the gate again with --reeval`);
  }
  if (noProduction) {
    renote(
      (r) => r.pass === null && r.note.startsWith('no baseline results'),
      `no baseline: ${candidate.policy} has no production version to compare with; pass --baseline VERSION or name a version in the rules' \`baseline\``,
    );
  } else if (baseline !== null && base?.run === null) {
    const how = baseline.kind === 'external' ? 'import its results with `switchyard import-results FILE`' : `evaluate it with \`switchyard eval ${baseline.policy}@${baseline.label} --suite FILE\``;
    renote((r) => r.pass === null && r.note.startsWith('no baseline results'), `no baseline results: ${baseline.policy}@${baseline.label} has no completed evaluation on suite ${suite.name}; ${how}`);
  }
  const final = renoted ? decide(evidence) : verdict;

  const side = (v: VersionRecord, run: EvalRunRecord, evaluated: boolean): GateSide => ({ ...runRef(v, run), evaluated });
  const candidateSide = side(candidate, candRun, cand.evaluated);
  const baselineSide = baseline !== null && base?.run ? side(baseline, base.run, base.evaluated) : null;
  const failingCases = [...new Set(final.rules.filter((r) => r.pass === false).flatMap((r) => r.failingCases))];
  const stored = evalStore.saveVerdict({
    policy: candidate.policy,
    candidateVersionId: candidate.id,
    baselineVersionId: baseline?.id ?? null,
    transition: rules.transition,
    suiteFingerprint: suite.fingerprint,
    rulesHash: hash,
    verdict: final.verdict,
    evidence: {
      summary: final.summary,
      rules: final.rules,
      rulesFile: opts.rulesFile,
      suite: { name: suite.name, fingerprint: suite.fingerprint },
      candidate: candidateSide,
      baseline: baselineSide,
      baselineSource,
      failingCases,
      ...(rules.shadow ? { shadow: shadow === null ? null : { requests: shadow.requests, maxDivergence: Number.isFinite(shadow.maxDivergence) ? shadow.maxDivergence : null } } : {}),
    },
  });
  return {
    verdictId: stored.id,
    verdict: final.verdict,
    summary: final.summary,
    rules: final.rules,
    transition: rules.transition,
    rulesFile: opts.rulesFile,
    rulesHash: hash,
    suite: { name: suite.name, fingerprint: suite.fingerprint },
    candidate: candidateSide,
    baseline: baselineSide,
    baselineSource,
    failingCases,
    createdAt: stored.createdAt,
  };
}
