/**
 * Pure helpers of the Replay page (tested without a DOM): the chain in plain words, zoom and pan
 * of the time window, the scrubber's playback step, and finding the recorded step at a moment.
 */
import type { ReplayStep, ReplaySummary } from '@contract';

export type Speed = 1 | 10 | 100 | 'max';
export const SPEEDS: readonly Speed[] = [1, 10, 100, 'max'];
/** `max` plays the whole trace in this long. */
export const MAX_SPEED_TRACE_MS = 10_000;

/** `Chain intact` / `Chain broken at record N` (0-based, as `switchyard trace verify` says it), and what it means. */
export function chainWords(s: Pick<ReplaySummary, 'chain' | 'records'>): { title: string; detail: string; ok: boolean | null } {
  const c = s.chain;
  if (c.status === 'verified') {
    return { title: 'Chain intact', detail: `All ${c.checked.toLocaleString('en-US')} records verify: none was changed, removed or reordered since it was written.`, ok: true };
  }
  if (c.status === 'broken' && c.firstBroken) {
    return {
      title: `Chain broken at record ${c.firstBroken.index}`,
      detail: `Record ${c.firstBroken.index} (line ${c.firstBroken.line}) ${c.firstBroken.reason}. The records before it are as written; from it on, the trace was changed, truncated or spliced after recording, so treat what follows as untrusted.`,
      ok: false,
    };
  }
  return { title: 'Chain not checked', detail: 'The hash chain was not checked for this trace.', ok: null };
}

export interface TimeWindow {
  fromMs: number;
  toMs: number;
}

/** The smallest window a zoom reaches (the fine timeline's resolution shows no more below it). */
export const MIN_WINDOW_MS = 50;

/** Zooms around `centerMs` by `factor` (< 1 zooms in), kept inside `bounds`. */
export function zoomWindow(w: TimeWindow, factor: number, centerMs: number, bounds: TimeWindow): TimeWindow {
  const full = bounds.toMs - bounds.fromMs;
  let span = Math.min(full, Math.max(MIN_WINDOW_MS, (w.toMs - w.fromMs) * factor));
  if (!(span > 0)) span = full;
  const c = Math.min(bounds.toMs, Math.max(bounds.fromMs, centerMs));
  const frac = w.toMs > w.fromMs ? (c - w.fromMs) / (w.toMs - w.fromMs) : 0.5;
  return clampWindow({ fromMs: c - frac * span, toMs: c - frac * span + span }, bounds);
}

/** Moves the window by `deltaMs`, kept inside `bounds`. */
export function panWindow(w: TimeWindow, deltaMs: number, bounds: TimeWindow): TimeWindow {
  return clampWindow({ fromMs: w.fromMs + deltaMs, toMs: w.toMs + deltaMs }, bounds);
}

export function clampWindow(w: TimeWindow, bounds: TimeWindow): TimeWindow {
  const span = Math.min(w.toMs - w.fromMs, bounds.toMs - bounds.fromMs);
  let from = w.fromMs;
  if (from < bounds.fromMs) from = bounds.fromMs;
  if (from + span > bounds.toMs) from = bounds.toMs - span;
  return { fromMs: from, toMs: from + span };
}

/** Where the cursor is after `elapsedMs` of wall time at `speed`; `done` at the end of the trace. */
export function advanceCursor(cursorMs: number, elapsedMs: number, speed: Speed, bounds: TimeWindow): { cursorMs: number; done: boolean } {
  const rate = speed === 'max' ? Math.max(1, (bounds.toMs - bounds.fromMs) / MAX_SPEED_TRACE_MS) : speed;
  const next = cursorMs + elapsedMs * rate;
  if (next >= bounds.toMs) return { cursorMs: bounds.toMs, done: true };
  return { cursorMs: Math.max(bounds.fromMs, next), done: false };
}

/** The last step recorded at or before `tMs` (the first step before the episode starts). */
export function stepAt(steps: readonly ReplayStep[], tMs: number | null): number {
  if (steps.length === 0) return -1;
  if (tMs === null) return 0;
  let lo = 0;
  let hi = steps.length - 1;
  if ((steps[0]!.tMs ?? -Infinity) > tMs) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((steps[mid]!.tMs ?? -Infinity) <= tMs) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function formatMs(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '—';
  return v >= 100 ? `${v.toFixed(0)} ms` : v >= 10 ? `${v.toFixed(1)} ms` : `${v.toFixed(2)} ms`;
}

export function formatPercent(v: number | null): string {
  return v === null || !Number.isFinite(v) ? '—' : `${(v * 100).toFixed(1)}%`;
}

/** Time of day with milliseconds (UTC), for cursor and hover labels. */
export function formatInstant(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '—';
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC');
}
