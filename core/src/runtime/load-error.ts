/**
 * A model that cannot serve fails at one of three steps of loading. `doctor` names the step, so
 * the error carries it; everything else treats it as the SwitchyardError it is.
 */
import { SwitchyardError, type ErrorCode } from '../contract/errors.js';

/**
 * - `load`: ONNX Runtime could not create a session (not ONNX, truncated, missing external data,
 *   CUDA unavailable under `--device cuda`, the worker died or timed out while loading);
 * - `io-shapes`: the graph's inputs/outputs do not match `switchyard.json`;
 * - `warmup`: the model ran on random observations and failed or produced non-finite actions.
 */
export type LoadPhase = 'load' | 'io-shapes' | 'warmup';

export class PolicyLoadError extends SwitchyardError {
  readonly phase: LoadPhase;
  /** The execution provider the session was created on, when it got that far. */
  readonly provider: string | undefined;
  constructor(code: ErrorCode, message: string, where: string | undefined, phase: LoadPhase, provider?: string) {
    super(code, message, where);
    this.name = 'PolicyLoadError';
    this.phase = phase;
    this.provider = provider;
  }
}

/** The phase of a load failure; anything without one happened while loading. */
export function loadPhaseOf(e: unknown): LoadPhase {
  return e instanceof PolicyLoadError ? e.phase : 'load';
}
