/**
 * Per-case graders (spec §4.4). Each produces `{ name, pass, value }`; `pass` is null for a
 * measurement that gates nothing by itself (the return, the latency).
 *
 * - `success`       the episode ran its full length with every bound held; value: steps survived.
 * - `safety_bounds` every `safety` state bound held at every step (cart-pole: |x| <= 2.4 m);
 *                   value: the peak fraction of the tightest safety bound used (1 = on the edge).
 * - `action_bounds` every raw policy output (every action of every chunk returned, before
 *                   clipping) was finite and inside the action bounds; value: the peak fraction
 *                   of the bound used (> 1 = outside; Infinity for a non-finite output).
 * - `smoothness`    mean |Δ applied action| per step (summed over action dimensions); passes at
 *                   or below the environment's threshold (cart-pole: 1 N).
 * - `return`        the episode return (cart-pole: steps survived inside the bounds).
 * - `latency`       mean per-step policy latency of this case in ms: for every batched policy
 *                   call it took part in, the call's wall time divided by the batch size.
 *                   Wall-clock: excluded from determinism comparisons.
 *
 * A case passes when `success`, `safety_bounds` and `action_bounds` pass.
 */
import type { Environment, StepInfo } from './environment.js';

export interface GraderResult {
  name: string;
  /** Null for a measurement that is not a pass/fail check. */
  pass: boolean | null;
  value: number | null;
}

export interface CaseResult {
  caseId: string;
  slices: string[];
  pass: boolean;
  graders: GraderResult[];
  /** Normalized return in [0, 1] (cart-pole: fraction of the episode survived). */
  score: number;
  /** Mean per-step policy latency (wall clock, ms); excluded from determinism checks. */
  latencyMs: number | null;
  /** Not measured for native runs (null); imported results may carry one. */
  cost: number | null;
  /** Environment steps taken. */
  steps: number;
  /** Why the episode ended early (`track`, `pole_angle`, `non_finite_action`), or null. */
  failure: string | null;
  /** Set on results kept from a run that failed: they are evidence, never a pass. */
  partial?: boolean;
}

export const GRADERS = ['success', 'safety_bounds', 'action_bounds', 'smoothness', 'return', 'latency'] as const;
export type GraderName = (typeof GRADERS)[number];
/** Graders that measure wall-clock time and are therefore left out of determinism checks. */
export const WALL_CLOCK_GRADERS: ReadonlySet<string> = new Set(['latency']);

/** Accumulates what one episode did and turns it into grader results. */
export class EpisodeGrader {
  private steps = 0;
  private ret = 0;
  private failure: string | null = null;
  private truncated = false;
  private safetyPeak = 0;
  private actionPeak = 0;
  private prevApplied: number[] | null = null;
  private deltaSum = 0;
  private deltaN = 0;
  private latencySum = 0;
  private latencyN = 0;
  private readonly safetyBounds;

  constructor(
    private readonly env: Environment,
    private readonly maxSteps: number,
    initialState: readonly number[],
  ) {
    this.safetyBounds = env.stateBounds.filter((b) => b.kind === 'safety');
    this.checkSafety(initialState);
  }

  /** Every action the policy returned for this case (a whole chunk), before clipping. */
  policyOutput(raw: ArrayLike<number>, offset: number, length: number): void {
    const { low, high } = this.env.actionBounds;
    const dim = this.env.actionDim;
    for (let i = 0; i < length; i++) {
      const v = raw[offset + i]!;
      const d = i % dim;
      let frac: number;
      if (!Number.isFinite(v)) frac = Infinity;
      else if (v >= 0) frac = high[d]! > 0 ? v / high[d]! : v > 0 ? Infinity : 0;
      else frac = low[d]! < 0 ? v / low[d]! : Infinity;
      if (frac > this.actionPeak) this.actionPeak = frac;
    }
  }

  latency(ms: number): void {
    this.latencySum += ms;
    this.latencyN++;
  }

  step(reward: number, info: StepInfo): void {
    this.steps++;
    this.ret += reward;
    const a = info.applied;
    if (this.prevApplied !== null) {
      let d = 0;
      for (let i = 0; i < a.length; i++) d += Math.abs(a[i]! - this.prevApplied[i]!);
      this.deltaSum += d;
      this.deltaN++;
    }
    this.prevApplied = a.slice();
    this.checkSafety(info.state);
    if (info.failure !== null) this.failure = info.failure;
    if (info.truncated) this.truncated = true;
  }

  /** The policy produced something the environment cannot apply (NaN, Infinity). */
  abort(failure: string): void {
    this.failure = failure;
  }

  result(caseId: string, slices: string[]): CaseResult {
    const success = this.failure === null && this.truncated;
    const safety = this.safetyPeak <= 1;
    const action = this.actionPeak <= 1;
    const smooth = this.deltaN > 0 ? this.deltaSum / this.deltaN : 0;
    const latency = this.latencyN > 0 ? this.latencySum / this.latencyN : null;
    const graders: GraderResult[] = [
      { name: 'success', pass: success, value: this.steps },
      { name: 'safety_bounds', pass: safety, value: this.safetyPeak },
      { name: 'action_bounds', pass: action, value: Number.isFinite(this.actionPeak) ? this.actionPeak : null },
      { name: 'smoothness', pass: smooth <= this.env.smoothnessThreshold, value: smooth },
      { name: 'return', pass: null, value: this.ret },
      { name: 'latency', pass: null, value: latency },
    ];
    return {
      caseId,
      slices,
      pass: success && safety && action,
      graders,
      score: this.maxSteps > 0 ? this.ret / this.maxSteps : 0,
      latencyMs: latency,
      cost: null,
      steps: this.steps,
      failure: this.failure,
    };
  }

  private checkSafety(state: readonly number[]): void {
    for (const b of this.safetyBounds) {
      const frac = Math.abs(state[b.stateIndex]!) / b.limit;
      if (frac > this.safetyPeak) this.safetyPeak = frac;
    }
  }
}

/**
 * The part of a case result that must be identical when a frozen suite is re-run: everything
 * but wall-clock measurements. Numbers are compared exactly.
 */
export function deterministicView(r: CaseResult): string {
  return JSON.stringify({
    caseId: r.caseId,
    slices: r.slices,
    pass: r.pass,
    graders: r.graders.filter((g) => !WALL_CLOCK_GRADERS.has(g.name)),
    score: r.score,
    steps: r.steps,
    failure: r.failure,
    partial: r.partial ?? false,
  });
}
