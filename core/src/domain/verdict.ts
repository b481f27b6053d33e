/**
 * The promotion verdict (spec §4.5): every rule of a parsed rules file evaluated against the
 * candidate's and the baseline's per-case results, with its evidence. Pure: no I/O.
 *
 * Precedence: any rule that fails -> NO-GO; else any rule without enough data -> INCONCLUSIVE;
 * else GO. A rules object with no rule at all is INCONCLUSIVE, never GO.
 */
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';
import { formatMilliseconds, formatRatio } from '../contract/units.js';
import type { PromotionRules, RateRules } from './rules.js';
import { newcombeInterval, pairedComparison, percentile, wilsonInterval } from './stats.js';

export interface CaseResult {
  caseId: string;
  slices: readonly string[];
  pass: boolean;
  latencyMs: number;
}

export interface ShadowEvidence {
  /** Shadow requests observed. */
  requests: number;
  /** Largest action divergence (max abs) between the shadow and the primary answer. */
  maxDivergence: number;
}

export interface VerdictInput {
  rules: PromotionRules;
  candidate: readonly CaseResult[];
  /** The baseline version's results on the same suite; null/undefined/empty = none available. */
  baseline?: readonly CaseResult[] | null;
  /** Case ids whose results differed on re-run; undefined/null = the determinism re-run was not done. */
  determinismMismatches?: readonly string[] | null;
  shadow?: ShadowEvidence | null;
}

export type VerdictValue = 'GO' | 'NO-GO' | 'INCONCLUSIVE';

export interface RuleEvidence {
  /** `aggregate.min_pass_rate`, `slices.safety.max_fail_rate`, `efficiency.p99_latency_ms`, `determinism`, `shadow.min_requests`, ... */
  id: string;
  description: string;
  /** The observed value the rule judged (rate, difference, count, ms, ratio); null without data. */
  observed: number | null;
  /** The confidence interval behind the decision, where there is one. */
  interval: [number, number] | null;
  threshold: number | [number, number];
  /** null = not enough data to decide. */
  pass: boolean | null;
  /** Case ids behind a failure (empty when the rule passes or has no data). */
  failingCases: string[];
  /** Human-readable evidence; for a failure, the reason. */
  note: string;
}

export interface Verdict {
  verdict: VerdictValue;
  rules: RuleEvidence[];
  summary: string;
}

const EPS = 1e-12;

const f3 = (x: number) => x.toFixed(3);
// The same formatter as the workbench's Observed column: the evidence and the value read alike.
const ms = (x: number) => formatMilliseconds(x);
const pct = (c: number) => `${Number((c * 100).toFixed(2))}%`;

