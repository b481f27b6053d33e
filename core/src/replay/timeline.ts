/**
 * A downsampled timeline of a trace, built in one pass without knowing its length: at most
 * `maxBuckets` time buckets whose width starts at 1 ms and doubles (merging neighbours) whenever
 * a request falls past the end. Per bucket and slot: requests, errors, cache hits and misses, the
 * largest latency and a compact latency histogram (for the median); per bucket the shadow results
 * and their largest divergence. A chart of a million requests draws from these few thousand points.
 */
import { CompactHistogram } from './histogram.js';

class SlotSeries {
  readonly requests: Float64Array;
  readonly errors: Float64Array;
  readonly hits: Float64Array;
  readonly misses: Float64Array;
  readonly min: Float64Array;
  readonly max: Float64Array;
  readonly hists: (CompactHistogram | undefined)[];
  constructor(n: number) {
    this.requests = new Float64Array(n);
    this.errors = new Float64Array(n);
    this.hits = new Float64Array(n);
    this.misses = new Float64Array(n);
    this.min = new Float64Array(n).fill(Infinity);
    this.max = new Float64Array(n).fill(-Infinity);
    this.hists = new Array<CompactHistogram | undefined>(n);
  }
  /** Bucket j := buckets 2j and 2j+1. */
  halve(used: number): void {
    const half = Math.ceil(used / 2);
    for (let j = 0; j < half; j++) {
      const a = 2 * j;
      const b = a + 1;
      const inB = b < used;
      this.requests[j] = this.requests[a]! + (inB ? this.requests[b]! : 0);
      this.errors[j] = this.errors[a]! + (inB ? this.errors[b]! : 0);
      this.hits[j] = this.hits[a]! + (inB ? this.hits[b]! : 0);
      this.misses[j] = this.misses[a]! + (inB ? this.misses[b]! : 0);
      this.min[j] = Math.min(this.min[a]!, inB ? this.min[b]! : Infinity);
      this.max[j] = Math.max(this.max[a]!, inB ? this.max[b]! : -Infinity);
      let h = this.hists[a];
      const hb = inB ? this.hists[b] : undefined;
      if (h && hb) h.merge(hb);
      else if (!h) h = hb;
      this.hists[j] = h;
    }
    for (let j = half; j < used; j++) {
      this.requests[j] = this.errors[j] = this.hits[j] = this.misses[j] = 0;
      this.min[j] = Infinity;
      this.max[j] = -Infinity;
      this.hists[j] = undefined;
    }
  }
}

export interface TimelineSlotSeries {
  slot: string;
  requests: number[];
  errors: number[];
  /** hits / (hits + misses); null where the bucket has no cache status. */
  cacheHitRate: (number | null)[];
  /** Median latency (±5 %); null for an empty bucket. */
  p50Ms: (number | null)[];
  maxMs: (number | null)[];
}

export interface TimelineJson {
  /** Epoch milliseconds of the start of bucket 0; null when the trace holds no timestamp. */
  startMs: number | null;
  /** Width of every bucket (a power of two times 1 ms). */
  bucketMs: number;
  buckets: number;
  slots: TimelineSlotSeries[];
  shadow: { count: number[]; maxDivergence: (number | null)[] };
  /** Records whose timestamp fell before `startMs` (counted in bucket 0). */
  early: number;
}

/** A timeline's state for another thread: per slot name, its columns (`hists` as one flat Uint32Array, empty rows zero). */
export interface TimelineState {
  origin: number;
  width: number;
  used: number;
  early: number;
  maxBuckets: number;
  slots: { name: string; requests: Float64Array; errors: Float64Array; hits: Float64Array; misses: Float64Array; min: Float64Array; max: Float64Array; hists: Uint32Array; rowLength: number }[];
  shadowCount: Float64Array;
  shadowMax: Float64Array;
}

export class Timeline {
  private origin = NaN;
  private width = 1;
  private used = 0;
  private early = 0;
  private readonly series: SlotSeries[] = [];
  private readonly shadowCount: Float64Array;
  private readonly shadowMax: Float64Array;

