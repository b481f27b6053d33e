import type { ServingStats, Slot, SlotStats } from '@contract';

/**
 * The Live page's numbers, derived from `serving.stats` samples (pure functions, no React).
 *
 * A sample carries per-window values (`rps`, `p50Ms`, `p99Ms`, `inFlight`) and cumulative
 * counters (`requests`, `errors`, `cacheHits`, `cacheMisses`). Each sample is turned into a
 * `LivePoint` once, when it arrives, from the difference with the sample before it; a time window
 * is then a binary search and, for the long windows, a pass that merges points into buckets.
 */

export const SLOT_ORDER: readonly Slot[] = ['prod', 'a', 'b', 'shadow'];

export interface SlotPoint {
  /** Requests per second over the server's window (its own measurement). */
  rps: number;
  p50Ms: number | null;
  p99Ms: number | null;
  inFlight: number;
  /** Cumulative since serving started. */
  errorsTotal: number;
  /** Changes of the counters since the previous sample; null without a previous sample of this slot. */
  dRequests: number | null;
  dErrors: number | null;
  dHits: number | null;
  dMisses: number | null;
  /** Errors per second since the previous sample; null without one. */
  errorsPerS: number | null;
  /** Share (0..1) of cache lookups that hit since the previous sample; null when there were none. */
  hitRate: number | null;
}

export interface LivePoint {
  /** Epoch ms of the sample (the server's clock). */
  t: number;
  /** Milliseconds the sample covers: since the previous sample, else the server's window. */
  spanMs: number;
  slots: Partial<Record<Slot, SlotPoint>>;
}

/** Change of a cumulative counter; a counter that went down was reset (serving restarted). */
export function counterDelta(previous: number, current: number): number {
  return current >= previous ? current - previous : current;
}

/** hits / (hits + misses), or null when there were no lookups (never NaN). */
export function hitRate(hits: number | null, misses: number | null): number | null {
  if (hits === null || misses === null) return null;
  const lookups = hits + misses;
  return lookups > 0 ? hits / lookups : null;
}

function slotPoint(current: SlotStats, previous: SlotStats | undefined, spanMs: number): SlotPoint {
  const d = (pick: (s: SlotStats) => number): number | null => (previous === undefined ? null : counterDelta(pick(previous), pick(current)));
  const dRequests = d((s) => s.requests);
  const dErrors = d((s) => s.errors);
  const dHits = d((s) => s.cacheHits);
  const dMisses = d((s) => s.cacheMisses);
  return {
    rps: current.rps,
    p50Ms: current.p50Ms,
    p99Ms: current.p99Ms,
    inFlight: current.inFlight,
    errorsTotal: current.errors,
    dRequests,
    dErrors,
    dHits,
    dMisses,
    errorsPerS: dErrors === null ? null : (dErrors * 1000) / spanMs,
    hitRate: hitRate(dHits, dMisses),
  };
}

/** One sample as a point, given the sample before it (or null for the first one). */
export function derivePoint(sample: ServingStats, previous: ServingStats | null): LivePoint {
  const t = Date.parse(sample.at);
  const previousT = previous === null ? NaN : Date.parse(previous.at);
  const elapsed = t - previousT;
  // A gap far longer than the server's window (missed samples) still yields an honest average.
  const spanMs = Number.isFinite(elapsed) && elapsed > 0 ? elapsed : Math.max(1, sample.windowMs);
  const before = new Map<Slot, SlotStats>();
  if (previous !== null) for (const s of previous.slots) before.set(s.slot, s);
  const slots: Partial<Record<Slot, SlotPoint>> = {};
  for (const s of sample.slots) slots[s.slot] = slotPoint(s, before.get(s.slot), spanMs);
  return { t, spanMs, slots };
}

/** Derives every sample at once (what the store does one sample at a time). */
export function derivePoints(samples: readonly ServingStats[]): LivePoint[] {
  return samples.map((sample, i) => derivePoint(sample, i === 0 ? null : (samples[i - 1] as ServingStats)));
}

// ---- aggregation: buckets for the charts, the last seconds for the tiles ----

export interface SlotAggregate {
  /** Time-weighted mean of the server's requests per second. */
  rps: number;
  /** Request-weighted mean of the windows' p50 (an approximation: medians do not add up). */
  p50Ms: number | null;
  /** The worst p99 of the windows. */
  p99Ms: number | null;
  /** The most requests in flight seen. */
  inFlight: number;
  errorsPerS: number | null;
  hitRate: number | null;
}

