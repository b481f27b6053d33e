/**
 * Episodes of a trace with bounded memory. Up to `maxTracked` distinct episodes every count is
 * exact. Past that the tracker turns approximate: distinct counts come from HyperLogLog sketches
 * (±1.6 %), and the per-episode table keeps the heaviest episodes (Space-Saving with batch
 * eviction: a kept episode's request count may be over-estimated by at most `maxError`, never
 * under-estimated), so the top-N list stays right for the episodes that matter.
 */

import { detach } from './record-scan.js';

/** A 32-bit hash of a string (FNV-1a, then murmur3's finalizer to spread the bits). */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** HyperLogLog with 2^12 registers (4 KiB, standard error about 1.6 %). */
export class HyperLogLog {
  private static readonly P = 12;
  private readonly reg = new Uint8Array(1 << HyperLogLog.P);

  addHash(h: number): void {
    const idx = h >>> (32 - HyperLogLog.P);
    const w = (h << HyperLogLog.P) >>> 0;
    // rank = leading zeros of the remaining 20 bits + 1 (capped when they are all zero)
    const rank = w === 0 ? 32 - HyperLogLog.P + 1 : Math.clz32(w) + 1;
    if (rank > this.reg[idx]!) this.reg[idx] = rank;
  }

  get registers(): Uint8Array {
    return this.reg;
  }

  /** Adds another sketch (register-wise maximum). */
  mergeRegisters(r: Uint8Array): void {
    for (let i = 0; i < this.reg.length; i++) if (r[i]! > this.reg[i]!) this.reg[i] = r[i]!;
  }

  estimate(): number {
    const m = this.reg.length;
    let sum = 0;
    let zeros = 0;
    for (let i = 0; i < m; i++) {
      const r = this.reg[i]!;
      sum += 2 ** -r;
      if (r === 0) zeros++;
    }
    const alpha = 0.7213 / (1 + 1.079 / m);
    const e = (alpha * m * m) / sum;
    if (e <= 2.5 * m && zeros > 0) return Math.round(m * Math.log(m / zeros)); // linear counting for small sets
    return Math.round(e);
  }
}

export interface EpisodeEntry {
  requests: number;
  errors: number;
  /** Bit i set when the episode was served by slot i. */
  slots: number;
  firstSeq: number;
  lastSeq: number;
  /** Epoch milliseconds. */
  firstTs: number;
  lastTs: number;
}

export interface TopEpisode {
  episodeId: string;
  requests: number;
  errors: number;
  slots: string[];
  firstSeq: number | null;
  lastSeq: number | null;
  firstTimestamp: string | null;
  lastTimestamp: string | null;
}

export interface EpisodeSummary {
  /** Distinct episode ids (requests without one are `withoutEpisode`). */
  count: number;
  /** True when the trace held more than `maxTracked` episodes: counts are HyperLogLog estimates. */
  approximate: boolean;
  /** Distinct episodes per slot. */
  perSlot: Record<string, number>;
  /** Episodes served by more than one slot (exact mode only; null when approximate). */
  multiSlot: number | null;
  /** Requests that had no episode id (degraded routing). */
  withoutEpisode: number;
  /** Most requests first. */
  top: TopEpisode[];
  /** Upper bound of the over-estimate of a top episode's request count (0 when exact). */
  maxError: number;
}

const iso = (ms: number): string | null => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);

/** An episode tracker's state for another thread. */
export interface EpisodeState {
  slotNames: string[];
  ids: string[];
  /** Per entry: requests, errors, slots (bitmask over `slotNames`), firstSeq, lastSeq, firstTs, lastTs. */
  cols: Float64Array;
  approximate: boolean;
  floor: number;
  hll: Uint8Array;
  slotHll: (Uint8Array | null)[];
  without: number;
}

const COLS = 7;

