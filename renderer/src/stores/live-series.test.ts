// @vitest-environment node
import { describe, expect, it } from 'vitest';
import type { ServingStats, Slot, SlotStats } from '@contract';
import {
  aggregateSlot,
  bucketize,
  chartRows,
  counterDelta,
  createWindowSelector,
  currentValues,
  derivePoint,
  derivePoints,
  hitRate,
  sliceWindow,
  timeWindow,
  TIME_WINDOWS,
  windowSeries,
  type LivePoint,
} from './live-series';

const T0 = Date.parse('2025-01-01T00:00:00.000Z');
const at = (ms: number): string => new Date(T0 + ms).toISOString();

function slotStats(slot: Slot, overrides: Partial<SlotStats> = {}): SlotStats {
  return { slot, requests: 0, errors: 0, rps: 0, p50Ms: null, p99Ms: null, cacheHits: 0, cacheMisses: 0, inFlight: 0, ...overrides };
}

function sample(ms: number, slots: SlotStats[], windowMs = 500): ServingStats {
  return { at: at(ms), windowMs, slots };
}

/** `n` samples every 500 ms of one slot whose counters grow steadily. */
function steady(n: number, slot: Slot = 'a', perSample = { requests: 10, errors: 1, hits: 6, misses: 4 }): ServingStats[] {
  return Array.from({ length: n }, (_, i) =>
    sample(i * 500, [
      slotStats(slot, {
        requests: perSample.requests * (i + 1),
        errors: perSample.errors * (i + 1),
        cacheHits: perSample.hits * (i + 1),
        cacheMisses: perSample.misses * (i + 1),
        rps: perSample.requests * 2,
        p50Ms: 1,
        p99Ms: 2 + i,
        inFlight: i % 3,
      }),
    ]),
  );
}

describe('deltas of cumulative counters', () => {
  it('is the difference, and the new value after a reset (serving restarted)', () => {
    expect(counterDelta(10, 25)).toBe(15);
    expect(counterDelta(10, 10)).toBe(0);
    expect(counterDelta(500, 7)).toBe(7);
  });

  it('derives per-sample errors/s and hit rate from the previous sample', () => {
    const first = sample(0, [slotStats('a', { requests: 100, errors: 4, cacheHits: 30, cacheMisses: 10 })]);
    const second = sample(500, [slotStats('a', { requests: 110, errors: 5, cacheHits: 33, cacheMisses: 11, rps: 20 })]);
    const p0 = derivePoint(first, null);
    expect(p0.slots.a).toMatchObject({ dRequests: null, dErrors: null, errorsPerS: null, hitRate: null, errorsTotal: 4 });
    const p1 = derivePoint(second, first);
    expect(p1.t).toBe(T0 + 500);
    expect(p1.spanMs).toBe(500);
    expect(p1.slots.a).toMatchObject({ dRequests: 10, dErrors: 1, dHits: 3, dMisses: 1, errorsPerS: 2, hitRate: 0.75, rps: 20 });
  });

  it('uses the time since the previous sample, which covers missed samples', () => {
    const first = sample(0, [slotStats('a', { errors: 0 })]);
    const late = sample(4_000, [slotStats('a', { errors: 8 })]);
    expect(derivePoint(late, first).slots.a?.errorsPerS).toBe(2);
  });

  it('treats a slot that was not in the previous sample as having no previous sample', () => {
    const first = sample(0, [slotStats('a')]);
    const second = sample(500, [slotStats('a'), slotStats('shadow', { requests: 50, cacheHits: 5, cacheMisses: 5 })]);
    expect(derivePoint(second, first).slots.shadow).toMatchObject({ dRequests: null, hitRate: null });
  });
});

describe('cache hit rate', () => {
  it('is null, never NaN, when there were no lookups', () => {
    expect(hitRate(0, 0)).toBeNull();
    expect(hitRate(null, 3)).toBeNull();
    expect(hitRate(3, 1)).toBe(0.75);
    expect(hitRate(0, 5)).toBe(0);
  });

  it('is null in a sample without traffic, and for a policy that never looks up', () => {
    const points = derivePoints([
      sample(0, [slotStats('a', { cacheHits: 10, cacheMisses: 10 }), slotStats('b')]),
      sample(500, [slotStats('a', { cacheHits: 10, cacheMisses: 10 }), slotStats('b', { requests: 40, rps: 80 })]),
    ]);
    const a = points[1]?.slots.a;
    const b = points[1]?.slots.b;
    expect(a?.hitRate).toBeNull();
    expect(b?.hitRate).toBeNull();
    expect(Number.isNaN(a?.hitRate)).toBe(false);
    const now = currentValues(points);
    expect(now.map((s) => s.hitRate)).toEqual([null, null]);
    const rows = chartRows(windowSeries(points, timeWindow('1m')), 'hitRate');
    for (const row of rows) for (const v of [row.a, row.b]) expect(v === null || v === undefined || Number.isFinite(v)).toBe(true);
  });

  it('merges buckets from the summed deltas, not as a mean of rates', () => {
    const points = derivePoints([
      sample(0, [slotStats('a')]),
      sample(500, [slotStats('a', { cacheHits: 1, cacheMisses: 0 })]), // 1 of 1
      sample(1_000, [slotStats('a', { cacheHits: 1, cacheMisses: 9 })]), // 0 of 9
    ]);
    expect(aggregateSlot(points, 'a')?.hitRate).toBeCloseTo(0.1);
  });
});

