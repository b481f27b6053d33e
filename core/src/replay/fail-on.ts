/**
 * `--diff` and `--fail-on` for `switchyard replay --model` (spec §8).
 *
 * `--diff actions|latency|cache|all` (or a comma list, e.g. `actions,cache`) picks what a re-run
 * compares and reports.
 *
 * `--fail-on MODE` makes the command exit 1 when a condition holds. Grammar:
 *
 *     MODE      := CONDITION ( "," CONDITION )*        any condition that holds trips it
 *     CONDITION := "error" | METRIC OP NUMBER ["%"]
 *     OP        := ">" | ">=" | "<" | "<="
 *
 * Metrics (over every compared request; `%` divides the number by 100):
 *
 * | metric              | needs --diff | value                                                        |
 * |---------------------|--------------|--------------------------------------------------------------|
 * | `divergence`        | actions      | largest max-abs action difference (what the shadow slot and the promotion rules call divergence) |
 * | `mean-divergence`   | actions      | mean of the per-request max-abs differences                  |
 * | `p99-divergence`    | actions      | 99th percentile of them                                      |
 * | `cosine`            | actions      | smallest cosine similarity (trip with `cosine<0.99`)         |
 * | `incomparable`      | actions      | fraction of requests whose action shapes differ              |
 * | `p50-latency-ratio` | latency      | re-run p50 latency / recorded p50 latency                    |
 * | `p99-latency-ratio` | latency      | re-run p99 / recorded p99                                    |
 * | `cache-mismatch`    | cache        | fraction of requests whose cache status (hit/miss/none) differs |
 * | `error-rate`        | (any)        | fraction of re-run requests that failed                      |
 * | `errors`            | (any)        | number of re-run requests that failed                        |
 * | `error`             | (any)        | shorthand for `errors>0`                                     |
 */
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';

export type DiffAspect = 'actions' | 'latency' | 'cache';
export const DIFF_ASPECTS: readonly DiffAspect[] = ['actions', 'latency', 'cache'];

export type FailMetric =
  | 'divergence'
  | 'mean-divergence'
  | 'p99-divergence'
  | 'cosine'
  | 'incomparable'
  | 'p50-latency-ratio'
  | 'p99-latency-ratio'
  | 'cache-mismatch'
  | 'error-rate'
  | 'errors';

export type FailOp = '>' | '>=' | '<' | '<=';

export interface FailCondition {
  /** The condition as written. */
  text: string;
  metric: FailMetric;
  op: FailOp;
  threshold: number;
}

const NEEDS: Record<FailMetric, DiffAspect | null> = {
  divergence: 'actions',
  'mean-divergence': 'actions',
  'p99-divergence': 'actions',
  cosine: 'actions',
  incomparable: 'actions',
  'p50-latency-ratio': 'latency',
  'p99-latency-ratio': 'latency',
  'cache-mismatch': 'cache',
  'error-rate': null,
  errors: null,
};

export const FAIL_METRICS = Object.keys(NEEDS) as FailMetric[];

function bad(message: string, flag: string): SwitchyardError {
  return new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, message, flag);
}

/** Parses `--diff`. Throws SwitchyardError (SWY_ERR_INVALID_INPUT, where `--diff`). */
export function parseDiff(text: string | undefined): DiffAspect[] {
  if (text === undefined || text.trim() === '') return [...DIFF_ASPECTS];
  const out = new Set<DiffAspect>();
  for (const raw of text.split(',')) {
    const w = raw.trim().toLowerCase();
    if (w === 'all') DIFF_ASPECTS.forEach((a) => out.add(a));
    else if ((DIFF_ASPECTS as readonly string[]).includes(w)) out.add(w as DiffAspect);
    else throw bad(`--diff "${text}": "${raw.trim()}" is not one of actions, latency, cache, all (a comma list such as actions,cache works too).`, '--diff');
  }
  return DIFF_ASPECTS.filter((a) => out.has(a));
}

