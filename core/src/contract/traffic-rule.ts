import type { ServingState, Slot, Stage } from './schemas.js';

/**
 * The one rule for what a stage change does to a running server (issue 12), shared by the
 * lifecycle runtime (which acts on it) and the workbench's confirmation (which states it before
 * the operator confirms):
 *
 * - Only a change of production moves traffic (a promotion to production, a rollback); staging,
 *   candidate and archive moves never do.
 * - Single-policy mode serving `POLICY@production`: the slot follows production (warm swap).
 * - Two-policy mode where one slot serves the new production version and the other the version it
 *   replaces: every request, episodes in progress included, goes to the new production's slot.
 * - Anything else moves nothing, and says why.
 */
export interface TrafficEffect {
  moves: boolean;
  /** The slot that will serve the new production version. */
  slot: Slot | null;
  /** `swap` (single-policy mode), `route-all` (two-policy mode), `none`. */
  how: 'swap' | 'route-all' | 'none';
  /** One sentence for the confirmation and the result. */
  text: string;
}

export interface StageChangeForTraffic {
  policy: string;
  /** Where the version goes; a rollback is a move to production. */
  to: Stage;
  /** The version that becomes production (`policy@label`). */
  version: string;
  /** The production version it replaces (`policy@label`), null when none. */
  replaced: string | null;
}

const slotWord = (s: Slot): string => (s === 'prod' ? 'Prod' : s === 'shadow' ? 'Shadow' : s.toUpperCase());

export function stageChangeTrafficEffect(state: ServingState | null, change: StageChangeForTraffic): TrafficEffect {
  const none = (text: string): TrafficEffect => ({ moves: false, slot: null, how: 'none', text });
  if (change.to !== 'production') return none(`Traffic does not move: only a change of production moves traffic, and ${change.version} goes to ${change.to}.`);
  if (state === null || state.mode === 'off') return none('Traffic does not move: this server serves no policy. The change applies to the store only.');
  if (state.mode === 'single') {
    if (state.followsProduction === change.policy) {
      return { moves: true, slot: 'prod', how: 'swap', text: `Traffic moves at once: slot Prod switches to ${change.version} (requests in flight finish on the old version).` };
    }
    const served = state.slots.find((s) => s.slot === 'prod')?.versionRef ?? 'another version';
    return none(`Traffic does not move: slot Prod serves ${served} as given at start, not ${change.policy}@production. Restart serving to pick up the new production.`);
  }
  const a = state.slots.find((s) => s.slot === 'a')?.versionRef ?? null;
  const b = state.slots.find((s) => s.slot === 'b')?.versionRef ?? null;
  const target: 'a' | 'b' | null = a === change.version && b === change.replaced ? 'a' : b === change.version && a === change.replaced ? 'b' : null;
  if (target !== null && change.replaced !== null) {
    return {
      moves: true,
      slot: target,
      how: 'route-all',
      text: `Traffic moves at once: every request, episodes in progress included, goes to slot ${slotWord(target)} (${change.version}); the split becomes ${target === 'a' ? '100/0' : '0/100'}.`,
    };
  }
  return none(
    `Traffic does not move: slot A serves ${a ?? 'nothing'} and slot B ${b ?? 'nothing'}, not ${change.version} beside ${change.replaced ?? 'a production version'}. Set the split on the Traffic page yourself.`,
  );
}
