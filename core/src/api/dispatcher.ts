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
  constructor(private readonly handlers: Handlers) {}

  async call(method: string, input: unknown): Promise<Result<unknown>> {
    if (!isMethodName(method)) {
      return fail(ErrorCodes.SWY_ERR_UNKNOWN_METHOD, `Unknown method "${method}". The contract has: ${Object.keys(methods).join(', ')}.`, 'method');
    }
    const spec = methods[method];
    const parsed = spec.input.safeParse(input ?? {});
    if (!parsed.success) {
      const { message, where } = describeZodError(parsed.error);
      return fail(ErrorCodes.SWY_ERR_INVALID_INPUT, `Invalid input for ${method}: ${message}`, where);
    }
    try {
      const handler = this.handlers[method] as (i: unknown) => unknown;
      const value = await handler(parsed.data);
      const checked = spec.output.safeParse(value);
      if (!checked.success) {
        const { message } = describeZodError(checked.error);
        return fail(ErrorCodes.SWY_ERR_INTERNAL, `The engine answered ${method} with data that breaks the contract (${message}). This is a bug.`);
      }
      return ok(checked.data);
    } catch (e) {
      return { ok: false, error: toErrorShape(e) };
    }
  }
}
