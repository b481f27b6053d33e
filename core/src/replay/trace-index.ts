/**
 * Where records start in a trace file: a point every few hundred records (record index, byte
 * offset, line number) and the range of `seq` values from each point to the next. Enough to seek
 * to any record index or seq range without reading the file from the start. Bounded: past
 * `maxEntries` points neighbouring blocks merge, so a trace of any size keeps at most
 * `maxEntries` rows (64 Ki rows, 2.5 MiB).
 *
 * Offsets are bytes of the decompressed stream. For a plain file they are file offsets; a gzip
 * stream cannot be entered in the middle, so for `.gz` the reader streams from the start and
 * skips to the block (the index still tells it where to stop).
 */
export interface IndexPoint {
  /** Record index of the block's first record. */
  index: number;
  /** Byte offset of that record's line. */
  offset: number;
  /** Its 1-based line number. */
  line: number;
  /** Smallest and largest `seq` in the block (Infinity / -Infinity when none). */
  minSeq: number;
  maxSeq: number;
}

export class TraceIndex {
  private n = 0;
  private idx = new Float64Array(256);
  private offsets = new Float64Array(256);
  private lines = new Float64Array(256);
  private minSeq = new Float64Array(256);
  private maxSeq = new Float64Array(256);
  /** Records in the trace (set when the pass ends). */
  records = 0;

  constructor(private readonly maxEntries = 65_536) {
    if (maxEntries < 2) throw new RangeError('an index needs at least 2 entries');
  }

  get blocks(): number {
    return this.n;
  }

  /** Appends a block; blocks come in file order. */
  push(p: IndexPoint): void {
    if (this.n === this.maxEntries) this.coarsen();
    if (this.n === this.idx.length) this.grow();
    const i = this.n++;
    this.idx[i] = p.index;
    this.offsets[i] = p.offset;
    this.lines[i] = p.line;
    this.minSeq[i] = p.minSeq;
    this.maxSeq[i] = p.maxSeq;
  }

  private grow(): void {
    const cap = this.idx.length * 2;
    const g = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    this.idx = g(this.idx);
    this.offsets = g(this.offsets);
    this.lines = g(this.lines);
    this.minSeq = g(this.minSeq);
    this.maxSeq = g(this.maxSeq);
  }

  private coarsen(): void {
    const half = Math.ceil(this.n / 2);
    for (let j = 0; j < half; j++) {
      const a = 2 * j;
      const b = a + 1;
      this.idx[j] = this.idx[a]!;
      this.offsets[j] = this.offsets[a]!;
      this.lines[j] = this.lines[a]!;
      this.minSeq[j] = Math.min(this.minSeq[a]!, b < this.n ? this.minSeq[b]! : Infinity);
      this.maxSeq[j] = Math.max(this.maxSeq[a]!, b < this.n ? this.maxSeq[b]! : -Infinity);
    }
    this.n = half;
  }

  block(b: number): IndexPoint {
    return { index: this.idx[b]!, offset: this.offsets[b]!, line: this.lines[b]!, minSeq: this.minSeq[b]!, maxSeq: this.maxSeq[b]! };
  }

  /** The block holding record `index` (the last block starting at or before it). */
  blockOfIndex(index: number): number {
    let lo = 0;
    let hi = this.n - 1;
    if (hi < 0) return -1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.idx[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Blocks whose seq range meets [from, to], in file order. */
  blocksForSeq(from: number, to: number): number[] {
    const out: number[] = [];
    for (let b = 0; b < this.n; b++) if (this.maxSeq[b]! >= from && this.minSeq[b]! <= to) out.push(b);
    return out;
  }
}
