import type { DrainState, ServingState } from '@contract';
import { formatClockZone } from '../serving-view';

const DRAIN_TEXT: Record<Exclude<DrainState, 'none'>, string> = {
  'drain-a': 'Slot A is drained after repeated failures: every request goes to slot B.',
  'drain-b': 'Slot B is drained after repeated failures: every request goes to slot A.',
  degraded: 'Every slot is drained: /act answers 503 with Retry-After until a slot is restored.',
};

/** The drain, where an operator looks at numbers (Live): what it means for traffic, and the drained slots' last errors. */
export function DrainBanner({ state }: { state: ServingState }) {
  if (state.drain === 'none') return null;
  const drained = state.slots.filter((s) => s.drained);
  return (
    <div className="banner banner-warning drain-banner" role="status" aria-label="Drain">
      <p>
        {DRAIN_TEXT[state.drain]} Restore it on the <a href="#/traffic">Traffic</a> page.
      </p>
      {drained.map((s) =>
        s.lastError ? (
          <p key={s.slot} className="muted">
            Slot {s.slot.toUpperCase()} last failed at {formatClockZone(s.lastError.at)} ({s.lastError.crash ? 'worker crash' : 'request failure'}): <code>{s.lastError.code}</code> {s.lastError.message}
          </p>
        ) : null,
      )}
    </div>
  );
}