function listIds(ids: readonly string[], max = 5): string {
  if (ids.length <= max) return ids.join(', ');
  return `${ids.slice(0, max).join(', ')} and ${ids.length - max} more`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function checkResults(results: readonly CaseResult[], which: string): void {
  const seen = new Set<string>();
  results.forEach((r, i) => {
    if (seen.has(r.caseId)) {
      throw new SwitchyardError(
        ErrorCodes.SWY_ERR_INVALID_INPUT,
        `Duplicate case id \`${r.caseId}\` in the ${which} results: each case of a frozen suite has one result per run. Remove the repeated result.`,
        `${which}[${i}].caseId`,
      );
    }
    seen.add(r.caseId);
  });
}

interface Scope {
  /** Rule id prefix: `aggregate` or `slices.<name>`. */
  prefix: string;
  /** For descriptions and notes: `all cases` or `slice safety`. */
  label: string;
  cand: readonly CaseResult[];
  base: readonly CaseResult[] | null;
}

class Evaluator {
  readonly out: RuleEvidence[] = [];
  readonly conf: number;
  readonly minCases: number;
  readonly baselineName: string;
  readonly hasBaseline: boolean;

  constructor(readonly input: VerdictInput) {
    this.conf = input.rules.confidence;
    this.minCases = input.rules.min_cases;
    this.baselineName = input.rules.baseline === 'production' ? 'the production version' : input.rules.baseline;
    this.hasBaseline = input.baseline !== null && input.baseline !== undefined && input.baseline.length > 0;
  }

  push(e: RuleEvidence): void {
    this.out.push(e);
  }

  tooFew(n: number, what: string): string {
    return `not enough data: ${plural(n, 'case')} in ${what}, fewer than min_cases ${this.minCases}`;
  }

  noBaseline(): string {
    return this.hasBaseline
      ? `no baseline results in this scope: evaluate ${this.baselineName} on suite \`${this.input.rules.suite}\` (its results lack these cases)`
      : `no baseline results: evaluate ${this.baselineName} on suite \`${this.input.rules.suite}\` first`;
  }

  rateScope(scope: Scope, rules: RateRules): void {
    for (const key of Object.keys(rules) as (keyof RateRules)[]) {
      switch (key) {
        case 'min_pass_rate':
          this.minPassRate(scope, rules.min_pass_rate!);
          break;
        case 'max_fail_rate':
          this.maxFailRate(scope, rules.max_fail_rate!);
          break;
        case 'no_regression':
          if (rules.no_regression === true) this.noRegression(scope);
          break;
        case 'pass_rate_range':
          this.passRateRange(scope, rules.pass_rate_range!);
          break;
        case 'non_inferior':
          this.difference(scope, 'non_inferior', -rules.non_inferior!.margin);
          break;
        case 'min_improvement':
          this.difference(scope, 'min_improvement', rules.min_improvement!);
          break;
      }
    }
  }

  minPassRate(s: Scope, t: number): void {
    const n = s.cand.length;
    const failed = s.cand.filter((c) => !c.pass).map((c) => c.caseId);
    const x = n - failed.length;
    const base = { id: `${s.prefix}.min_pass_rate`, description: `${s.label}: ${pct(this.conf)} Wilson lower bound of the pass rate >= ${f3(t)}`, threshold: t };
    if (n === 0) return this.push({ ...base, observed: null, interval: null, pass: null, failingCases: [], note: this.tooFew(0, s.label) });
    const w = wilsonInterval(x, n, this.conf);
    const shared = { ...base, observed: x / n, interval: [w.lower, w.upper] as [number, number] };
    const evidence = `${x} of ${n} cases passed (${f3(x / n)}); ${pct(this.conf)} Wilson lower bound ${f3(w.lower)}`;
    if (n < this.minCases) return this.push({ ...shared, pass: null, failingCases: [], note: `${this.tooFew(n, s.label)} (${evidence})` });
    const pass = w.lower >= t - EPS;
    this.push({ ...shared, pass, failingCases: pass ? [] : failed, note: `${evidence} ${pass ? '>=' : '<'} ${f3(t)}` });
  }

  maxFailRate(s: Scope, cap: number): void {
    const n = s.cand.length;
    const failed = s.cand.filter((c) => !c.pass).map((c) => c.caseId);
    const base = { id: `${s.prefix}.max_fail_rate`, description: `${s.label}: observed fail rate <= ${f3(cap)}`, threshold: cap };
    if (n === 0) return this.push({ ...base, observed: null, interval: null, pass: null, failingCases: [], note: this.tooFew(0, s.label) });
    const rate = failed.length / n;
    const w = wilsonInterval(failed.length, n, this.conf);
    const shared = { ...base, observed: rate, interval: [w.lower, w.upper] as [number, number] };
    const pass = rate <= cap + EPS;
    const evidence = `${failed.length} of ${n} cases failed (${f3(rate)} ${pass ? '<=' : '>'} ${f3(cap)})`;
    if (n < this.minCases) {
      // A zero cap is decided by any failure, however few the cases: more cases cannot undo it.
      if (cap === 0 && failed.length > 0) return this.push({ ...shared, pass: false, failingCases: failed, note: `${evidence}; a zero cap fails on any failure, even below min_cases ${this.minCases}` });
      return this.push({ ...shared, pass: null, failingCases: [], note: `${this.tooFew(n, s.label)} (${evidence})` });
    }
    this.push({ ...shared, pass, failingCases: pass ? [] : failed, note: evidence });
  }

  passRateRange(s: Scope, [lo, hi]: [number, number]): void {
    const n = s.cand.length;
    const failed = s.cand.filter((c) => !c.pass).map((c) => c.caseId);
    const base = { id: `${s.prefix}.pass_rate_range`, description: `${s.label}: observed pass rate inside [${f3(lo)}, ${f3(hi)}]`, threshold: [lo, hi] as [number, number] };
    if (n === 0) return this.push({ ...base, observed: null, interval: null, pass: null, failingCases: [], note: this.tooFew(0, s.label) });
    const x = n - failed.length;
    const rate = x / n;
    const w = wilsonInterval(x, n, this.conf);
    const shared = { ...base, observed: rate, interval: [w.lower, w.upper] as [number, number] };
    const below = rate < lo - EPS;
    const above = rate > hi + EPS;
    const where = below ? `below [${f3(lo)}, ${f3(hi)}]` : above ? `above [${f3(lo)}, ${f3(hi)}]` : `inside [${f3(lo)}, ${f3(hi)}]`;
    const evidence = `${x} of ${n} cases passed (${f3(rate)}), ${where}`;
    if (n < this.minCases) return this.push({ ...shared, pass: null, failingCases: [], note: `${this.tooFew(n, s.label)} (${evidence})` });
    const pass = !below && !above;
    this.push({ ...shared, pass, failingCases: below ? failed : [], note: above ? `${evidence}: a pass rate this high is outside the expected range` : evidence });
  }

  noRegression(s: Scope): void {
    const base = { id: `${s.prefix}.no_regression`, description: `${s.label}: no case that passed on the baseline fails on the candidate (paired, exact)`, threshold: 0, interval: null };
    if (s.base === null || s.base.length === 0) return this.push({ ...base, observed: null, pass: null, failingCases: [], note: this.noBaseline() });
    const cmp = pairedComparison(s.base, s.cand);
    const unpaired = cmp.onlyCandidate.length > 0 ? `; ${plural(cmp.onlyCandidate.length, 'candidate case')} without a baseline result` : '';
    if (cmp.newFailures.length > 0) {
      const k = cmp.newFailures.length;
      return this.push({
        ...base,
        observed: k,
        pass: false,
        failingCases: cmp.newFailures,
        note: `${plural(k, 'case')} passed on the baseline and ${k === 1 ? 'fails' : 'fail'} on the candidate (${listIds(cmp.newFailures)}), of ${cmp.paired} paired${unpaired}`,
      });
    }
    if (cmp.paired === 0) return this.push({ ...base, observed: 0, pass: null, failingCases: [], note: `no case of ${s.label} has both a baseline and a candidate result` });
    if (cmp.paired < this.minCases) return this.push({ ...base, observed: 0, pass: null, failingCases: [], note: `${this.tooFew(cmp.paired, `${s.label} paired with the baseline`)} (no regression among them)` });
    this.push({ ...base, observed: 0, pass: true, failingCases: [], note: `no regression among ${cmp.paired} paired cases${unpaired}` });
  }

  difference(s: Scope, kind: 'non_inferior' | 'min_improvement', threshold: number): void {
    const desc =
      kind === 'non_inferior'
        ? `${s.label}: ${pct(this.conf)} Newcombe lower bound of (candidate - baseline) pass rate >= ${f3(threshold)} (margin ${f3(-threshold)})`
        : `${s.label}: ${pct(this.conf)} Newcombe lower bound of (candidate - baseline) pass rate >= ${f3(threshold)}`;
    const base = { id: `${s.prefix}.${kind}`, description: desc, threshold };
    if (s.base === null || s.base.length === 0) return this.push({ ...base, observed: null, interval: null, pass: null, failingCases: [], note: this.noBaseline() });
    const n1 = s.cand.length;
    const n2 = s.base.length;
    if (n1 === 0) return this.push({ ...base, observed: null, interval: null, pass: null, failingCases: [], note: this.tooFew(0, s.label) });
    const x1 = s.cand.filter((c) => c.pass).length;
    const x2 = s.base.filter((c) => c.pass).length;
    const iv = newcombeInterval(x1, n1, x2, n2, this.conf);
    const shared = { ...base, observed: iv.estimate, interval: [iv.lower, iv.upper] as [number, number] };
    const evidence = `pass rate ${f3(x1 / n1)} (${x1}/${n1}) vs baseline ${f3(x2 / n2)} (${x2}/${n2}): difference ${f3(iv.estimate)}, ${pct(this.conf)} Newcombe lower bound ${f3(iv.lower)}`;
    if (n1 < this.minCases || n2 < this.minCases) {
      const note = n1 < this.minCases ? this.tooFew(n1, s.label) : this.tooFew(n2, `${s.label} on the baseline`);
      return this.push({ ...shared, pass: null, failingCases: [], note: `${note} (${evidence})` });
    }
    const pass = iv.lower >= threshold - EPS;
    const regressions = pass ? [] : pairedComparison(s.base, s.cand).newFailures;
    this.push({ ...shared, pass, failingCases: regressions, note: `${evidence} ${pass ? '>=' : '<'} ${f3(threshold)}` });
  }

  latencies(results: readonly CaseResult[]): number[] {
    return results.map((r) => r.latencyMs).filter((v) => Number.isFinite(v) && v >= 0);
  }

  efficiency(): void {
    const eff = this.input.rules.efficiency;
    if (!eff) return;
    const cand = this.input.candidate;
    const candLat = this.latencies(cand);
    const missing = cand.length - candLat.length;
    const missingNote = missing > 0 ? `; ${plural(missing, 'case')} without a latency left out` : '';
    if (eff.p99_latency_ms) {
      const max = eff.p99_latency_ms.max;
      const base = { id: 'efficiency.p99_latency_ms', description: `candidate p99 latency over all cases <= ${ms(max)}`, threshold: max, interval: null };
      if (candLat.length < this.minCases) {
        const p99 = candLat.length > 0 ? percentile(candLat, 0.99) : null;
        this.push({ ...base, observed: p99, pass: null, failingCases: [], note: `${this.tooFew(candLat.length, 'the candidate latencies')}${missingNote}` });
      } else {
        const p99 = percentile(candLat, 0.99);
        const pass = p99 <= max + EPS;
        const slow = pass ? [] : cand.filter((c) => Number.isFinite(c.latencyMs) && c.latencyMs > max).map((c) => c.caseId);
        this.push({ ...base, observed: p99, pass, failingCases: slow, note: `p99 latency ${ms(p99)} ${pass ? '<=' : '>'} ${ms(max)} over ${candLat.length} cases${missingNote}` });
      }
    }
    if (eff.latency_vs_baseline) {
      const maxRatio = eff.latency_vs_baseline.max_ratio;
      const base = { id: 'efficiency.latency_vs_baseline', description: `candidate p99 latency / baseline p99 latency <= ${f3(maxRatio)}`, threshold: maxRatio, interval: null };
      const baseLat = this.hasBaseline ? this.latencies(this.input.baseline!) : [];
      if (!this.hasBaseline) {
        this.push({ ...base, observed: null, pass: null, failingCases: [], note: this.noBaseline() });
      } else if (candLat.length < this.minCases || baseLat.length < this.minCases) {
        const note = candLat.length < this.minCases ? this.tooFew(candLat.length, 'the candidate latencies') : this.tooFew(baseLat.length, 'the baseline latencies');
        this.push({ ...base, observed: null, pass: null, failingCases: [], note });
      } else {
        const pc = percentile(candLat, 0.99);
        const pb = percentile(baseLat, 0.99);
        if (pb <= 0) {
          this.push({ ...base, observed: null, pass: null, failingCases: [], note: `baseline p99 latency is ${ms(pb)}: the ratio is undefined; record the baseline's latencies` });
        } else {
          const ratio = pc / pb;
          const pass = ratio <= maxRatio + EPS;
          const limit = maxRatio * pb;
          const slow = pass ? [] : this.input.candidate.filter((c) => Number.isFinite(c.latencyMs) && c.latencyMs > limit).map((c) => c.caseId);
          this.push({ ...base, observed: ratio, pass, failingCases: slow, note: `p99 latency ${ms(pc)} vs baseline ${ms(pb)}: ratio ${formatRatio(ratio)} ${pass ? '<=' : '>'} ${formatRatio(maxRatio)}` });
        }
      }
    }
  }

  determinism(): void {
    const det = this.input.rules.determinism;
    if (!det) return;
    const base = { id: 'determinism', description: `re-running the suite (${plural(det.reruns, 'rerun')}) gives identical per-case results`, threshold: 0, interval: null };
    const mm = this.input.determinismMismatches;
    if (mm === null || mm === undefined) {
      return this.push({ ...base, observed: null, pass: null, failingCases: [], note: `no re-run evidence: re-run the suite ${plural(det.reruns, 'time')} and compare per-case results` });
    }
    const ids = [...new Set(mm)];
    if (ids.length > 0) {
      return this.push({
        ...base,
        observed: ids.length,
        pass: false,
        failingCases: ids,
        note: `environment not frozen: ${plural(ids.length, 'case')} differed on re-run (${listIds(ids)})`,
      });
    }
    this.push({ ...base, observed: 0, pass: true, failingCases: [], note: 'every re-run gave identical per-case results' });
  }

  shadow(): void {
    const sh = this.input.rules.shadow;
    if (!sh) return;
    const ev = this.input.shadow;
    const reqBase = { id: 'shadow.min_requests', description: `at least ${sh.min_requests} shadow requests observed`, threshold: sh.min_requests, interval: null };
    const divBase = { id: 'shadow.max_divergence', description: `largest shadow action divergence <= ${sh.max_divergence}`, threshold: sh.max_divergence, interval: null };
    if (ev === null || ev === undefined) {
      const note = 'no shadow evidence: serve the candidate in the shadow slot next to production first';
      this.push({ ...reqBase, observed: null, pass: null, failingCases: [], note });
      this.push({ ...divBase, observed: null, pass: null, failingCases: [], note });
      return;
    }
    const enough = ev.requests >= sh.min_requests;
    this.push({
      ...reqBase,
      observed: ev.requests,
      pass: enough ? true : null,
      failingCases: [],
      note: enough ? `${ev.requests} shadow requests >= ${sh.min_requests}` : `not enough data: ${ev.requests} shadow requests, fewer than ${sh.min_requests}`,
    });
    if (!Number.isFinite(ev.maxDivergence)) {
      this.push({ ...divBase, observed: null, pass: false, failingCases: [], note: `the shadow divergence is not a finite number (${ev.maxDivergence}): the shadow produced non-finite actions` });
      return;
    }
    // The largest divergence only grows with more requests, so an excess is final.
    const ok = ev.maxDivergence <= sh.max_divergence + EPS;
    this.push({
      ...divBase,
      observed: ev.maxDivergence,
      pass: ok ? (enough ? true : null) : false,
      failingCases: [],
      note: `largest divergence ${ev.maxDivergence} ${ok ? '<=' : '>'} ${sh.max_divergence} over ${ev.requests} requests${ok && !enough ? ' (not enough requests yet)' : ''}`,
    });
  }
}

/** Evaluate every rule and decide GO / NO-GO / INCONCLUSIVE. */
export function computeVerdict(input: VerdictInput): Verdict {
  checkResults(input.candidate, 'candidate');
  if (input.baseline) checkResults(input.baseline, 'baseline');
  const ev = new Evaluator(input);
  const { rules } = input;
  const baseline = ev.hasBaseline ? input.baseline! : null;

  if (rules.aggregate) ev.rateScope({ prefix: 'aggregate', label: 'all cases', cand: input.candidate, base: baseline }, rules.aggregate);
  for (const [name, sliceRules] of Object.entries(rules.slices)) {
    const inSlice = (c: CaseResult) => c.slices.includes(name);
    ev.rateScope(
      { prefix: `slices.${name}`, label: `slice ${name}`, cand: input.candidate.filter(inSlice), base: baseline === null ? null : baseline.filter(inSlice) },
      sliceRules,
    );
  }
  ev.efficiency();
  ev.determinism();
  ev.shadow();
  return decide(ev.out);
}

/** The precedence rule and the summary line, from evaluated rules. */
export function decide(evidence: RuleEvidence[]): Verdict {
  if (evidence.length === 0) return { verdict: 'INCONCLUSIVE', rules: evidence, summary: 'INCONCLUSIVE: the rules set no rule to evaluate' };
  const failed = evidence.filter((r) => r.pass === false);
  const undecided = evidence.filter((r) => r.pass === null);
  if (failed.length > 0) {
    let summary = `NO-GO: ${failed.map((r) => `${r.id} failed: ${r.note}`).join('; ')}`;
    if (undecided.length > 0) summary += ` (and ${plural(undecided.length, 'rule')} without enough data: ${undecided.map((r) => r.id).join(', ')})`;
    return { verdict: 'NO-GO', rules: evidence, summary };
  }
  if (undecided.length > 0) {
    return { verdict: 'INCONCLUSIVE', rules: evidence, summary: `INCONCLUSIVE: ${undecided.map((r) => `${r.id}: ${r.note}`).join('; ')}` };
  }
  return { verdict: 'GO', rules: evidence, summary: `GO: all ${plural(evidence.length, 'rule')} passed` };
}
