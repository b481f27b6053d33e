/**
 * Fixed-bucket logarithmic histograms: bounded memory whatever the number of samples, mergeable
 * (add the counts), quantiles with a bounded relative error. Bucket `i >= 1` holds values in
 * `[lowest * g^(i-1), lowest * g^i)`; bucket 0 holds everything below `lowest` (zero, negatives);
 * the last bucket everything at or above the top. Exact count, sum, min and max are kept beside the
 * buckets, and an estimated quantile is clamped to [min, max], so a histogram of one value answers
 * that value exactly.
 *
 * A quantile estimate is the geometric middle of its bucket: within a factor `sqrt(g)` of a true
 * sample of that rank (about ±1 % for the default `g = 1.02`).
 */

export interface HistogramLayout {
  /** Smallest value with a bucket of its own; below it everything shares bucket 0. */
  lowest: number;
  /** Values at or above this share the last bucket. */
  highest: number;
  /** Growth factor between bucket edges (> 1). */
  growth: number;
}

/** Latency in milliseconds, 1 µs to 1,000 s, ±1 %: 1,048 buckets (8 KiB). */
export const LATENCY_LAYOUT: HistogramLayout = { lowest: 1e-3, highest: 1e6, growth: 1.02 };
/** The same range, ±5 %, for the many small histograms of a timeline: 220 buckets. */
export const COARSE_LATENCY_LAYOUT: HistogramLayout = { lowest: 1e-3, highest: 1e6, growth: 1.1 };
/** Action divergence (max abs difference): 1e-9 to 1e6, ±2.5 %. */
export const DIVERGENCE_LAYOUT: HistogramLayout = { lowest: 1e-9, highest: 1e6, growth: 1.05 };

/** Precomputed per layout: bucket count and 1 / ln(growth). */
class Layout {
  readonly buckets: number;
  readonly invLogGrowth: number;
  constructor(readonly spec: HistogramLayout) {
    if (!(spec.growth > 1) || !(spec.lowest > 0) || !(spec.highest > spec.lowest)) throw new RangeError('histogram layout: need growth > 1 and 0 < lowest < highest');
    this.invLogGrowth = 1 / Math.log(spec.growth);
    // bucket 0 (below lowest) + the log buckets + 1 overflow bucket
    this.buckets = Math.ceil(Math.log(spec.highest / spec.lowest) * this.invLogGrowth) + 2;
  }
  index(v: number): number {
    if (!(v >= this.spec.lowest)) return 0; // also NaN
    const i = Math.floor(Math.log(v / this.spec.lowest) * this.invLogGrowth) + 1;
    return i >= this.buckets ? this.buckets - 1 : i;
  }
  /** A representative value of bucket i (geometric middle; the edge for the open-ended ones). */
  middle(i: number): number {
    const { lowest, growth } = this.spec;
    if (i <= 0) return 0;
    if (i >= this.buckets - 1) return lowest * growth ** (this.buckets - 2);
    return lowest * growth ** (i - 0.5);
  }
  lowerEdge(i: number): number {
    return i <= 0 ? -Infinity : this.spec.lowest * this.spec.growth ** (i - 1);
  }
}

const layouts = new Map<string, Layout>();
function layoutOf(spec: HistogramLayout): Layout {
  const key = `${spec.lowest}/${spec.highest}/${spec.growth}`;
  let l = layouts.get(key);
  if (!l) {
    l = new Layout(spec);
    if (layouts.size < 64) layouts.set(key, l);
  }
  return l;
}

/** A serializable snapshot (sparse: only non-empty buckets), e.g. to send to the workbench. */
export interface HistogramJson {
  layout: HistogramLayout;
  count: number;
  sum: number;
  min: number | null;
  max: number | null;
  /** `[bucketIndex, count]` pairs of the non-empty buckets. */
  buckets: [number, number][];
}

export interface HistogramState {
  layout: HistogramLayout;
  counts: Float64Array;
  count: number;
  sum: number;
  min: number;
  max: number;
}

export class LogHistogram {
  private readonly l: Layout;
  readonly counts: Float64Array;
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;

  constructor(readonly layout: HistogramLayout = LATENCY_LAYOUT) {
    this.l = layoutOf(layout);
    this.counts = new Float64Array(this.l.buckets);
  }

