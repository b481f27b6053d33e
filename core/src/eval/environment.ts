/**
 * What an evaluation environment provides (spec §4.4). The cart-pole is bundled; a second
 * environment implements this interface and is added to `ENVIRONMENTS` in `environments.ts`.
 *
 * An `Environment` instance runs one episode at a time: `reset` then `step` until `done`. The
 * evaluator creates one instance per live case, so instances need not be shareable.
 */
import type { Rng } from './rng.js';

/** One numeric environment parameter: its default and the range a suite may set. */
export interface ParamSpec {
  default: number;
  min: number;
  max: number;
  integer?: boolean;
  description: string;
}

/** Resolved parameters: every key of the environment's `paramSpec`, with a value. */
export type EnvParams = Readonly<Record<string, number>>;

/**
 * A bound on one component of the true (noise-free) state. `safety` bounds are graded by the
 * `safety_bounds` grader; `failure` bounds end the episode as a failure (not a success).
 */
export interface StateBound {
  name: string;
  stateIndex: number;
  /** |state[stateIndex]| <= limit */
  limit: number;
  unit: string;
  kind: 'safety' | 'failure';
  description: string;
}

/** Per-dimension bounds of the action the environment accepts; outside it is clipped. */
export interface ActionBounds {
  low: readonly number[];
  high: readonly number[];
  unit: string;
}

export interface StepInfo {
  /** The action after clipping to the action bounds: what the environment applied. */
  applied: readonly number[];
  /** The true state after the step (what the graders check bounds on). */
  state: readonly number[];
  /** Name of the bound whose violation ended the episode, or null. */
  failure: string | null;
  /** True when the episode ended because it reached its length (a survival). */
  truncated: boolean;
}

export interface StepResult {
  /** What the policy sees next (may carry sensor noise). */
  obs: number[];
  reward: number;
  done: boolean;
  info: StepInfo;
}

export interface Environment {
  /** The name suites use (`environment` field), e.g. `cartpole`. */
  readonly name: string;
  /** Part of every suite fingerprint: bump it whenever dynamics or grading change. */
  readonly version: string;
  readonly observationDim: number;
  readonly stateDim: number;
  readonly actionDim: number;
  readonly paramSpec: Readonly<Record<string, ParamSpec>>;
  readonly actionBounds: ActionBounds;
  readonly stateBounds: readonly StateBound[];
  /** The `smoothness` grader passes when the mean |Δ applied action| is at most this. */
  readonly smoothnessThreshold: number;
  /** Null when `state` is a valid initial state, else why not (for suite validation). */
  checkInitialState(state: readonly number[], params: EnvParams): string | null;
  /** Start an episode; returns the first observation. */
  reset(params: EnvParams, initialState: readonly number[], rng: Rng): number[];
  step(action: ArrayLike<number>): StepResult;
}

export interface EnvironmentFactory {
  readonly name: string;
  readonly version: string;
  readonly paramSpec: Readonly<Record<string, ParamSpec>>;
  readonly stateDim: number;
  create(): Environment;
}

/**
 * Layer parameter overrides over the environment defaults (later layers win). Throws nothing:
 * the suite loader validates names and ranges with `checkParam` first.
 */
export function resolveParams(spec: Readonly<Record<string, ParamSpec>>, ...layers: Readonly<Record<string, number>>[]): EnvParams {
  const out: Record<string, number> = {};
  for (const [k, p] of Object.entries(spec)) out[k] = p.default;
  for (const layer of layers) for (const [k, v] of Object.entries(layer)) if (k in spec) out[k] = v;
  return out;
}

/** Null when `value` is acceptable for parameter `name`, else why not. */
export function checkParam(spec: Readonly<Record<string, ParamSpec>>, name: string, value: unknown): string | null {
  const p = spec[name];
  if (p === undefined) {
    const known = Object.keys(spec).join(', ');
    return `unknown parameter "${name}"; this environment takes ${known}`;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) return `parameter "${name}" must be a finite number`;
  if (p.integer && !Number.isInteger(value)) return `parameter "${name}" must be an integer`;
  if (value < p.min || value > p.max) return `parameter "${name}" = ${value} is outside [${p.min}, ${p.max}] (${p.description})`;
  return null;
}
