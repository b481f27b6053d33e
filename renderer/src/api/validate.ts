import {
  ErrorCodes,
  events,
  methods,
  type ErrorCode,
  type EventName,
  type EventPayload,
  type MethodName,
  type MethodOutput,
  type Result,
  type SwitchyardErrorShape,
} from '@contract';

/**
 * Validation at the transport: nothing reaches a store unless it matches the contract's schemas.
 * Both transports (HTTP and IPC) use these helpers so they reject bad data the same way.
 */

interface IssueLike {
  path: ReadonlyArray<PropertyKey>;
  message: string;
}

const KNOWN_CODES = new Set<string>(Object.values(ErrorCodes));

export function internalError(message: string, where?: string): { ok: false; error: SwitchyardErrorShape } {
  return {
    ok: false,
    error: where === undefined ? { code: ErrorCodes.SWY_ERR_INTERNAL, message } : { code: ErrorCodes.SWY_ERR_INTERNAL, message, where },
  };
}

/** `slots.0.rps: Expected number, received string; split: Too big` (at most three issues). */
export function describeIssues(issues: ReadonlyArray<IssueLike>): { text: string; where: string | undefined } {
  const shown = issues.slice(0, 3).map((issue) => {
    const path = issue.path.map(String).join('.');
    return path === '' ? issue.message : `${path}: ${issue.message}`;
  });
  const more = issues.length > 3 ? ` (and ${issues.length - 3} more)` : '';
  const first = issues[0];
  const where = first && first.path.length > 0 ? first.path.map(String).join('.') : undefined;
  return { text: shown.join('; ') + more, where };
}

/** Checks an input against the method's input schema before it leaves the workbench. */
export function checkInput(method: MethodName, input: unknown): SwitchyardErrorShape | null {
  const parsed = methods[method].input.safeParse(input);
  if (parsed.success) return null;
  const { text, where } = describeIssues(parsed.error.issues);
  const message = `The workbench built an invalid ${method} request: ${text}.`;
  return where === undefined
    ? { code: ErrorCodes.SWY_ERR_INVALID_INPUT, message }
    : { code: ErrorCodes.SWY_ERR_INVALID_INPUT, message, where };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Turns whatever came back for `method` into a typed Result: the envelope must be a Switchyard
 * Result and an `ok` value must match the method's output schema. `source` names the other end
 * in messages ("the Switchyard server at http://...", "the desktop bridge").
 */
export function toResult<M extends MethodName>(method: M, raw: unknown, source: string): Result<MethodOutput<M>> {
  if (!isRecord(raw) || typeof raw.ok !== 'boolean') {
    return internalError(
      `${source} answered ${method} with something that is not a Switchyard result. ` +
        'Check that the workbench and the server are the same Switchyard version.',
    );
  }
  if (raw.ok === false) {
    const error = raw.error;
    if (!isRecord(error) || typeof error.message !== 'string' || typeof error.code !== 'string') {
      return internalError(`${source} reported a failure of ${method} without a readable error.`);
    }
    const where = typeof error.where === 'string' ? error.where : undefined;
    if (!KNOWN_CODES.has(error.code)) {
      return internalError(`${error.message} (unknown error code ${error.code} from ${source})`, where);
    }
    const code = error.code as ErrorCode;
    return { ok: false, error: where === undefined ? { code, message: error.message } : { code, message: error.message, where } };
  }
  const parsed = methods[method].output.safeParse(raw.value);
  if (!parsed.success) {
    const { text, where } = describeIssues(parsed.error.issues);
    return internalError(
      `${source} answered ${method} with data the workbench does not understand: ${text}. ` +
        'Check that the workbench and the server are the same Switchyard version.',
      where,
    );
  }
  return { ok: true, value: parsed.data as MethodOutput<M> };
}

/** Validates an event payload against the contract's event schema. */
export function parseEvent<E extends EventName>(event: E, payload: unknown, source: string): Result<EventPayload<E>> {
  const parsed = events[event].safeParse(payload);
  if (!parsed.success) {
    const { text, where } = describeIssues(parsed.error.issues);
    return internalError(`${source} pushed a ${event} event the workbench does not understand: ${text}. It was ignored.`, where);
  }
  return { ok: true, value: parsed.data as EventPayload<E> };
}
