import { describe, expect, it } from 'vitest';
import { ERROR_HTTP_STATUS, ErrorCodes, httpStatusFor, SwitchyardError, toErrorShape, type ErrorCode } from './errors.js';

const codes = Object.values(ErrorCodes);

// The statuses clients saw before the table existed (the control API's map, 500 for codes it did not
// list, and what `/act` answered): scripts, the CLI and the Python client branch on them.
const API: Record<ErrorCode, number> = {
  SWY_ERR_INVALID_INPUT: 400,
  SWY_ERR_UNKNOWN_METHOD: 404,
  SWY_ERR_NOT_FOUND: 404,
  SWY_ERR_CONFLICT: 409,
  SWY_ERR_NOT_SERVING: 409,
  SWY_ERR_BAD_EXPORT: 500,
  SWY_ERR_MODEL_LOAD: 500,
  SWY_ERR_INFERENCE: 500,
  SWY_ERR_WORKER_DIED: 500,
  SWY_ERR_SLOT_DRAINED: 503,
  SWY_ERR_STORE_NEWER_SCHEMA: 500,
  SWY_ERR_STORE_CORRUPT: 500,
  SWY_ERR_STORE_IO: 500,
  SWY_ERR_CONFIG: 400,
  SWY_ERR_VRAM: 500,
  SWY_ERR_UNAUTHORIZED: 401,
  SWY_ERR_FORBIDDEN_SENDER: 403,
  SWY_ERR_INTERNAL: 500,
  SWY_ERR_VERDICT_REQUIRED: 409,
  SWY_ERR_PROTECTED_VERSION: 409,
  SWY_ERR_ACT_TIMEOUT: 504,
  SWY_ERR_SLOT_RESTARTING: 503,
  SWY_ERR_MODEL_MISMATCH: 409,
  SWY_ERR_BODY_TOO_LARGE: 413,
  SWY_ERR_PATH_NOT_ALLOWED: 403,
  SWY_ERR_UNAVAILABLE: 500,
};
const ACT_DIFFERS: Partial<Record<ErrorCode, number>> = { SWY_ERR_INVALID_INPUT: 422, SWY_ERR_NOT_SERVING: 503 };

describe('the error table', () => {
  it('gives every code a status, and nothing else', () => {
    expect(Object.keys(ERROR_HTTP_STATUS).sort()).toEqual([...codes].sort());
    for (const code of codes) {
      const { status } = ERROR_HTTP_STATUS[code];
      expect(Number.isInteger(status) && status >= 400 && status < 600, code).toBe(true);
    }
  });

  it('answers the control API with the status each code always had', () => {
    for (const code of codes) expect(httpStatusFor({ code }), code).toBe(API[code]);
  });

  it('says where /act answers differently, and only there', () => {
    for (const code of codes) expect(httpStatusFor({ code }, 'act'), code).toBe(ACT_DIFFERS[code] ?? API[code]);
    // The case the review found: one code, two statuses, now written down in one place.
    expect(httpStatusFor(new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, 'state: must be an array', 'state'), 'api')).toBe(400);
    expect(httpStatusFor(new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, 'state: must be an array', 'state'), 'act')).toBe(422);
  });

  it('answers an error that is not a SwitchyardError, or a code from outside this build, with 500', () => {
    expect(httpStatusFor(toErrorShape(new Error('boom')))).toBe(500);
    expect(httpStatusFor({ code: 'SWY_ERR_FROM_THE_FUTURE' as ErrorCode }, 'act')).toBe(500);
  });
});
