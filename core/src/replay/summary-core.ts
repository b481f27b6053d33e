/**
 * The work of the summary pass, split so that it can run on several threads: a `ChunkProcessor`
 * takes a block of whole lines (about 1 MiB) and feeds a `SummaryAccumulator`; what depends on the
 * block's position in the file (record indices, line numbers, byte offsets, the chain) comes back
 * as a small `ChunkResult` relative to the block, which the caller stitches in file order.
 * Accumulators are order-independent and mergeable (`toState` / `mergeState`), so blocks can be
 * processed anywhere, in any order.
 */
import { isAscii } from 'node:buffer';
import { toPlain } from '../trace/canonical-json.js';
import { parseTraceLine } from '../trace/trace-reader.js';
import { EpisodeTracker, type EpisodeState, type EpisodeSummary } from './episodes.js';
import { FastChain, type ChainBreakKind, type ChainMode } from './fast-chain.js';
import { DIVERGENCE_LAYOUT, LATENCY_LAYOUT, LogHistogram, type HistogramState } from './histogram.js';
import { CACHE_HIT, CACHE_MISS, CACHE_OTHER, detach, RecordScanner } from './record-scan.js';
import { hasOwnTail } from './byte-chain.js';
import { ByteRecord, compactRecord } from './record-bytes.js';
import { type CompactModule, WasmCompactor } from './record-wasm.js';

/** The fields of a record the accumulator reads (`RecordScanner` from a string, `ByteRecord` from bytes). */
export type ScannedRecord = Pick<
  RecordScanner,
  'kind' | 'seq' | 'timestamp' | 'schemaVersion' | 'slot' | 'degraded' | 'episodeId' | 'latencyMs' | 'cache' | 'error' | 'divCosine' | 'divMaxAbs' | 'hasDivergence'
>;
import { Timeline, type TimelineJson, type TimelineState } from './timeline.js';

export interface AccumulatorOptions {
  timelineBuckets: number;
  maxTrackedEpisodes: number;
  topEpisodes: number;
  /** Distinct slot names tracked; more share `(other)`. */
  maxSlots: number;
  /** Epoch milliseconds where the timeline starts (the same on every thread); NaN: the first record's. */
  origin: number;
  /** The timeline's starting bucket width (see `Timeline.presize`); absent: 1 ms. */
  timelineWidth?: number;
}

export interface ProcessorOptions {
  chain: ChainMode;
  /** An index point every this many records (default 256). */
  indexEvery: number;
  /** The WebAssembly byte loop (`record-wasm.ts`); absent: the JavaScript loop, same results. */
  compactModule?: CompactModule | null;
}

/** `[lo, hi)` decades of divergence from 1e-9 to 1e3. */
export const DECADES: readonly number[] = Array.from({ length: 13 }, (_, i) => 10 ** (i - 9));

class SlotAcc {
  requests = 0;
  errors = 0;
  hits = 0;
  misses = 0;
  other = 0;
  none = 0;
  degraded = 0;
  latency = new LogHistogram(LATENCY_LAYOUT);
  constructor(readonly name: string) {}
}

export interface SlotAccState {
  name: string;
  n: [requests: number, errors: number, hits: number, misses: number, other: number, none: number, degraded: number];
  latency: HistogramState;
}

export interface AccumulatorState {
  slots: SlotAccState[];
  kinds: [string, number][];
  versions: string[];
  shadow: { count: number; errors: number; noDiv: number; divZero: number; minCos: number; sumCos: number; nCos: number; decades: number[]; latency: HistogramState; div: HistogramState };
  seq: { min: number; max: number; n: number };
  ts: { first: number; last: number };
  episodes: EpisodeState;
  timeline: TimelineState;
}