const CONDITION = /^([a-z0-9-]+)\s*(>=|<=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(%?)$/;

/**
 * Parses `--fail-on` (see the grammar above) against the aspects `--diff` selected. Throws
 * SwitchyardError (SWY_ERR_INVALID_INPUT, where `--fail-on`) with a message that names the flag,
 * the part that is wrong and what would be right.
 */
export function parseFailOn(text: string | undefined, diff: readonly DiffAspect[] = DIFF_ASPECTS): FailCondition[] {
  if (text === undefined) return [];
  const parts = text.split(',').map((p) => p.trim());
  if (text.trim() === '' || parts.some((p) => p === '')) throw bad(`--fail-on "${text}": empty condition. Write conditions like divergence>0.1, p99-latency-ratio>1.5, cache-mismatch>5%, error; separate several with commas.`, '--fail-on');
  const out: FailCondition[] = [];
  for (const part of parts) {
    if (part.toLowerCase() === 'error') {
      out.push({ text: part, metric: 'errors', op: '>', threshold: 0 });
      continue;
    }
    const m = CONDITION.exec(part.toLowerCase());
    if (!m) {
      const name = /^[a-z0-9-]+/i.exec(part)?.[0]?.toLowerCase();
      if (name && !(FAIL_METRICS as string[]).includes(name)) {
        throw bad(`--fail-on "${text}": unknown metric "${name}". Use one of ${FAIL_METRICS.join(', ')}, or the word error.`, '--fail-on');
      }
      throw bad(`--fail-on "${text}": cannot read "${part}". A condition is METRIC OP NUMBER (OP one of > >= < <=, NUMBER optionally with %), e.g. divergence>0.1, or the word error.`, '--fail-on');
    }
    const metric = m[1] as FailMetric;
    if (!(FAIL_METRICS as string[]).includes(metric)) {
      throw bad(`--fail-on "${text}": unknown metric "${m[1]}". Use one of ${FAIL_METRICS.join(', ')}, or the word error.`, '--fail-on');
    }
    const need = NEEDS[metric];
    if (need !== null && !diff.includes(need)) {
      throw bad(`--fail-on "${part}" compares ${need}, but --diff ${diff.join(',')} leaves ${need} out; add ${need} to --diff (or use --diff all).`, '--fail-on');
    }
    let threshold = Number(m[3]);
    if (m[4] === '%') threshold /= 100;
    if (!Number.isFinite(threshold)) throw bad(`--fail-on "${part}": the threshold is not a finite number.`, '--fail-on');
    out.push({ text: part, metric, op: m[2] as FailOp, threshold });
  }
  return out;
}

export interface FailOnMetrics {
  divergence: number | null;
  'mean-divergence': number | null;
  'p99-divergence': number | null;
  cosine: number | null;
  incomparable: number | null;
  'p50-latency-ratio': number | null;
  'p99-latency-ratio': number | null;
  'cache-mismatch': number | null;
  'error-rate': number | null;
  errors: number | null;
}

export interface FailOnOutcome {
  condition: string;
  metric: FailMetric;
  /** The observed value; null when there was nothing to measure (the condition does not hold then). */
  observed: number | null;
  tripped: boolean;
}

/** Evaluates the conditions; a metric with no data (null) never trips. NaN (non-finite actions) always trips a divergence condition. */
export function evaluateFailOn(conditions: readonly FailCondition[], metrics: FailOnMetrics): { tripped: boolean; outcomes: FailOnOutcome[] } {
  const outcomes = conditions.map((c) => {
    const v = metrics[c.metric];
    let tripped = false;
    if (v !== null) {
      if (Number.isNaN(v)) tripped = true;
      else if (c.op === '>') tripped = v > c.threshold;
      else if (c.op === '>=') tripped = v >= c.threshold;
      else if (c.op === '<') tripped = v < c.threshold;
      else tripped = v <= c.threshold;
    }
    return { condition: c.text, metric: c.metric, observed: v, tripped };
  });
  return { tripped: outcomes.some((o) => o.tripped), outcomes };
}
