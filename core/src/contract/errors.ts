/**
 * Stable error codes. A code never changes meaning once shipped: scripts and the
 * workbench branch on it. Messages say what happened and what to do next.
 */
export const ErrorCodes = {
  SWY_ERR_INVALID_INPUT: 'SWY_ERR_INVALID_INPUT',
  SWY_ERR_UNKNOWN_METHOD: 'SWY_ERR_UNKNOWN_METHOD',
  SWY_ERR_NOT_FOUND: 'SWY_ERR_NOT_FOUND',
  SWY_ERR_CONFLICT: 'SWY_ERR_CONFLICT',
  SWY_ERR_NOT_SERVING: 'SWY_ERR_NOT_SERVING',
  SWY_ERR_BAD_EXPORT: 'SWY_ERR_BAD_EXPORT',
  SWY_ERR_MODEL_LOAD: 'SWY_ERR_MODEL_LOAD',
  SWY_ERR_INFERENCE: 'SWY_ERR_INFERENCE',
  SWY_ERR_WORKER_DIED: 'SWY_ERR_WORKER_DIED',
  SWY_ERR_SLOT_DRAINED: 'SWY_ERR_SLOT_DRAINED',
  SWY_ERR_STORE_NEWER_SCHEMA: 'SWY_ERR_STORE_NEWER_SCHEMA',
  SWY_ERR_STORE_CORRUPT: 'SWY_ERR_STORE_CORRUPT',
  SWY_ERR_STORE_IO: 'SWY_ERR_STORE_IO',
  SWY_ERR_CONFIG: 'SWY_ERR_CONFIG',
  SWY_ERR_VRAM: 'SWY_ERR_VRAM',
  SWY_ERR_UNAUTHORIZED: 'SWY_ERR_UNAUTHORIZED',
  SWY_ERR_FORBIDDEN_SENDER: 'SWY_ERR_FORBIDDEN_SENDER',
  SWY_ERR_INTERNAL: 'SWY_ERR_INTERNAL',
  /** A promotion without a GO verdict that still holds (current suite, rules and baseline). */
  SWY_ERR_VERDICT_REQUIRED: 'SWY_ERR_VERDICT_REQUIRED',
  /** Archiving a version the guards protect (production, or one of the last 3 that were). */
  SWY_ERR_PROTECTED_VERSION: 'SWY_ERR_PROTECTED_VERSION',
  /** A `/act` request ran past `--act-timeout-ms`; its worker was abandoned and is being replaced. */
  SWY_ERR_ACT_TIMEOUT: 'SWY_ERR_ACT_TIMEOUT',
  /** The slot has no live worker right now (one is being started and warmed); retry after `Retry-After`. */
  SWY_ERR_SLOT_RESTARTING: 'SWY_ERR_SLOT_RESTARTING',
  /** The export's bytes do not hash to the `model_hash` the registry holds for that version. */
  SWY_ERR_MODEL_MISMATCH: 'SWY_ERR_MODEL_MISMATCH',
  /** A request body larger than the route's limit (`--max-body-bytes` for `/act`). */
  SWY_ERR_BODY_TOO_LARGE: 'SWY_ERR_BODY_TOO_LARGE',
  /** An API caller named a file outside the folders the server reads from (README "Security model"). */
  SWY_ERR_PATH_NOT_ALLOWED: 'SWY_ERR_PATH_NOT_ALLOWED',
  /** The server could not be reached (connection refused, reset, or no answer): nothing happened there. */
  SWY_ERR_UNAVAILABLE: 'SWY_ERR_UNAVAILABLE',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface SwitchyardErrorShape {
  code: ErrorCode;
  message: string;
  /** Where the problem is: a field path, a file, a line/column. */
  where?: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: SwitchyardErrorShape };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail(code: ErrorCode, message: string, where?: string): { ok: false; error: SwitchyardErrorShape } {
  return { ok: false, error: where === undefined ? { code, message } : { code, message, where } };
}

/**
 * Thrown inside one process only; every process boundary (IPC, HTTP) turns it into a
 * `{ ok: false, error }` value with `toErrorShape`.
 */
export class SwitchyardError extends Error {
  readonly code: ErrorCode;
  readonly where: string | undefined;
  constructor(code: ErrorCode, message: string, where?: string) {
    super(message);
    this.name = 'SwitchyardError';
    this.code = code;
    this.where = where;
  }
}

export function toErrorShape(e: unknown): SwitchyardErrorShape {
  if (e instanceof SwitchyardError) {
    return e.where === undefined ? { code: e.code, message: e.message } : { code: e.code, message: e.message, where: e.where };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { code: ErrorCodes.SWY_ERR_INTERNAL, message: `Internal error: ${message}. This is a bug; the log has details.` };
}