/** Everything about the records that does not depend on where they are in the file. */
export class SummaryAccumulator {
  readonly slotNames: string[] = [];
  private readonly slotIdx = new Map<string, number>();
  readonly slots: SlotAcc[] = [];
  readonly kinds = new Map<string, number>();
  readonly versions = new Set<string>();
  readonly shadowLatency = new LogHistogram(LATENCY_LAYOUT);
  readonly shadowDiv = new LogHistogram(DIVERGENCE_LAYOUT);
  readonly decadeCounts = new Array<number>(DECADES.length + 1).fill(0);
  divZero = 0;
  shadowCount = 0;
  shadowErrors = 0;
  shadowNoDiv = 0;
  minCos = Infinity;
  sumCos = 0;
  nCos = 0;
  minSeq = Infinity;
  maxSeq = -Infinity;
  requestsWithSeq = 0;
  firstTs = Infinity;
  lastTs = -Infinity;
  readonly episodes: EpisodeTracker;
  readonly timeline: Timeline;

  constructor(readonly opts: AccumulatorOptions) {
    this.episodes = new EpisodeTracker(opts.maxTrackedEpisodes, opts.topEpisodes);
    this.timeline = new Timeline(opts.timelineBuckets);
    if (Number.isFinite(opts.origin)) this.timeline.setOrigin(opts.origin);
    if (opts.timelineWidth !== undefined) this.timeline.presize(opts.timelineWidth);
  }

  slotOf(name: string): number {
    let i = this.slotIdx.get(name);
    if (i === undefined) {
      if (this.slotNames.length >= this.opts.maxSlots - 1 && name !== '(other)') return this.slotOf('(other)');
      i = this.slotNames.length;
      name = detach(name);
      this.slotNames.push(name);
      this.slots.push(new SlotAcc(name));
      this.slotIdx.set(name, i);
    }
    return i;
  }

  countKind(kind: string): void {
    const n = this.kinds.get(kind);
    if (n !== undefined) this.kinds.set(kind, n + 1);
    else if (this.kinds.size < 64) this.kinds.set(detach(kind), 1);
    else this.kinds.set('(other)', (this.kinds.get('(other)') ?? 0) + 1);
  }

  /** A scanned `request` or `shadow_result` record (other kinds are only counted). Returns a request's slot index, else -1. */
  add(scan: ScannedRecord): number {
    const kind = scan.kind ?? '(none)';
    this.countKind(kind);
    const sv = scan.schemaVersion;
    if (sv !== 1) this.versions.add(sv === sv ? String(sv) : 'missing');
    if (kind === 'request') {
      const si = this.slotOf(scan.slot ?? 'prod');
      const s = this.slots[si]!;
      s.requests++;
      const err = scan.error;
      if (err) s.errors++;
      const c = scan.cache;
      if (c === CACHE_HIT) s.hits++;
      else if (c === CACHE_MISS) s.misses++;
      else if (c === CACHE_OTHER) s.other++;
      else s.none++;
      if (scan.degraded) s.degraded++;
      s.latency.add(scan.latencyMs);
      const tMs = scan.timestamp * 1000;
      if (tMs < this.firstTs) this.firstTs = tMs;
      if (tMs > this.lastTs) this.lastTs = tMs;
      this.timeline.addRequest(tMs, si, scan.latencyMs, err, c);
      const seq = scan.seq;
      if (seq === seq) {
        this.requestsWithSeq++;
        if (seq < this.minSeq) this.minSeq = seq;
        if (seq > this.maxSeq) this.maxSeq = seq;
      }
      this.episodes.add(scan.episodeId, si, seq, tMs, err);
      return si;
    } else if (kind === 'shadow_result') {
      this.shadowCount++;
      if (scan.error) this.shadowErrors++;
      this.shadowLatency.add(scan.latencyMs);
      const d = scan.divMaxAbs;
      if (scan.hasDivergence && d === d) {
        this.shadowDiv.add(d);
        if (d === 0) this.divZero++;
        else {
          let k = 0;
          while (k < DECADES.length && d >= DECADES[k]!) k++;
          this.decadeCounts[k]!++;
        }
        const cos = scan.divCosine;
        if (cos === cos) {
          if (cos < this.minCos) this.minCos = cos;
          this.sumCos += cos;
          this.nCos++;
        }
      } else this.shadowNoDiv++;
      this.timeline.addShadow(scan.timestamp * 1000, d === d ? d : -Infinity);
    }
    return -1;
  }

