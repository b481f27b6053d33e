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

/**
 * The HTTP status of each code: the one table every route answers from (`/api/<method>`, replay
 * uploads, the control and page checks, `POST /act` and the reference client's routes beside it).
 * Like fastify's `lib/errors.js`, the status sits on the code, so a new code cannot ship without one.
 *
 * `act` is the status `POST /act` (and the reference-compat hooks on it) answers instead, where a
 * robot client relies on a different one:
 * - `SWY_ERR_INVALID_INPUT` is 422 on `/act` when the body is a JSON object but a field is wrong
 *   (the field is in `where`). A body that is not a JSON object at all (not JSON, nested too deep,
 *   an array) is answered as on every route, 400: `serve/act-request.ts` raises those as
 *   `UnreadableActBody` and the `/act` route asks this table for the `api` column.
 * - `SWY_ERR_NOT_SERVING` is 503 + `Retry-After` on `/act` (a robot waits and retries while a policy
 *   loads); on the control API it is 409 (the operation needs a serving engine).
 * A 500 marks a failure of the server or of the policy itself, never of the caller's request.
 * Fastify's own client errors (unsupported media type, a body over the control API's limit) keep
 * fastify's status; their code is `SWY_ERR_INVALID_INPUT`.
 */
export const ERROR_HTTP_STATUS: { readonly [C in ErrorCode]: { readonly status: number; readonly act?: number } } = {
  SWY_ERR_INVALID_INPUT: { status: 400, act: 422 },
  SWY_ERR_UNKNOWN_METHOD: { status: 404 },
  SWY_ERR_NOT_FOUND: { status: 404 },
  SWY_ERR_CONFLICT: { status: 409 },
  SWY_ERR_NOT_SERVING: { status: 409, act: 503 },
  SWY_ERR_BAD_EXPORT: { status: 500 },
  SWY_ERR_MODEL_LOAD: { status: 500 },
  SWY_ERR_INFERENCE: { status: 500 },
  SWY_ERR_WORKER_DIED: { status: 500 },
  SWY_ERR_SLOT_DRAINED: { status: 503 },
  SWY_ERR_STORE_NEWER_SCHEMA: { status: 500 },
  SWY_ERR_STORE_CORRUPT: { status: 500 },
  SWY_ERR_STORE_IO: { status: 500 },
  SWY_ERR_CONFIG: { status: 400 },
  SWY_ERR_VRAM: { status: 500 },
  SWY_ERR_UNAUTHORIZED: { status: 401 },
  SWY_ERR_FORBIDDEN_SENDER: { status: 403 },
  SWY_ERR_INTERNAL: { status: 500 },
  SWY_ERR_VERDICT_REQUIRED: { status: 409 },
  SWY_ERR_PROTECTED_VERSION: { status: 409 },
  SWY_ERR_ACT_TIMEOUT: { status: 504 },
  SWY_ERR_SLOT_RESTARTING: { status: 503 },
  SWY_ERR_MODEL_MISMATCH: { status: 409 },
  SWY_ERR_BODY_TOO_LARGE: { status: 413 },
  SWY_ERR_PATH_NOT_ALLOWED: { status: 403 },
  // Raised by clients when the server cannot be reached; a server never answers it.
  SWY_ERR_UNAVAILABLE: { status: 500 },
};

/** Which table column a route answers from: `act` for `POST /act`, `api` for every other route. */
export type ErrorRoute = 'api' | 'act';

/** The HTTP status for an error (a `SwitchyardError` or its shape) on `route`, from `ERROR_HTTP_STATUS`. */
export function httpStatusFor(e: { readonly code: ErrorCode }, route: ErrorRoute = 'api'): number {
  // A code from outside this build (a newer worker, a hand-made shape) is a server-side failure.
  const row = ERROR_HTTP_STATUS[e.code] as (typeof ERROR_HTTP_STATUS)[ErrorCode] | undefined;
  if (row === undefined) return 500;
  if (route === 'act' && row.act !== undefined) return row.act;
  return row.status;
}

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
