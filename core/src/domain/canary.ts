/**
 * The canary's looks as pure functions (spec §6): configuration, and the judgement of one look
 * from the per-slot numbers of production (slot `a`) and the canary (slot `b`).
 *
 * A look passes only when every check passes; anything it cannot judge fails it (fail closed):
 * - `data`: the metrics answered, both slots are there, production has requests, and the canary
 *   answered at least `minRequestsPerLook` requests since the previous look.
 * - `error_rate`: non-inferiority, one-sided. With p_c, p_p the canary's and production's error
 *   rates since the canary started, the look passes when the upper bound of Newcombe's hybrid
 *   score interval for p_c - p_p, at one-sided confidence 1 - alpha / plannedLooks (Bonferroni:
 *   every planned look spends an equal share of alpha), is at most `errorMargin`. A canary with
 *   too little traffic to show that it is no worse fails the look.
 * - `p99_latency`: the canary's p99 (nearest rank, over its latency samples since the canary
 *   started) may exceed production's by a ratio of at most `p99MaxRatio`; differences under
 *   `p99MinDeltaMs` never fail (sub-millisecond jitter is not a regression). No canary sample:
 *   fail.
 * Planned looks = one per ramp step + one per `intervalMs` of the post-promotion monitor window,
 * fixed when the canary starts, so watching longer never buys a look at a looser level.
 */
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';
import { newcombeIntervalZ, percentile, zOneSided } from './stats.js';

export interface CanaryConfig {
  /** Percent of new episodes sent to the canary at each step; increasing, ending at 100. */
  steps: number[];
  /** Time spent at each step before its look (and between monitor looks). */
  intervalMs: number;
  /** Family-wise significance level, shared by every planned look. */
  alpha: number;
  /** The canary's error rate may exceed production's by at most this (an absolute rate). */
  errorMargin: number;
  p99MaxRatio: number;
  p99MinDeltaMs: number;
  /** Fewer new canary requests than this in a look fails it (no data). */
  minRequestsPerLook: number;
  /** After promotion, keep looking for this long; 0 = no monitor. */
  monitorWindowMs: number;
  /** A metrics read that takes longer than this fails the look. */
  lookTimeoutMs: number;
}

export const DEFAULT_CANARY: Readonly<CanaryConfig> = Object.freeze({
  steps: [5, 25, 50, 100],
  intervalMs: 60_000,
  alpha: 0.05,
  errorMargin: 0.02,
  p99MaxRatio: 1.5,
  p99MinDeltaMs: 1,
  minRequestsPerLook: 1,
  monitorWindowMs: 300_000,
  lookTimeoutMs: 5_000,
});