  toState(): AccumulatorState {
    return {
      slots: this.slots.map((s) => ({ name: s.name, n: [s.requests, s.errors, s.hits, s.misses, s.other, s.none, s.degraded], latency: s.latency.toState() })),
      kinds: [...this.kinds],
      versions: [...this.versions],
      shadow: {
        count: this.shadowCount,
        errors: this.shadowErrors,
        noDiv: this.shadowNoDiv,
        divZero: this.divZero,
        minCos: this.minCos,
        sumCos: this.sumCos,
        nCos: this.nCos,
        decades: this.decadeCounts,
        latency: this.shadowLatency.toState(),
        div: this.shadowDiv.toState(),
      },
      seq: { min: this.minSeq, max: this.maxSeq, n: this.requestsWithSeq },
      ts: { first: this.firstTs, last: this.lastTs },
      episodes: this.episodes.toState(this.slotNames),
      timeline: this.timeline.toState(this.slotNames),
    };
  }

  /** Adds the state of another accumulator (from another thread). */
  mergeState(st: AccumulatorState): void {
    for (const s of st.slots) {
      const mine = this.slots[this.slotOf(s.name)]!;
      mine.requests += s.n[0];
      mine.errors += s.n[1];
      mine.hits += s.n[2];
      mine.misses += s.n[3];
      mine.other += s.n[4];
      mine.none += s.n[5];
      mine.degraded += s.n[6];
      mine.latency.merge(LogHistogram.fromState(s.latency));
    }
    for (const [k, n] of st.kinds) this.kinds.set(k, (this.kinds.get(k) ?? 0) + n);
    for (const v of st.versions) this.versions.add(v);
    const sh = st.shadow;
    this.shadowCount += sh.count;
    this.shadowErrors += sh.errors;
    this.shadowNoDiv += sh.noDiv;
    this.divZero += sh.divZero;
    if (sh.minCos < this.minCos) this.minCos = sh.minCos;
    this.sumCos += sh.sumCos;
    this.nCos += sh.nCos;
    sh.decades.forEach((n, i) => (this.decadeCounts[i]! += n));
    this.shadowLatency.merge(LogHistogram.fromState(sh.latency));
    this.shadowDiv.merge(LogHistogram.fromState(sh.div));
    if (st.seq.min < this.minSeq) this.minSeq = st.seq.min;
    if (st.seq.max > this.maxSeq) this.maxSeq = st.seq.max;
    this.requestsWithSeq += st.seq.n;
    if (st.ts.first < this.firstTs) this.firstTs = st.ts.first;
    if (st.ts.last > this.lastTs) this.lastTs = st.ts.last;
    this.episodes.mergeState(st.episodes, (n) => this.slotOf(n));
    this.timeline.mergeState(st.timeline, (n) => this.slotOf(n));
  }

  episodeSummary(): EpisodeSummary {
    return this.episodes.summary(this.slotNames);
  }

  timelineJson(): TimelineJson {
    return this.timeline.toJSON(this.slotNames);
  }
}

/** What a block of lines says about its place in the file, relative to the block. */
export interface ChunkResult {
  chunkNo: number;
  /** Complete records (non-blank lines, a partial last line excluded). */
  records: number;
  /** Lines, blank ones included (a final line without newline counts). */
  lines: number;
  /** Index points: relative record index, byte offset in the block, line number, seq range up to the next point. */
  points: { rel: number; offset: number; line: number; minSeq: number; maxSeq: number }[];
  chain: {
    checked: number;
    fast: number;
    exact: number;
    audited: number;
    /** The first record's `prev_record_hash` (blocks after the first); null when it has none. */
    firstPrev: string | null;
    /** The last verified record's hash. */
    lastHash: string;
    broken: { rel: number; line: number; kind: ChainBreakKind; reason: string } | null;
  };
  /** Lines (numbers in the file) that are not JSON objects: the first few. */
  bad: { line: number; reason: string }[];
  badCount: number;
  /** The first header in the block (its relative index) and the last footer. */
  header: { rel: number; record: Record<string, unknown> } | null;
  footer: { rel: number; record: Record<string, unknown> } | null;
  /** The block's last line had no newline and is not a complete record. */
  partial: { line: number; bytes: number } | null;
  /** Slots in the order their first request appears in the block (the summary lists slots in file order, whichever thread saw them). */
  slotsSeen: string[];
}