  constructor(private readonly maxBuckets = 2000) {
    if (maxBuckets < 2) throw new RangeError('a timeline needs at least 2 buckets');
    this.shadowCount = new Float64Array(maxBuckets);
    this.shadowMax = new Float64Array(maxBuckets).fill(-Infinity);
  }

  /** Sets where bucket 0 starts (e.g. the header's `started_at`); only before the first record. */
  setOrigin(ms: number): void {
    if (this.used === 0 && Number.isFinite(ms)) this.origin = ms;
  }

  /**
   * Starts at `widthMs` (a power of two) instead of 1 ms, before the first record: when the caller
   * knows the trace's last moment, the buckets start as wide as the end result will be, instead of
   * thousands of 1 ms buckets that are then merged again and again. The result is the same:
   * halving buckets of `w` gives exactly the buckets of `2w`.
   */
  presize(widthMs: number): void {
    if (this.used === 0 && widthMs >= 1 && Number.isInteger(Math.log2(widthMs))) this.width = widthMs;
  }

  /** The width a timeline starting at `origin` ends with when its latest moment is `lastMs`. */
  static widthFor(origin: number, lastMs: number, maxBuckets: number): number {
    let w = 1;
    if (!Number.isFinite(origin) || !Number.isFinite(lastMs)) return w;
    while (Math.floor((lastMs - origin) / w) >= maxBuckets && w < 2 ** 52) w *= 2;
    return w;
  }

  private bucket(tMs: number): number {
    if (this.origin !== this.origin) this.origin = tMs;
    let i = Math.floor((tMs - this.origin) / this.width);
    if (i < 0) {
      this.early++;
      i = 0;
    }
    while (i >= this.maxBuckets) {
      this.halve();
      i = Math.floor((tMs - this.origin) / this.width);
    }
    if (i >= this.used) this.used = i + 1;
    return i;
  }

  private halve(): void {
    for (const s of this.series) s?.halve(this.used);
    const half = Math.ceil(this.used / 2);
    for (let j = 0; j < half; j++) {
      const a = 2 * j;
      const b = a + 1;
      this.shadowCount[j] = this.shadowCount[a]! + (b < this.used ? this.shadowCount[b]! : 0);
      this.shadowMax[j] = Math.max(this.shadowMax[a]!, b < this.used ? this.shadowMax[b]! : -Infinity);
    }
    for (let j = half; j < this.used; j++) {
      this.shadowCount[j] = 0;
      this.shadowMax[j] = -Infinity;
    }
    this.used = half;
    this.width *= 2;
  }

  addRequest(tMs: number, slot: number, latencyMs: number, error: boolean, cache: 0 | 1 | 2 | 3): void {
    if (tMs !== tMs) return;
    const i = this.bucket(tMs);
    let s = this.series[slot];
    if (!s) this.series[slot] = s = new SlotSeries(this.maxBuckets);
    s.requests[i]!++;
    if (error) s.errors[i]!++;
    if (cache === 1) s.hits[i]!++;
    else if (cache === 2) s.misses[i]!++;
    if (latencyMs === latencyMs) {
      if (latencyMs < s.min[i]!) s.min[i] = latencyMs;
      if (latencyMs > s.max[i]!) s.max[i] = latencyMs;
      let h = s.hists[i];
      if (!h) s.hists[i] = h = new CompactHistogram();
      h.add(latencyMs);
    }
  }

  addShadow(tMs: number, divergence: number): void {
    if (tMs !== tMs) return;
    const i = this.bucket(tMs);
    this.shadowCount[i]!++;
    if (divergence > this.shadowMax[i]!) this.shadowMax[i] = divergence;
  }

  get bucketWidth(): number {
    return this.width;
  }

  toState(slotNames: readonly string[]): TimelineState {
    const slots: TimelineState['slots'] = [];
    const rowLength = new CompactHistogram().counts.length;
    this.series.forEach((s, i) => {
      if (!s) return;
      const hists = new Uint32Array(this.used * rowLength);
      for (let b = 0; b < this.used; b++) {
        const h = s.hists[b];
        if (h) hists.set(h.counts, b * rowLength);
      }
      const cut = (a: Float64Array) => a.slice(0, this.used);
      slots.push({ name: slotNames[i] ?? `slot${i}`, requests: cut(s.requests), errors: cut(s.errors), hits: cut(s.hits), misses: cut(s.misses), min: cut(s.min), max: cut(s.max), hists, rowLength });
    });
    return {
      origin: this.origin,
      width: this.width,
      used: this.used,
      early: this.early,
      maxBuckets: this.maxBuckets,
      slots,
      shadowCount: this.shadowCount.slice(0, this.used),
      shadowMax: this.shadowMax.slice(0, this.used),
    };
  }

