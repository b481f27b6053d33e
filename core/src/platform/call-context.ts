/**
 * Who is calling the contract, carried through one call (and whatever it starts) so that the audit
 * log can record the authenticated caller beside the name the caller claims (`actor`).
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface CallContext {
  /** `desktop` (the app's own window over IPC), `cli`, or `token:<label>` (an HTTP caller). */
  caller: string;
  /**
   * The `actor` the caller put in its input (null: none), recorded as `claimed_by`. Undefined:
   * the actor the code passes is the claim (the CLI passes $USER).
   */
  claimedBy?: string | null;
}

const storage = new AsyncLocalStorage<CallContext>();

export function runAsCaller<T>(ctx: CallContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

export function currentCaller(): CallContext | undefined {
  return storage.getStore();
}

/**
 * The audit row's `actor` and `claimed_by`: inside an API call, the authenticated caller and the
 * name it gave; outside one (local CLI, the engine's own timers), the actor as given.
 */
export function auditIdentity(actor: string): { actor: string; claimedBy: string | null } {
  const ctx = storage.getStore();
  if (!ctx) return { actor, claimedBy: null };
  if (ctx.claimedBy !== undefined) return { actor: ctx.caller, claimedBy: ctx.claimedBy };
  return { actor: ctx.caller, claimedBy: actor === ctx.caller ? null : actor };
}