export interface Bucket {
  /** Epoch ms: the time of the bucket's last point. */
  t: number;
  slots: Partial<Record<Slot, SlotAggregate>>;
}

/** Merges points (oldest first) of one slot; null when the slot is in none of them. */
export function aggregateSlot(points: readonly LivePoint[], slot: Slot): SlotAggregate | null {
  let seen = false;
  let spanSum = 0;
  let rpsTime = 0;
  let weight = 0;
  let p50Weighted = 0;
  let p50Plain = 0;
  let p50Count = 0;
  let p99: number | null = null;
  let inFlight = 0;
  let errors = 0;
  let errorSpan = 0;
  let hits = 0;
  let misses = 0;
  let lookupsKnown = false;
  for (const point of points) {
    const s = point.slots[slot];
    if (s === undefined) continue;
    seen = true;
    spanSum += point.spanMs;
    rpsTime += s.rps * point.spanMs;
    if (s.p50Ms !== null) {
      const w = s.rps * point.spanMs;
      p50Weighted += s.p50Ms * w;
      weight += w;
      p50Plain += s.p50Ms;
      p50Count += 1;
    }
    if (s.p99Ms !== null) p99 = p99 === null ? s.p99Ms : Math.max(p99, s.p99Ms);
    inFlight = Math.max(inFlight, s.inFlight);
    if (s.dErrors !== null) {
      errors += s.dErrors;
      errorSpan += point.spanMs;
    }
    if (s.dHits !== null && s.dMisses !== null) {
      hits += s.dHits;
      misses += s.dMisses;
      lookupsKnown = true;
    }
  }
  if (!seen) return null;
  const p50Ms = p50Count === 0 ? null : weight > 0 ? p50Weighted / weight : p50Plain / p50Count;
  return {
    rps: spanSum > 0 ? rpsTime / spanSum : 0,
    p50Ms,
    p99Ms: p99,
    inFlight,
    errorsPerS: errorSpan > 0 ? (errors * 1000) / errorSpan : null,
    hitRate: lookupsKnown ? hitRate(hits, misses) : null,
  };
}

function aggregate(points: readonly LivePoint[]): Bucket {
  const slots: Partial<Record<Slot, SlotAggregate>> = {};
  for (const slot of SLOT_ORDER) {
    const a = aggregateSlot(points, slot);
    if (a !== null) slots[slot] = a;
  }
  return { t: (points[points.length - 1] as LivePoint).t, slots };
}

/** A point as a bucket of one (no merging: the 1-minute window shows every sample). */
function single(point: LivePoint): Bucket {
  const slots: Partial<Record<Slot, SlotAggregate>> = {};
  for (const slot of SLOT_ORDER) {
    const s = point.slots[slot];
    if (s === undefined) continue;
    slots[slot] = { rps: s.rps, p50Ms: s.p50Ms, p99Ms: s.p99Ms, inFlight: s.inFlight, errorsPerS: s.errorsPerS, hitRate: s.hitRate };
  }
  return { t: point.t, slots };
}