  /**
   * Adds another timeline (from another thread) with the same origin; `slotIndex` maps its slot
   * names to this timeline's slot indices. The finer of the two is coarsened first.
   */
  mergeState(st: TimelineState, slotIndex: (name: string) => number): void {
    if (st.used === 0) return;
    if (this.used === 0 && this.origin !== this.origin) this.origin = st.origin;
    if (st.origin !== this.origin) throw new RangeError('cannot merge timelines with different origins');
    while (this.width < st.width) this.halve();
    // Coarsen the incoming columns to this width by summing groups of `f` buckets.
    const f = this.width / st.width;
    const used = Math.ceil(st.used / f);
    if (used > this.maxBuckets) throw new RangeError('timeline overflow while merging');
    if (used > this.used) this.used = used;
    for (const sl of st.slots) {
      const idx = slotIndex(sl.name);
      let s = this.series[idx];
      if (!s) this.series[idx] = s = new SlotSeries(this.maxBuckets);
      for (let b = 0; b < st.used; b++) {
        const j = Math.floor(b / f);
        s.requests[j]! += sl.requests[b]!;
        s.errors[j]! += sl.errors[b]!;
        s.hits[j]! += sl.hits[b]!;
        s.misses[j]! += sl.misses[b]!;
        if (sl.min[b]! < s.min[j]!) s.min[j] = sl.min[b]!;
        if (sl.max[b]! > s.max[j]!) s.max[j] = sl.max[b]!;
        const row = sl.hists.subarray(b * sl.rowLength, (b + 1) * sl.rowLength);
        let any = false;
        for (let k = 0; k < row.length; k++) {
          if (row[k] !== 0) {
            any = true;
            break;
          }
        }
        if (!any) continue;
        const h = s.hists[j];
        if (h) h.merge(CompactHistogram.fromCounts(row));
        else s.hists[j] = CompactHistogram.fromCounts(row);
      }
    }
    for (let b = 0; b < st.used; b++) {
      const j = Math.floor(b / f);
      this.shadowCount[j]! += st.shadowCount[b]!;
      if (st.shadowMax[b]! > this.shadowMax[j]!) this.shadowMax[j] = st.shadowMax[b]!;
    }
    this.early += st.early;
  }

  toJSON(slotNames: readonly string[]): TimelineJson {
    const n = this.used;
    const nz = (x: number) => (Number.isFinite(x) ? x : null);
    const slots: TimelineSlotSeries[] = [];
    this.series.forEach((s, idx) => {
      if (!s) return;
      const out: TimelineSlotSeries = { slot: slotNames[idx] ?? `slot${idx}`, requests: [], errors: [], cacheHitRate: [], p50Ms: [], maxMs: [] };
      for (let i = 0; i < n; i++) {
        out.requests.push(s.requests[i]!);
        out.errors.push(s.errors[i]!);
        const c = s.hits[i]! + s.misses[i]!;
        out.cacheHitRate.push(c > 0 ? s.hits[i]! / c : null);
        const h = s.hists[i];
        out.p50Ms.push(h ? h.quantile(0.5, s.min[i]!, s.max[i]!) : null);
        out.maxMs.push(nz(s.max[i]!));
      }
      slots.push(out);
    });
    const count: number[] = [];
    const maxDivergence: (number | null)[] = [];
    for (let i = 0; i < n; i++) {
      count.push(this.shadowCount[i]!);
      maxDivergence.push(nz(this.shadowMax[i]!));
    }
    return { startMs: Number.isFinite(this.origin) ? this.origin : null, bucketMs: this.width, buckets: n, slots, shadow: { count, maxDivergence }, early: this.early };
  }
}
