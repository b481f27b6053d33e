import type { ServingEvent, ServingEventKind, ServingState, SplitChange } from '@contract';
import { formatClock, zoneName } from './format';

/** The share of new episodes each slot really gets now: the configured split, corrected for drains. */
export interface EffectiveShare {
  a: number;
  b: number;
  /** Why it differs from the configured split; null when it does not. */
  why: string | null;
}

export function effectiveShare(state: Pick<ServingState, 'split' | 'drain'>): EffectiveShare {
  switch (state.drain) {
    case 'drain-a':
      return { a: 0, b: 100, why: 'slot A is drained' };
    case 'drain-b':
      return { a: 100, b: 0, why: 'slot B is drained' };
    case 'degraded':
      return { a: 0, b: 0, why: 'both slots are drained: /act answers 503' };
    default:
      return { a: state.split, b: 100 - state.split, why: null };
  }
}

const CAUSE_WORD: Record<SplitChange['cause'], string> = {
  start: 'serving started',
  operator: 'an operator',
  rollback: 'a rollback',
  promote: 'a promotion',
  canary: 'the canary',
};

/** "Set by a rollback at 14:03:07 UTC (rollback of cartpole-balance to 1.0.0): every request …" */
export function splitCauseText(change: SplitChange): string {
  const when = formatClockZone(change.at);
  const detail = change.cause === 'operator' && /^set by an operator$/.test(change.detail) ? '' : `: ${change.detail}`;
  const head = change.cause === 'start' ? `Split as served at start (${when})` : `Split set by ${CAUSE_WORD[change.cause]} at ${when}${detail}`;
  const tail = change.allEpisodes
    ? 'Every request goes by this split now, episodes that were already running included.'
    : 'It applies to new episodes; episodes already running keep their slot.';
  return `${head}. ${tail}`;
}

/** `14:03:07 UTC`: a clock time with the viewer's time zone named. */
export function formatClockZone(iso: string): string {
  return `${formatClock(iso)} ${zoneName(new Date(iso))}`;
}

export const EVENT_STYLE: Record<ServingEventKind, { color: string; short: string; label: string }> = {
  start: { color: '#6b7280', short: 'start', label: 'Serving started (restart)' },
  deploy: { color: '#7c3aed', short: 'deploy', label: 'Slot version changed' },
  split: { color: '#2563eb', short: 'split', label: 'Split changed' },
  drain: { color: '#dc2626', short: 'drain', label: 'Slot drained' },
  restore: { color: '#16a34a', short: 'restore', label: 'Slot restored' },
  rollback: { color: '#ea580c', short: 'rollback', label: 'Rollback' },
  promote: { color: '#0d9488', short: 'promote', label: 'Promotion to production' },
  canary: { color: '#ca8a04', short: 'canary', label: 'Canary step' },
};

export interface EventMarker {
  t: number;
  kind: ServingEventKind;
  message: string;
  id: number;
  /** The label drawn: the kind, or several kinds when events fall on the same spot (`split·promote`). */
  label?: string;
}

/** Markers closer than `minGapMs` become one (labelled with every kind), so labels never overlap. */
export function groupMarkers(markers: readonly EventMarker[], minGapMs: number): EventMarker[] {
  const out: EventMarker[] = [];
  for (const m of markers) {
    const last = out[out.length - 1];
    if (last !== undefined && m.t - last.t < minGapMs) {
      const kinds = new Set((last.label ?? EVENT_STYLE[last.kind].short).split('·'));
      kinds.add(EVENT_STYLE[m.kind].short);
      // The most telling kind keeps the colour: a rollback or drain over the split it caused.
      const rank = (k: ServingEventKind) => ['split', 'start', 'deploy', 'canary', 'restore', 'promote', 'rollback', 'drain'].indexOf(k);
      out[out.length - 1] = { ...last, kind: rank(m.kind) > rank(last.kind) ? m.kind : last.kind, label: [...kinds].join('·') };
    } else out.push({ ...m, label: EVENT_STYLE[m.kind].short });
  }
  return out;
}

/** The events inside [from, to] as chart markers, oldest first. */
export function markersIn(events: readonly ServingEvent[], from: number, to: number): EventMarker[] {
  const out: EventMarker[] = [];
  for (const e of events) {
    const t = Date.parse(e.at);
    if (t >= from && t <= to) out.push({ t, kind: e.kind, message: e.message, id: e.id });
  }
  return out;
}