/** Index of the first point at or after `t` (points are oldest first). */
export function firstIndexAtOrAfter(points: readonly LivePoint[], t: number): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((points[mid] as LivePoint).t < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The points of the last `windowMs`, ending at the newest point. */
export function sliceWindow(points: readonly LivePoint[], windowMs: number): readonly LivePoint[] {
  const last = points[points.length - 1];
  if (last === undefined) return [];
  const from = firstIndexAtOrAfter(points, last.t - windowMs);
  return from === 0 ? points : points.slice(from);
}

/**
 * Merges points into buckets aligned to whole multiples of `bucketMs` of the clock, so a bucket
 * keeps its boundaries as the window slides and only the newest one changes. `bucketMs` 0 keeps
 * every point.
 */
export function bucketize(points: readonly LivePoint[], bucketMs: number): Bucket[] {
  if (bucketMs <= 0) return points.map(single);
  const out: Bucket[] = [];
  let start = 0;
  while (start < points.length) {
    const key = Math.floor((points[start] as LivePoint).t / bucketMs);
    let end = start + 1;
    while (end < points.length && Math.floor((points[end] as LivePoint).t / bucketMs) === key) end += 1;
    out.push(end - start === 1 ? single(points[start] as LivePoint) : aggregate(points.slice(start, end)));
    start = end;
  }
  return out;
}

// ---- time windows ----

export type WindowId = '1m' | '5m' | '15m';

export interface TimeWindow {
  id: WindowId;
  label: string;
  ms: number;
  /** Bucket size for the charts: at most a couple of hundred points a line. */
  bucketMs: number;
}

export const TIME_WINDOWS: readonly TimeWindow[] = [
  { id: '1m', label: '1 min', ms: 60_000, bucketMs: 0 },
  { id: '5m', label: '5 min', ms: 5 * 60_000, bucketMs: 2_000 },
  { id: '15m', label: '15 min', ms: 15 * 60_000, bucketMs: 5_000 },
];

export function timeWindow(id: WindowId): TimeWindow {
  return TIME_WINDOWS.find((w) => w.id === id) ?? (TIME_WINDOWS[0] as TimeWindow);
}

/** The longest window, which the stats store must be able to hold. */
export const LONGEST_WINDOW_MS = 15 * 60_000;

export interface WindowSeries {
  window: TimeWindow;
  /** The x-axis: [newest - window, newest]; [0, 0] when there is nothing yet. */
  domain: [number, number];
  buckets: Bucket[];
  /** Slots seen in the window, in display order. */
  slots: Slot[];
  /** Points the window holds (before bucketing). */
  pointCount: number;
}

export function windowSeries(points: readonly LivePoint[], window: TimeWindow): WindowSeries {
  const inWindow = sliceWindow(points, window.ms);
  const buckets = bucketize(inWindow, window.bucketMs);
  const seen = new Set<Slot>();
  for (const b of buckets) for (const slot of Object.keys(b.slots) as Slot[]) seen.add(slot);
  const end = inWindow[inWindow.length - 1]?.t ?? 0;
  return {
    window,
    domain: [end - window.ms, end],
    buckets,
    slots: SLOT_ORDER.filter((s) => seen.has(s)),
    pointCount: inWindow.length,
  };
}

/**
 * A memoized `windowSeries`: the same points array and window give back the same object, so
 * everything downstream (chart rows, the charts themselves) can skip work by reference.
 */
export function createWindowSelector(): (points: readonly LivePoint[], window: TimeWindow) => WindowSeries {
  let lastPoints: readonly LivePoint[] | null = null;
  let lastWindow: TimeWindow | null = null;
  let last: WindowSeries | null = null;
  return (points, window) => {
    if (last !== null && points === lastPoints && window === lastWindow) return last;
    lastPoints = points;
    lastWindow = window;
    last = windowSeries(points, window);
    return last;
  };
}

// ---- chart rows ----

export type Metric = 'p50Ms' | 'p99Ms' | 'rps' | 'hitRate' | 'inFlight' | 'errorsPerS';

export type ChartRow = { t: number } & Partial<Record<Slot, number | null>>;

/**
 * Rows for one metric. Where samples are missing for longer than `gapMs` (the event channel was
 * down) a row of nulls breaks the lines instead of drawing a straight line across the gap.
 */
export function chartRows(series: WindowSeries, metric: Metric, gapMs = Math.max(5_000, series.window.bucketMs * 3)): ChartRow[] {
  const rows: ChartRow[] = [];
  let previousT: number | null = null;
  for (const bucket of series.buckets) {
    if (previousT !== null && bucket.t - previousT > gapMs) rows.push({ t: (previousT + bucket.t) / 2 });
    const row: ChartRow = { t: bucket.t };
    for (const slot of series.slots) {
      const s = bucket.slots[slot];
      if (s === undefined) continue;
      const value = s[metric];
      row[slot] = metric === 'hitRate' && value !== null ? value * 100 : value;
    }
    rows.push(row);
    previousT = bucket.t;
  }
  return rows;
}

// ---- the tiles: current values ----

/** The tiles summarize the last few seconds, so a quiet half-second does not blank them. */
export const CURRENT_SPAN_MS = 5_000;

export interface SlotNow extends SlotAggregate {
  slot: Slot;
  /** In flight in the newest sample. */
  inFlight: number;
  /** Errors since serving started. */
  errorsTotal: number;
}

/** Per slot (of the newest sample), the values of the last `spanMs`. */
export function currentValues(points: readonly LivePoint[], spanMs = CURRENT_SPAN_MS): SlotNow[] {
  const last = points[points.length - 1];
  if (last === undefined) return [];
  // Points strictly after newest - span: exactly `spanMs` of samples, not one more.
  const recent = points.slice(firstIndexAtOrAfter(points, last.t - spanMs + 1));
  const out: SlotNow[] = [];
  for (const slot of SLOT_ORDER) {
    const newest = last.slots[slot];
    if (newest === undefined) continue;
    const agg = aggregateSlot(recent, slot) as SlotAggregate;
    out.push({ ...agg, slot, inFlight: newest.inFlight, errorsTotal: newest.errorsTotal });
  }
  return out;
}
