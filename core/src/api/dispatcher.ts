import type { z } from 'zod';
import {
  ErrorCodes,
  fail,
  isMethodName,
  methods,
  ok,
  toErrorShape,
  type MethodName,
  type MethodOutput,
  type Methods,
  type Result,
} from '../contract/index.js';

import { runAsCaller, type CallContext } from '../platform/call-context.js';

export type { CallContext } from '../platform/call-context.js';

/**
 * Checks a call from outside the process before it runs (the path roots) and cleans what its
 * error may tell that caller. Given by the engine; absent in tests of the dispatcher alone.
 */
export interface CallGuard {
  /** Throws to refuse; may return the input to use instead (paths resolved) and the files it names. */
  before(method: MethodName, input: Record<string, unknown>): { input: Record<string, unknown>; files: string[] };
  /** The error the caller sees. */
  error(method: MethodName, e: unknown, files: readonly string[]): ReturnType<typeof toErrorShape>;
}

export type Handlers = {
  [M in MethodName]: (input: z.infer<Methods[M]['input']>) => Promise<MethodOutput<M>> | MethodOutput<M>;
};

/** Formats the first zod issue as "field: problem" with the field path in `where`. */
export function describeZodError(error: z.ZodError): { message: string; where: string } {
  const issue = error.issues[0];
  const where = issue && issue.path.length ? issue.path.map(String).join('.') : 'input';
  const message = error.issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : 'input'}: ${i.message}`).join('; ');
  return { message, where };
}

/**
 * The one entry point every transport calls. It checks the method and the input against
 * the contract, runs the handler, checks the output, and turns any throw into an error value.
 */
export class ApiDispatcher {
  private guard: CallGuard | null = null;

  constructor(private readonly handlers: Handlers) {}

  setGuard(guard: CallGuard): void {
    this.guard = guard;
  }

  /**
   * `ctx` names an outside caller (HTTP, IPC): its paths are checked against the roots, its errors
   * cleaned of file content, and the audit log records it. Without `ctx`, an in-process call.
   */
  async call(method: string, input: unknown, ctx?: CallContext): Promise<Result<unknown>> {
    if (!isMethodName(method)) {
      return fail(ErrorCodes.SWY_ERR_UNKNOWN_METHOD, `Unknown method "${method}". The contract has: ${Object.keys(methods).join(', ')}.`, 'method');
    }
    const spec = methods[method];
    const parsed = spec.input.safeParse(input ?? {});
    if (!parsed.success) {
      const { message, where } = describeZodError(parsed.error);
      return fail(ErrorCodes.SWY_ERR_INVALID_INPUT, `Invalid input for ${method}: ${message}`, where);
    }
    let files: string[] = [];
    try {
      const handler = this.handlers[method] as (i: unknown) => unknown;
      let data = parsed.data as Record<string, unknown>;
      if (ctx && this.guard) ({ input: data, files } = this.guard.before(method, data));
      const claimed = typeof data['actor'] === 'string' ? data['actor'] : null;
      const value = ctx ? await runAsCaller({ caller: ctx.caller, claimedBy: claimed }, () => handler(data)) : await handler(data);
      const checked = spec.output.safeParse(value);
      if (!checked.success) {
        const { message } = describeZodError(checked.error);
        return fail(ErrorCodes.SWY_ERR_INTERNAL, `The engine answered ${method} with data that breaks the contract (${message}). This is a bug.`);
      }
      return ok(checked.data);
    } catch (e) {
      return { ok: false, error: ctx && this.guard ? this.guard.error(method, e, files) : toErrorShape(e) };
    }
  }
}