/** Fill the defaults and check every field; SWY_ERR_INVALID_INPUT names the field. */
export function canaryConfig(partial: Partial<CanaryConfig> = {}): CanaryConfig {
  const c: CanaryConfig = { ...DEFAULT_CANARY, steps: [...DEFAULT_CANARY.steps] };
  for (const [k, v] of Object.entries(partial) as [keyof CanaryConfig, unknown][]) if (v !== undefined) (c as unknown as Record<string, unknown>)[k] = v;
  const bad = (field: string, why: string): never => {
    throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `canary ${field}: ${why}`, field);
  };
  if (!Array.isArray(c.steps) || c.steps.length === 0) bad('steps', 'give at least one step, e.g. 5,25,50,100');
  c.steps.forEach((s, i) => {
    if (!Number.isInteger(s) || s < 1 || s > 100) bad('steps', `each step is a whole percent from 1 to 100, got ${s}`);
    if (i > 0 && s <= c.steps[i - 1]!) bad('steps', `steps must increase, got ${c.steps.join(',')}`);
  });
  if (c.steps[c.steps.length - 1] !== 100) bad('steps', `the last step must be 100 (the promotion), got ${c.steps.join(',')}`);
  if (!(Number.isFinite(c.intervalMs) && c.intervalMs >= 10)) bad('intervalMs', `at least 10 ms, got ${c.intervalMs}`);
  if (!(c.alpha > 0 && c.alpha < 0.5)) bad('alpha', `between 0 and 0.5, got ${c.alpha}`);
  if (!(c.errorMargin >= 0 && c.errorMargin < 1)) bad('errorMargin', `from 0 to 1, got ${c.errorMargin}`);
  if (!(c.p99MaxRatio >= 1)) bad('p99MaxRatio', `at least 1, got ${c.p99MaxRatio}`);
  if (!(c.p99MinDeltaMs >= 0)) bad('p99MinDeltaMs', `0 or more, got ${c.p99MinDeltaMs}`);
  if (!(Number.isInteger(c.minRequestsPerLook) && c.minRequestsPerLook >= 1)) bad('minRequestsPerLook', `a whole number from 1, got ${c.minRequestsPerLook}`);
  if (!(Number.isFinite(c.monitorWindowMs) && c.monitorWindowMs >= 0)) bad('monitorWindowMs', `0 or more, got ${c.monitorWindowMs}`);
  if (!(Number.isFinite(c.lookTimeoutMs) && c.lookTimeoutMs >= 1)) bad('lookTimeoutMs', `at least 1 ms, got ${c.lookTimeoutMs}`);
  return c;
}

export function monitorLooks(c: CanaryConfig): number {
  return c.monitorWindowMs > 0 ? Math.ceil(c.monitorWindowMs / c.intervalMs) : 0;
}

/** Looks planned when the canary starts: one per step and one per monitor interval. */
export function plannedLooks(c: CanaryConfig): number {
  return c.steps.length + monitorLooks(c);
}

/** One slot's numbers since the canary started. */
export interface SlotWindow {
  requests: number;
  errors: number;
  /** Latencies (ms) of answered requests since the canary started (a bounded, newest-first sample is fine). */
  latenciesMs: readonly number[];
}

export interface LookInput {
  config: CanaryConfig;
  plannedLooks: number;
  /** Null: the metrics source did not answer (it threw, or timed out). */
  production: SlotWindow | null;
  canary: SlotWindow | null;
  /** Canary requests since the previous look. */
  newCanaryRequests: number;
  /** Why the source did not answer, when it did not. */
  sourceError?: string;
}

export type CheckId = 'data' | 'error_rate' | 'p99_latency';

export interface LookCheck {
  id: CheckId;
  pass: boolean;
  observed: number | null;
  threshold: number;
  /** The bound the decision used (the error-rate difference's upper bound), when there is one. */
  bound: number | null;
  note: string;
}

export interface LookJudgement {
  pass: boolean;
  /** Per-look significance level and the one-sided confidence it implies. */
  alpha: number;
  confidence: number;
  checks: LookCheck[];
  /** The first failed check, for the record. */
  failed: LookCheck | null;
  canary: { requests: number; errors: number; errorRate: number | null; p99Ms: number | null } | null;
  production: { requests: number; errors: number; errorRate: number | null; p99Ms: number | null } | null;
}

const f = (x: number, d = 4) => (Number.isFinite(x) ? Number(x.toFixed(d)).toString() : String(x));

function summary(w: SlotWindow | null) {
  if (w === null) return null;
  return { requests: w.requests, errors: w.errors, errorRate: w.requests > 0 ? w.errors / w.requests : null, p99Ms: w.latenciesMs.length > 0 ? percentile(w.latenciesMs, 0.99) : null };
}

