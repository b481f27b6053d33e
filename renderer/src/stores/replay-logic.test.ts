import { describe, expect, it } from 'vitest';
import { advanceCursor, chainWords, MIN_WINDOW_MS, panWindow, stepAt, zoomWindow } from './replay-logic';

const bounds = { fromMs: 1000, toMs: 11_000 };

describe('chainWords', () => {
  it('says intact, or names the first broken record 0-based as trace verify does', () => {
    expect(chainWords({ records: 10, chain: { status: 'verified', checked: 10, firstBroken: null } }).title).toBe('Chain intact');
    const broken = chainWords({ records: 10, chain: { status: 'broken', checked: 7, firstBroken: { index: 6, line: 7, kind: 'record_hash_mismatch', reason: 'record_hash does not match' } } });
    expect(broken.title).toBe('Chain broken at record 6');
    expect(broken.detail).toMatch(/line 7/);
    expect(broken.ok).toBe(false);
  });
});

describe('zoom and pan', () => {
  it('zooms around the centre, never below the minimum window or outside the trace', () => {
    const z = zoomWindow(bounds, 0.5, 6000, bounds);
    expect(z.toMs - z.fromMs).toBe(5000);
    expect(z.fromMs).toBeLessThanOrEqual(6000);
    expect(z.toMs).toBeGreaterThanOrEqual(6000);
    let w = bounds;
    for (let i = 0; i < 40; i++) w = zoomWindow(w, 0.5, 10_990, bounds);
    expect(w.toMs - w.fromMs).toBe(MIN_WINDOW_MS);
    expect(w.toMs).toBeLessThanOrEqual(bounds.toMs);
    expect(zoomWindow(w, 1000, 5000, bounds)).toEqual(bounds);
  });

  it('pans within the trace', () => {
    const w = { fromMs: 2000, toMs: 4000 };
    expect(panWindow(w, -5000, bounds)).toEqual({ fromMs: 1000, toMs: 3000 });
    expect(panWindow(w, 50_000, bounds)).toEqual({ fromMs: 9000, toMs: 11_000 });
  });
});

describe('advanceCursor', () => {
  it('moves by wall time times speed and stops at the end; max plays the trace in 10 s', () => {
    expect(advanceCursor(1000, 100, 10, bounds)).toEqual({ cursorMs: 2000, done: false });
    expect(advanceCursor(10_900, 100, 100, bounds)).toEqual({ cursorMs: 11_000, done: true });
    expect(advanceCursor(1000, 5000, 'max', bounds).cursorMs).toBe(6000);
  });
});

describe('stepAt', () => {
  const steps = [10, 20, 30].map((tMs, i) => ({ index: i, seq: i, tMs, requestId: null, slot: null, latencyMs: null, cache: null, error: null, state: null, action: null }));
  it('finds the last step at or before a moment, clamped to the episode', () => {
    expect(stepAt(steps, 5)).toBe(0);
    expect(stepAt(steps, 20)).toBe(1);
    expect(stepAt(steps, 29)).toBe(1);
    expect(stepAt(steps, 99)).toBe(2);
    expect(stepAt([], 10)).toBe(-1);
  });
});
