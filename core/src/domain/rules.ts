/**
 * Promotion rules (spec §4.5) as the domain sees them: the transitions, the rule types and their
 * defaults. Reading them from YAML (with positions in errors) is eval/rules-parser.ts.
 */
export const TRANSITIONS = ['candidate->staging', 'staging->production'] as const;
export type Transition = (typeof TRANSITIONS)[number];

/** Rules on the pass rate of a set of cases: the whole suite (`aggregate`) or one slice. */
export interface RateRules {
  /** Wilson lower bound of the candidate's pass rate >= this. */
  min_pass_rate?: number;
  /** Strict cap on the observed fail rate. */
  max_fail_rate?: number;
  /** Paired and exact: no case that passed on the baseline may fail on the candidate. */
  no_regression?: boolean;
  /** Newcombe lower bound of (candidate - baseline) pass rate >= this. */
  min_improvement?: number;
  /** Observed pass rate inside [lo, hi]. */
  pass_rate_range?: [number, number];
  /** Newcombe lower bound of (candidate - baseline) pass rate >= -margin. */
  non_inferior?: { margin: number };
}

export interface EfficiencyRules {
  /** p99 (nearest rank) of the candidate's per-case latencies <= max. */
  p99_latency_ms?: { max: number };
  /** p99(candidate) / p99(baseline) <= max_ratio. */
  latency_vs_baseline?: { max_ratio: number };
}

export interface PromotionRules {
  transition: Transition;
  suite: string;
  /** `production` (the policy's current production version) or an explicit `policy@label`. */
  baseline: string;
  /** Confidence level of every interval, 0.5..0.9999 (default 0.95). */
  confidence: number;
  /** A ruled slice (or the aggregate) with fewer cases gives INCONCLUSIVE (default 30). */
  min_cases: number;
  aggregate?: RateRules;
  /** Slice name -> its rules, in file order. */
  slices: Record<string, RateRules>;
  efficiency?: EfficiencyRules;
  /** The suite is re-run `reruns` times; per-case results must be identical. */
  determinism?: { reruns: number };
  /** staging->production only: shadow traffic evidence. */
  shadow?: { min_requests: number; max_divergence: number };
}

export const DEFAULT_CONFIDENCE = 0.95;
export const DEFAULT_MIN_CASES = 30;