describe('time windows', () => {
  const points = derivePoints(steady(15 * 60 * 2 + 10)); // a little more than 15 minutes at 2 Hz

  it('slices the last window by time, ending at the newest sample', () => {
    const last = points[points.length - 1] as LivePoint;
    const minute = sliceWindow(points, 60_000);
    expect(minute[minute.length - 1]).toBe(last);
    expect(minute[0]?.t).toBe(last.t - 60_000);
    expect(minute).toHaveLength(121);
    expect(sliceWindow(points, 5 * 60_000)).toHaveLength(601);
    expect(sliceWindow([], 60_000)).toEqual([]);
    // A window longer than the history is all of it, as the same array.
    const short = points.slice(0, 10);
    expect(sliceWindow(short, 60_000)).toBe(short);
  });

  it('keeps every sample in the 1-minute window and merges the longer ones into aligned buckets', () => {
    const one = windowSeries(points, timeWindow('1m'));
    expect(one.buckets).toHaveLength(121);
    expect(one.pointCount).toBe(121);
    const five = windowSeries(points, timeWindow('5m'));
    expect(five.pointCount).toBe(601);
    expect(five.buckets.length).toBeGreaterThanOrEqual(150);
    expect(five.buckets.length).toBeLessThanOrEqual(151);
    const fifteen = windowSeries(points, timeWindow('15m'));
    expect(fifteen.buckets.length).toBeLessThanOrEqual(181);
    for (const w of TIME_WINDOWS) expect(windowSeries(points, w).domain).toEqual([T0 + (points.length - 1) * 500 - w.ms, T0 + (points.length - 1) * 500]);
    expect(one.slots).toEqual(['a']);
  });

  it('aggregates a bucket: time-weighted rps, worst p99, most in flight, errors/s from deltas', () => {
    const buckets = bucketize(derivePoints(steady(8)).slice(1), 2_000);
    // Points at 0.5, 1.0, 1.5 s fall in bucket 0; 2.0 .. 3.5 s in bucket 1.
    expect(buckets.map((b) => b.t)).toEqual([T0 + 1_500, T0 + 3_500]);
    const second = buckets[1]?.slots.a;
    expect(second?.rps).toBe(20);
    expect(second?.p50Ms).toBe(1);
    expect(second?.p99Ms).toBe(9);
    expect(second?.inFlight).toBe(2);
    expect(second?.errorsPerS).toBeCloseTo(2);
    expect(second?.hitRate).toBeCloseTo(0.6);
  });

  it('keeps bucket boundaries fixed as the window slides', () => {
    const all = derivePoints(steady(40));
    const before = bucketize(all.slice(0, 30), 2_000).map((b) => b.t);
    const after = bucketize(all.slice(0, 34), 2_000).map((b) => b.t);
    expect(after.slice(0, before.length - 1)).toEqual(before.slice(0, -1));
  });

  it('is memoized: the same points and window give the same series object', () => {
    const select = createWindowSelector();
    const w = timeWindow('5m');
    const first = select(points, w);
    expect(select(points, w)).toBe(first);
    expect(select(points, timeWindow('1m'))).not.toBe(first);
    expect(select(points.slice(), timeWindow('1m'))).not.toBe(first);
  });

  it('breaks the lines over a gap in the samples', () => {
    const gappy = derivePoints([...steady(3), ...steady(3).map((s) => ({ ...s, at: at(Date.parse(s.at) - T0 + 30_000) }))]);
    const rows = chartRows(windowSeries(gappy, timeWindow('1m')), 'rps');
    expect(rows).toHaveLength(7);
    expect(rows[3]).toEqual({ t: T0 + (1_000 + 30_000) / 2 });
  });

  it('scales the hit rate to percent for its chart', () => {
    const rows = chartRows(windowSeries(derivePoints(steady(3)), timeWindow('1m')), 'hitRate');
    expect(rows.map((r) => r.a)).toEqual([null, 60, 60]);
  });
});

describe('current values', () => {
  it('summarizes the last 5 s per slot, with the newest in-flight and total errors', () => {
    const points = derivePoints(steady(30, 'b'));
    const [b, ...rest] = currentValues(points);
    expect(rest).toEqual([]);
    expect(b).toMatchObject({ slot: 'b', rps: 20, p50Ms: 1, inFlight: 29 % 3, errorsTotal: 30 });
    // The last 5 s are the ten newest samples: p99 2 + 20 .. 2 + 29.
    expect(b?.p99Ms).toBe(31);
    expect(b?.errorsPerS).toBeCloseTo(2);
    expect(b?.hitRate).toBeCloseTo(0.6);
  });

  it('shows zero req/s and no latency once traffic stops', () => {
    const busy = steady(4);
    const last = busy[busy.length - 1]!.slots[0]!;
    const quiet = Array.from({ length: 12 }, (_, i) => sample(2_000 + i * 500, [{ ...last, rps: 0, p50Ms: null, p99Ms: null, inFlight: 0 }]));
    const [a] = currentValues(derivePoints([...busy, ...quiet]));
    expect(a).toMatchObject({ rps: 0, p50Ms: null, p99Ms: null, hitRate: null, errorsPerS: 0 });
  });

  it('is empty without samples', () => {
    expect(currentValues([])).toEqual([]);
  });
});
