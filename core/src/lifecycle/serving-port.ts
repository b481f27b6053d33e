/**
 * What the lifecycle asks of serving: the port it decides through (follow production, swap a
 * slot's runner, keep a warm standby, move the split, read the canary's numbers). The serving
 * controller (`serve/serving-controller.ts`) implements it; the lifecycle never imports serve.
 */
import type { ServingState, Slot, SplitChange } from '../contract/index.js';
import type { SlotRunner } from '../runtime/types.js';

/** A loaded runner in a slot: `ref` is `policy@label` for a registered version, the export directory otherwise. */
export interface SlotSpec {
  slot: Slot;
  ref: string;
  runner: SlotRunner;
}

/** Why a split changed, as the caller says it (serving adds the time and the split). */
export interface SplitCause {
  cause: SplitChange['cause'];
  detail: string;
}

/** Cumulative per-slot numbers (never reset by the live window), for the canary and shadow evidence. */
export interface SlotCounters {
  slot: Slot;
  versionRef: string;
  modelVersion: string;
  /** Answered plus failed requests. */
  requests: number;
  errors: number;
  /** Latency samples recorded so far: a mark for `latencySamples`. */
  latencyCount: number;
  drained: boolean;
  /** Largest shadow divergence (max abs) from the primary; 0 for other slots. */
  maxDivergence: number;
}

export interface ServingPort {
  /** The policy whose production a single-policy server follows (set by the lifecycle). */
  followsProduction: string | null;
  readonly isServing: boolean;
  /** The warm standby of single-policy mode (loaded, not routed), or null. */
  readonly standbySpec: SlotSpec | null;
  state(): ServingState;
  /** The loaded slot's spec, or null. */
  slotSpec(slot: Slot): SlotSpec | null;
  /** Cumulative per-slot numbers (primary slots, then the shadow). */
  counters(): SlotCounters[];
  /** Latency samples (ms) a slot recorded after mark `after` (a `latencyCount`), newest 4096 at most. */
  latencySamples(slot: Slot, after: number): number[];
  /** Two-policy mode: `split` percent of new episodes to slot a. */
  setSplit(split: number, why?: SplitCause): ServingState;
  /** Two-policy mode: every request to `slot`, episodes in progress included (a canary's rollback). */
  routeAll(slot: 'a' | 'b', why?: SplitCause): ServingState;
  /**
   * Put `spec` in place of a primary slot's runner at once; requests in flight finish on the old
   * one, which may be closed only once `idle` resolves.
   */
  swapPrimary(slot: 'prod' | 'a' | 'b', spec: Omit<SlotSpec, 'slot'>): { previous: SlotSpec; idle: Promise<void> };
  /** Single-policy mode: keep `spec` warm beside `prod`; returns the standby it replaces, for the caller to close. */
  setStandby(spec: Omit<SlotSpec, 'slot'> | null): SlotSpec | null;
  /** Single-policy mode: the warm standby takes over `prod`; null without a standby. */
  promoteStandby(): { previous: SlotSpec; next: SlotSpec; idle: Promise<void> } | null;
}
