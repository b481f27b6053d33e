/**
 * How `/act` failures are told apart. The HTTP status of every code comes from the one table in
 * `contract/errors.ts` (`httpStatusFor(e, 'act')`); what serving adds is the answer's extra headers
 * (`Retry-After`, the slot that was chosen) and what a failure means for the slot.
 */
import { ErrorCodes, SwitchyardError, type ErrorCode, type Slot } from '../contract/index.js';
import type { RequestOutcome } from './metrics.js';

export interface ServingErrorDetails {
  where?: string | undefined;
  /** Seconds a client should wait before retrying: sent as `Retry-After`. */
  retryAfterSeconds?: number | undefined;
  /** The slot that was chosen for the request, when one was: sent as `X-Switchyard-Policy-Slot`. */
  slot?: Slot | undefined;
}

/** A `/act` failure with the headers its answer carries; its status is the code's (`httpStatusFor`). */
export class ServingError extends SwitchyardError {
  readonly retryAfterSeconds: number | undefined;
  readonly slot: Slot | undefined;
  constructor(code: ErrorCode, message: string, details: ServingErrorDetails = {}) {
    super(code, message, details.where);
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.slot = details.slot;
  }
}

/**
 * What a failed inference means for the slot. Only a failure of the policy itself (worker death,
 * runtime error on a valid input, non-finite output, timeout) counts toward the drain; a bad
 * request or a slot that is between workers does not.
 */
export function classifyFailure(e: unknown): { code: ErrorCode; outcome: RequestOutcome; crash: boolean; retryAfterSeconds?: number } {
  const code = e instanceof SwitchyardError ? e.code : ErrorCodes.SWY_ERR_INFERENCE;
  switch (code) {
    case ErrorCodes.SWY_ERR_INVALID_INPUT:
      return { code, outcome: 'client_error', crash: false };
    case ErrorCodes.SWY_ERR_SLOT_RESTARTING:
    case ErrorCodes.SWY_ERR_NOT_SERVING:
      return { code, outcome: 'unavailable', crash: false, retryAfterSeconds: 1 };
    case ErrorCodes.SWY_ERR_ACT_TIMEOUT:
      return { code, outcome: 'timeout', crash: true };
    default:
      return { code, outcome: 'server_error', crash: true };
  }
}
