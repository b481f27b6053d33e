import type { ServingState } from '@contract';
import { effectiveShare, splitCauseText } from '../serving-view';

/**
 * What the split is, why, and what it means now: the configured split next to the share each slot
 * really gets (a drained slot gets none), and the cause of the last change (an operator, a
 * rollback, a promotion, the canary), with whether running episodes moved too.
 */
export function SplitCause({ state }: { state: ServingState }) {
  if (state.mode !== 'ab') return null;
  const eff = effectiveShare(state);
  const change = state.lastSplitChange ?? null;
  return (
    <div className="split-cause" role="status" aria-label="Split in effect">
      <p>
        <strong>Configured</strong> A {state.split}% / B {100 - state.split}% ·{' '}
        <strong className={eff.why ? 'effective-differs' : undefined}>Effective</strong> A {eff.a}% / B {eff.b}%
        {eff.why && <span className="effective-why"> ({eff.why})</span>}
      </p>
      {change && <p className={`split-change cause-${change.cause}`}>{splitCauseText(change)}</p>}
    </div>
  );
}