function isBlankText(t: string): boolean {
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

function parsePlain(text: string): Record<string, unknown> | null {
  try {
    // The JSON round trip copies every string (see `detach`).
    return JSON.parse(JSON.stringify(toPlain(parseTraceLine(text)))) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** Processes blocks of whole lines into an accumulator; one per thread. */
export class ChunkProcessor {
  private readonly scan = new RecordScanner();
  private readonly rec = new ByteRecord();
  /** Where `compactRecord` builds a line's hashed text (twice the longest line, plus room). */
  private scratch: Buffer = Buffer.allocUnsafeSlow(1 << 16);
  private scratchU8 = new Uint8Array(this.scratch.buffer, this.scratch.byteOffset, this.scratch.length);

  private readonly wasm: WasmCompactor | null;

  constructor(
    readonly acc: SummaryAccumulator,
    private readonly opts: ProcessorOptions,
  ) {
    this.wasm = opts.compactModule ? new WasmCompactor(opts.compactModule) : null;
  }

  /**
   * `buf` holds whole lines, each ending in a newline, except, when `final`, the last one (the
   * end of the file without a newline: a complete record, or a partial line that is reported).
   * `lineBase` is the number of lines in the file before the block.
   *
   * A pure-ASCII line is read once as bytes (`compactRecord`: summary fields and the chain's text
   * together); a line that way cannot take (non-ASCII, an escaped key, a key met twice, not JSON,
   * the unterminated last line) goes the string way (`RecordScanner`, `FastChain.checkBytes`).
   */
  process(buf: Uint8Array, chunkNo: number, final: boolean, lineBase: number): ChunkResult {
    const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    // A plain view for the byte-level work (a Buffer's element access and subarray are slower).
    const u8 = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    const chain = new FastChain({ mode: this.opts.chain, trustFirstPrev: chunkNo > 0, auditFirst: chunkNo === 0 ? 16 : 1 });
    const res: ChunkResult = {
      chunkNo,
      records: 0,
      lines: 0,
      points: [],
      chain: { checked: 0, fast: 0, exact: 0, audited: 0, firstPrev: null, lastHash: '', broken: null },
      bad: [],
      badCount: 0,
      header: null,
      footer: null,
      partial: null,
      slotsSeen: [],
    };
    const seen: boolean[] = [];
    const every = this.opts.indexEvery;
    let point: ChunkResult['points'][number] | null = null;
    const scan = this.scan;
    const acc = this.acc;
    const counted = (fields: ScannedRecord, rel: number, kind: string | null, text: () => string): void => {
      const seq = fields.seq;
      if (seq === seq && point) {
        if (seq < point.minSeq) point.minSeq = seq;
        if (seq > point.maxSeq) point.maxSeq = seq;
      }
      if (kind === 'header') {
        if (res.header === null) {
          const r = parsePlain(text());
          if (r) res.header = { rel, record: r };
        }
      } else if (kind === 'footer') {
        const r = parsePlain(text());
        if (r) res.footer = { rel, record: r };
      }
      const si = acc.add(fields);
      if (si >= 0 && seen[si] !== true) {
        seen[si] = true;
        res.slotsSeen.push(acc.slotNames[si]!);
      }
    };
    const newRecord = (offset: number, lineNo: number): number => {
      const rel = res.records++;
      if (rel % every === 0) {
        point = { rel, offset, line: lineNo, minSeq: Infinity, maxSeq: -Infinity };
        res.points.push(point);
      }
      return rel;
    };
    const line = (text: string, offset: number, end: number, terminated: boolean, bytes: number, ascii: boolean): void => {
      const lineNo = lineBase + ++res.lines;
      if (text.length === 0 || (text.charCodeAt(0) !== 0x7b && isBlankText(text))) return;
      const ok = scan.scan(text);
      if (!ok && !terminated) {
        res.partial = { line: lineNo, bytes };
        return;
      }
      const rel = newRecord(offset, lineNo);
      if (!ok) {
        res.badCount++;
        if (res.bad.length < 10) res.bad.push({ line: lineNo, reason: scan.problem });
        acc.countKind('(not JSON)');
        chain.badLine(rel, lineNo, scan.problem);
        return;
      }
      if (chain.active) chain.checkBytes(u8, offset, end, text, ascii, rel, lineNo);
      counted(scan, rel, scan.kind, () => text);
    };

    const n = u8.length;
    // Lines are decoded one by one into flat strings when they go the string way: scanning a slice
    // of one big string is about twice as slow in V8 (every character access goes through the
    // parent), and a copy is cheap.
    const ascii = isAscii(b);
    const rec = this.rec;
    // The line being read the byte way, decoded only when something needs its text.
    let curFrom = 0;
    let curEnd = 0;
    let curText: string | null = null;
    const curLine = () => (curText ??= b.toString('latin1', curFrom, curEnd));
    const wasm = this.wasm !== null && this.wasm.load(u8) ? this.wasm : null;
    let wOut: Uint8Array = this.scratchU8;
    let wOutBuf: Buffer = this.scratch;
    if (wasm) {
      wOut = new Uint8Array(wasm.heap.buffer, wasm.out);
      wOutBuf = Buffer.from(wasm.heap.buffer, wasm.out);
    }
    let pos = 0;
    while (pos < n) {
      let nl = u8.indexOf(0x0a, pos);
      const terminated = nl >= 0;
      if (!terminated) nl = n;
      const end = nl > pos && u8[nl - 1] === 0x0d ? nl - 1 : nl;
      const asc = ascii || isAscii(b.subarray(pos, end));
      // Switchyard's own lines (chain tail last, canonical before it) are hashed as written, and
      // the string scan's native `indexOf` jumps over their arrays faster than a byte loop
      // visits them; every other layout is rebuilt byte by byte, with its fields on the way.
      if (asc && (terminated || !final) && end > pos && !hasOwnTail(u8, pos, end)) {
        // The WebAssembly loop where it loaded; the JavaScript loop for the rest (the same text).
        let len = wasm ? wasm.compact(pos, end, rec) : -1;
        let src: Uint8Array = wasm ? wasm.heap : u8;
        let out = wOut;
        let outBuf = wOutBuf;
        if (len <= 0) {
          const need = 2 * (end - pos + 64);
          if (this.scratchU8.length < need) {
            this.scratch = Buffer.allocUnsafeSlow(Math.max(need, this.scratch.length * 2));
            this.scratchU8 = new Uint8Array(this.scratch.buffer, this.scratch.byteOffset, this.scratch.length);
          }
          len = compactRecord(u8, pos, end, this.scratchU8, rec);
          src = u8;
          out = this.scratchU8;
          outBuf = this.scratch;
        }
        if (len > 0) {
          const lineNo = lineBase + ++res.lines;
          const rel = newRecord(pos, lineNo);
          curFrom = pos;
          curEnd = end;
          curText = null;
          if (chain.active) chain.checkBuilt(src, out, outBuf, len, curLine, rel, lineNo);
          counted(rec, rel, rec.kind, curLine);
          pos = nl + 1;
          continue;
        }
      }
      line(b.toString(asc ? 'latin1' : 'utf8', pos, end), pos, end, terminated || !final, nl - pos, asc);
      pos = nl + 1;
    }
    const ci = chain.integrity;
    res.chain = {
      checked: ci.checked,
      fast: ci.fastPath,
      exact: ci.exactPath,
      audited: ci.audited,
      firstPrev: chain.firstPrev === null ? null : detach(chain.firstPrev),
      lastHash: detach(chain.lastHash),
      broken: ci.firstBroken ? { rel: ci.firstBroken.index, line: ci.firstBroken.line, kind: ci.firstBroken.kind, reason: ci.firstBroken.reason } : null,
    };
    return res;
  }
}