  /** Adds one sample; NaN is ignored (a missing number is not a zero). */
  add(v: number): void {
    if (v !== v) return;
    this.counts[this.l.index(v)]!++;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /** Adds another histogram of the same layout. */
  merge(o: LogHistogram): void {
    if (o.layout.lowest !== this.layout.lowest || o.layout.highest !== this.layout.highest || o.layout.growth !== this.layout.growth) {
      throw new RangeError('cannot merge histograms of different layouts');
    }
    const a = this.counts;
    const b = o.counts;
    for (let i = 0; i < a.length; i++) a[i]! += b[i]!;
    this.count += o.count;
    this.sum += o.sum;
    if (o.min < this.min) this.min = o.min;
    if (o.max > this.max) this.max = o.max;
  }

  get mean(): number | null {
    return this.count === 0 ? null : this.sum / this.count;
  }

  /**
   * The q-quantile (0..1) by nearest rank: the value of the sample at rank ceil(q * count),
   * estimated from its bucket. Null when empty.
   */
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    if (q <= 0) return this.min;
    if (q >= 1) return this.max;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    const c = this.counts;
    for (let i = 0; i < c.length; i++) {
      seen += c[i]!;
      if (seen >= rank) {
        const v = this.l.middle(i);
        return v < this.min ? this.min : v > this.max ? this.max : v;
      }
    }
    return this.max;
  }

  toJSON(): HistogramJson {
    const buckets: [number, number][] = [];
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i]! > 0) buckets.push([i, this.counts[i]!]);
    return { layout: this.layout, count: this.count, sum: this.sum, min: this.count ? this.min : null, max: this.count ? this.max : null, buckets };
  }

  static fromJSON(j: HistogramJson): LogHistogram {
    const h = new LogHistogram(j.layout);
    for (const [i, n] of j.buckets) if (i >= 0 && i < h.counts.length) h.counts[i] = n;
    h.count = j.count;
    h.sum = j.sum;
    h.min = j.min ?? Infinity;
    h.max = j.max ?? -Infinity;
    return h;
  }

  /** Everything, for sending to another thread (typed arrays survive structured cloning). */
  toState(): HistogramState {
    return { layout: this.layout, counts: this.counts, count: this.count, sum: this.sum, min: this.min, max: this.max };
  }

  static fromState(st: HistogramState): LogHistogram {
    const h = new LogHistogram(st.layout);
    h.counts.set(st.counts);
    h.count = st.count;
    h.sum = st.sum;
    h.min = st.min;
    h.max = st.max;
    return h;
  }

  /** Lower edge of bucket i (for drawing); -Infinity for bucket 0. */
  lowerEdge(i: number): number {
    return this.l.lowerEdge(i);
  }
}

/**
 * A compact histogram of small counts for the timeline: one per (time bucket, slot). Counts only;
 * min/max are kept by the caller. Quantiles are the bucket middles (±5 % for the coarse layout).
 */
export class CompactHistogram {
  private readonly l: Layout;
  readonly counts: Uint32Array;
  count = 0;
  constructor(readonly layout: HistogramLayout = COARSE_LATENCY_LAYOUT) {
    this.l = layoutOf(layout);
    this.counts = new Uint32Array(this.l.buckets);
  }
  add(v: number): void {
    if (v !== v) return;
    this.counts[this.l.index(v)]!++;
    this.count++;
  }
  merge(o: CompactHistogram): void {
    const a = this.counts;
    const b = o.counts;
    for (let i = 0; i < a.length; i++) a[i]! += b[i]!;
    this.count += o.count;
  }
  static fromCounts(counts: Uint32Array, layout: HistogramLayout = COARSE_LATENCY_LAYOUT): CompactHistogram {
    const h = new CompactHistogram(layout);
    h.counts.set(counts);
    let n = 0;
    for (let i = 0; i < counts.length; i++) n += counts[i]!;
    h.count = n;
    return h;
  }

  quantile(q: number, min: number, max: number): number | null {
    if (this.count === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) {
        const v = this.l.middle(i);
        return v < min ? min : v > max ? max : v;
      }
    }
    return max;
  }
}

/** A latency histogram's count, p50/p90/p99, mean, min and max (null when empty), as reports show it. */
export interface LatencyStats {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  mean: number | null;
  min: number | null;
  max: number | null;
}

/** The summary of one latency histogram, the same for a trace summary and a rerun. */
export function latencyStats(h: LogHistogram): LatencyStats {
  return {
    count: h.count,
    p50: h.quantile(0.5),
    p90: h.quantile(0.9),
    p99: h.quantile(0.99),
    mean: h.mean,
    min: h.count ? h.min : null,
    max: h.count ? h.max : null,
  };
}