export class EpisodeTracker {
  private readonly map = new Map<string, EpisodeEntry>();
  private approximate = false;
  private floor = 0;
  private readonly hll = new HyperLogLog();
  private readonly slotHll: HyperLogLog[] = [];
  private without = 0;

  constructor(
    private readonly maxTracked = 100_000,
    private readonly topN = 20,
  ) {}

  add(id: string | null, slot: number, seq: number, tsMs: number, error: boolean): void {
    if (id === null) {
      this.without++;
      return;
    }
    const bit = 1 << slot;
    let e = this.map.get(id);
    // Once approximate, every request feeds the sketches (the table no longer knows every episode).
    const wasApprox = this.approximate;
    if (wasApprox) {
      const h = hash32(id);
      this.hll.addHash(h);
      this.slotSketch(slot).addHash(h);
    }
    if (e === undefined) {
      if (this.map.size >= this.maxTracked) this.evict();
      e = { requests: this.floor, errors: 0, slots: 0, firstSeq: seq, lastSeq: seq, firstTs: tsMs, lastTs: tsMs };
      this.map.set(detach(id), e);
      if (!wasApprox) this.hll.addHash(hash32(id));
    }
    if ((e.slots & bit) === 0) {
      if (!wasApprox) this.slotSketch(slot).addHash(hash32(id));
      e.slots |= bit;
    }
    e.requests++;
    if (error) e.errors++;
    if (seq === seq) {
      if (!(seq >= e.firstSeq)) e.firstSeq = seq;
      if (!(seq <= e.lastSeq)) e.lastSeq = seq;
    }
    if (tsMs === tsMs) {
      if (!(tsMs >= e.firstTs)) e.firstTs = tsMs;
      if (!(tsMs <= e.lastTs)) e.lastTs = tsMs;
    }
  }

  private slotSketch(slot: number): HyperLogLog {
    let s = this.slotHll[slot];
    if (!s) this.slotHll[slot] = s = new HyperLogLog();
    return s;
  }

  /** Drops the lighter half of the table (Space-Saving, batched). */
  private evict(): void {
    this.approximate = true;
    const counts: number[] = [];
    for (const e of this.map.values()) counts.push(e.requests);
    counts.sort((a, b) => a - b);
    const cut = counts[Math.floor(counts.length / 2)] ?? 0;
    let dropped = 0;
    const target = Math.ceil(this.map.size / 2);
    for (const [k, e] of this.map) {
      if (e.requests <= cut) {
        this.map.delete(k);
        if (e.requests > this.floor) this.floor = e.requests;
        if (++dropped >= target) break;
      }
    }
  }

  toState(slotNames: readonly string[]): EpisodeState {
    const ids = [...this.map.keys()];
    const cols = new Float64Array(ids.length * COLS);
    let i = 0;
    for (const e of this.map.values()) {
      cols[i++] = e.requests;
      cols[i++] = e.errors;
      cols[i++] = e.slots;
      cols[i++] = e.firstSeq;
      cols[i++] = e.lastSeq;
      cols[i++] = e.firstTs;
      cols[i++] = e.lastTs;
    }
    return {
      slotNames: [...slotNames],
      ids,
      cols,
      approximate: this.approximate,
      floor: this.floor,
      hll: this.hll.registers,
      slotHll: slotNames.map((_, k) => this.slotHll[k]?.registers ?? null),
      without: this.without,
    };
  }