/** Judge one look (see the file comment). */
export function judgeLook(input: LookInput): LookJudgement {
  const { config: c } = input;
  const alpha = c.alpha / Math.max(1, input.plannedLooks);
  const confidence = 1 - alpha;
  const checks: LookCheck[] = [];
  const cand = summary(input.canary);
  const prod = summary(input.production);
  const done = (): LookJudgement => {
    const failed = checks.find((x) => !x.pass) ?? null;
    return { pass: failed === null, alpha, confidence, checks, failed, canary: cand, production: prod };
  };

  // data
  const missing: string[] = [];
  if (input.sourceError !== undefined) missing.push(`the metrics source did not answer (${input.sourceError})`);
  else {
    if (input.production === null) missing.push('no numbers for the production slot (a)');
    if (input.canary === null) missing.push('no numbers for the canary slot (b)');
  }
  if (input.production && input.production.requests === 0) missing.push('production answered no request since the canary started, so there is nothing to compare with');
  if (input.canary && input.newCanaryRequests < c.minRequestsPerLook) {
    missing.push(`the canary answered ${input.newCanaryRequests} request${input.newCanaryRequests === 1 ? '' : 's'} since the previous look, fewer than ${c.minRequestsPerLook}`);
  }
  checks.push({
    id: 'data',
    pass: missing.length === 0,
    observed: input.canary ? input.newCanaryRequests : null,
    threshold: c.minRequestsPerLook,
    bound: null,
    note: missing.length === 0 ? `${input.newCanaryRequests} new canary requests` : `missing metric: ${missing.join('; ')} (a look without data fails)`,
  });
  if (missing.length > 0 || input.canary === null || input.production === null) return done();

  // error rate: non-inferiority with a Newcombe upper bound at the per-look level.
  const x1 = input.canary.errors, n1 = input.canary.requests, x2 = input.production.errors, n2 = input.production.requests;
  const iv = newcombeIntervalZ(x1, n1, x2, n2, zOneSided(confidence));
  const errOk = iv.upper <= c.errorMargin + 1e-12;
  checks.push({
    id: 'error_rate',
    pass: errOk,
    observed: iv.estimate,
    threshold: c.errorMargin,
    bound: iv.upper,
    note:
      `canary ${x1}/${n1} errors (${f((x1 / n1) * 100, 2)}%), production ${x2}/${n2} (${f((x2 / n2) * 100, 2)}%); ` +
      `difference ${f(iv.estimate)} with one-sided upper bound ${f(iv.upper)} at ${f(confidence * 100, 3)}% (alpha ${f(c.alpha)} / ${input.plannedLooks} looks) ` +
      (errOk ? `<= margin ${c.errorMargin}` : `> margin ${c.errorMargin}: the canary is not shown to be no worse than production`),
  });

  // p99 latency: a ratio limit with an absolute floor.
  if (cand!.p99Ms === null || prod!.p99Ms === null) {
    checks.push({
      id: 'p99_latency',
      pass: false,
      observed: null,
      threshold: c.p99MaxRatio,
      bound: null,
      note: `missing metric: no latency sample for the ${cand!.p99Ms === null ? 'canary' : 'production'} slot since the canary started`,
    });
    return done();
  }
  const cp = cand!.p99Ms, pp = prod!.p99Ms;
  const ratio = pp > 0 ? cp / pp : cp > 0 ? Infinity : 1;
  const latOk = ratio <= c.p99MaxRatio + 1e-12 || cp - pp < c.p99MinDeltaMs;
  checks.push({
    id: 'p99_latency',
    pass: latOk,
    observed: Number.isFinite(ratio) ? ratio : null,
    threshold: c.p99MaxRatio,
    bound: null,
    note:
      `canary p99 ${f(cp, 3)} ms, production p99 ${f(pp, 3)} ms: ratio ${f(ratio, 3)} ` +
      (ratio <= c.p99MaxRatio + 1e-12
        ? `<= ${c.p99MaxRatio}`
        : latOk
          ? `> ${c.p99MaxRatio}, but only ${f(cp - pp, 3)} ms more than production (under the ${c.p99MinDeltaMs} ms floor)`
          : `> ${c.p99MaxRatio} and ${f(cp - pp, 3)} ms more than production`),
  });
  return done();
}
