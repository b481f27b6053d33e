import { describe, expect, it } from 'vitest';
import { errorHint } from './error-hints';

describe('errorHint', () => {
  it('tells a refused split in single-policy mode how to get two policies', () => {
    const hint = errorHint({ code: 'SWY_ERR_NOT_SERVING', message: 'not in two-policy mode' }, 'split');
    expect(hint).toContain('--policy-a');
    expect(hint).toContain('--no-rtc');
  });

  it('says the workbench reconnects when the server cannot be reached', () => {
    expect(errorHint({ code: 'SWY_ERR_INTERNAL', message: 'Cannot reach the Switchyard server at http://127.0.0.1:1; is it running?' })).toContain('reconnecting');
  });

  it('calls any other internal error a bug and points at the log', () => {
    expect(errorHint({ code: 'SWY_ERR_INTERNAL', message: 'Internal error: x' })).toContain('server log');
  });

  it('points a missing token at the printed URL', () => {
    expect(errorHint({ code: 'SWY_ERR_UNAUTHORIZED', message: 'refused' })).toContain('?token=');
  });

  it('adds nothing for a code whose message already says what to do', () => {
    expect(errorHint({ code: 'SWY_ERR_VERDICT_REQUIRED', message: 'run the gate' })).toBeNull();
  });
});