  /** Adds another tracker's state; `slotIndex` maps its slot names to this tracker's slot indices. */
  mergeState(st: EpisodeState, slotIndex: (name: string) => number): void {
    const remap = st.slotNames.map((n) => slotIndex(n));
    const bits = (mask: number) => {
      let out = 0;
      for (let k = 0; k < remap.length; k++) if (mask & (1 << k)) out |= 1 << remap[k]!;
      return out;
    };
    if (st.approximate) this.approximate = true;
    this.floor += st.floor;
    this.without += st.without;
    this.hll.mergeRegisters(st.hll);
    st.slotHll.forEach((r, k) => {
      if (r) this.slotSketch(remap[k]!).mergeRegisters(r);
    });
    for (let i = 0; i < st.ids.length; i++) {
      const o = i * COLS;
      const c = st.cols;
      const id = st.ids[i]!;
      const e = this.map.get(id);
      if (e) {
        e.requests += c[o]!;
        e.errors += c[o + 1]!;
        e.slots |= bits(c[o + 2]!);
        if (!(c[o + 3]! >= e.firstSeq)) e.firstSeq = c[o + 3]!;
        if (!(c[o + 4]! <= e.lastSeq)) e.lastSeq = c[o + 4]!;
        if (!(c[o + 5]! >= e.firstTs)) e.firstTs = c[o + 5]!;
        if (!(c[o + 6]! <= e.lastTs)) e.lastTs = c[o + 6]!;
      } else {
        if (this.map.size >= this.maxTracked) this.evict();
        this.map.set(id, { requests: c[o]!, errors: c[o + 1]!, slots: bits(c[o + 2]!), firstSeq: c[o + 3]!, lastSeq: c[o + 4]!, firstTs: c[o + 5]!, lastTs: c[o + 6]! });
      }
    }
  }

  /** Every tracked episode, first started first (the Replay page's episode rows and list). */
  list(slotNames: readonly string[]): { episodeId: string; requests: number; errors: number; slots: string[]; firstMs: number | null; lastMs: number | null; firstSeq: number | null; lastSeq: number | null }[] {
    const fin = (x: number) => (Number.isFinite(x) ? x : null);
    const out = [...this.map.entries()].map(([episodeId, e]) => ({
      episodeId,
      requests: e.requests,
      errors: e.errors,
      slots: slotNames.filter((_, i) => (e.slots & (1 << i)) !== 0),
      firstMs: fin(e.firstTs),
      lastMs: fin(e.lastTs),
      firstSeq: fin(e.firstSeq),
      lastSeq: fin(e.lastSeq),
    }));
    out.sort((a, b) => (a.firstMs ?? Infinity) - (b.firstMs ?? Infinity) || (a.firstSeq ?? 0) - (b.firstSeq ?? 0));
    return out;
  }

  summary(slotNames: readonly string[]): EpisodeSummary {
    const perSlot: Record<string, number> = {};
    let multi = 0;
    if (this.approximate) {
      slotNames.forEach((name, i) => {
        const n = this.slotHll[i]?.estimate() ?? 0;
        if (n > 0) perSlot[name] = n;
      });
    } else {
      const counts = new Array<number>(slotNames.length).fill(0);
      for (const e of this.map.values()) {
        let m = e.slots;
        if (m & (m - 1)) multi++;
        for (let k = 0; m !== 0; k++, m >>>= 1) if (m & 1) counts[k]!++;
      }
      slotNames.forEach((name, i) => {
        if (counts[i]! > 0) perSlot[name] = counts[i]!;
      });
    }
    const entries = [...this.map.entries()];
    entries.sort((a, b) => b[1].requests - a[1].requests || (a[1].firstSeq < b[1].firstSeq ? -1 : 1));
    const top = entries.slice(0, this.topN).map(([episodeId, e]) => ({
      episodeId,
      requests: e.requests,
      errors: e.errors,
      slots: slotNames.filter((_, i) => (e.slots & (1 << i)) !== 0),
      firstSeq: Number.isFinite(e.firstSeq) ? e.firstSeq : null,
      lastSeq: Number.isFinite(e.lastSeq) ? e.lastSeq : null,
      firstTimestamp: iso(e.firstTs),
      lastTimestamp: iso(e.lastTs),
    }));
    return {
      count: this.approximate ? this.hll.estimate() : this.map.size,
      approximate: this.approximate,
      perSlot,
      multiSlot: this.approximate ? null : multi,
      withoutEpisode: this.without,
      top,
      maxError: this.floor,
    };
  }
}
