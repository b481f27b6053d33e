import type { SwitchyardErrorShape } from '@contract';

/** What the operator was doing when the error came back. */
export type ErrorContext = 'load' | 'split' | 'restore';

/**
 * What to do about an error, when its message does not already say: one sentence an operator can
 * act on, chosen by the stable code (and, for a few, what was being done). Null when there is
 * nothing useful to add.
 */
export function errorHint(error: SwitchyardErrorShape, context: ErrorContext = 'load'): string | null {
  switch (error.code) {
    case 'SWY_ERR_UNAUTHORIZED':
      return 'Open the exact URL `switchyard console` printed (it carries ?token=…); a bookmark without the token is refused.';
    case 'SWY_ERR_NOT_SERVING':
      return context === 'split'
        ? 'Splitting needs two-policy mode: restart with `switchyard console --policy-a POLICY@production --policy-b POLICY@LABEL --no-rtc`.'
        : 'Nothing is being served: start serving with `switchyard serve …`, or open the console with two policies.';
    case 'SWY_ERR_SLOT_DRAINED':
      return 'The slot was drained after repeated failures: use “Restore” on its card once the cause is fixed.';
    case 'SWY_ERR_STORE_IO':
      return 'The store could not be read or written: check the disk has space and the data folder is writable, then Retry.';
    case 'SWY_ERR_STORE_CORRUPT':
    case 'SWY_ERR_STORE_NEWER_SCHEMA':
      return 'The store was left untouched. Open it with the Switchyard version that wrote it, or point the console at another store (--store).';
    case 'SWY_ERR_INVALID_INPUT':
      return context === 'split' ? 'The split is a whole percent from 0 to 100 of new episodes sent to slot A.' : 'Fix the value named above and try again.';
    case 'SWY_ERR_CONFLICT':
      return 'Someone else changed this at the same time: Retry reads the current state.';
    case 'SWY_ERR_UNAVAILABLE':
      return 'The workbench keeps reconnecting by itself. If the server was stopped, start it again (`switchyard console`) and this page picks it up.';
    case 'SWY_ERR_INTERNAL':
      if (/Cannot reach|did not answer|connection .* broke/.test(error.message)) {
        return 'The workbench keeps reconnecting by itself. If the server was stopped, start it again (`switchyard console`) and this page picks it up.';
      }
      return 'This is a bug: the server log has the details (search for the time above). Retry may work.';
    default:
      return null;
  }
}
