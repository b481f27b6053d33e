/**
 * Server-side aggregation for the Replay page's charts. The summary pass keeps a fine timeline
 * (thousands of buckets, whatever the trace's size); a chart asks for a window and a number of
 * bins and gets exactly that many points per slot, so a million requests draw as fast as a
 * thousand and zooming is a re-binning of what is already in memory, never a re-read of the file.
 */
import type { TimelineJson } from './timeline.js';

export interface BinQuery {
  /** Window in epoch ms (default: the whole trace). */
  fromMs?: number;
  toMs?: number;
  /** Points per slot (1..4,000). */
  bins: number;
}

export interface SlotBins {
  slot: string;
  requests: number[];
  errors: number[];
  /** Request-weighted mean of the source buckets' medians; null for an empty bin. */
  p50Ms: (number | null)[];
  maxMs: (number | null)[];
  cacheHitRate: (number | null)[];
}

export interface Binned {
  fromMs: number;
  toMs: number;
  binMs: number;
  /** Width of the source buckets: zooming in further than this shows no more detail. */
  resolutionMs: number;
  slots: SlotBins[];
  shadow: { count: number[]; maxDivergence: (number | null)[] };
}

/** The trace's time extent as the timeline covers it: [start, end). */
export function timelineExtent(t: TimelineJson): { startMs: number; endMs: number } | null {
  if (t.startMs === null || t.buckets === 0) return null;
  return { startMs: t.startMs, endMs: t.startMs + t.buckets * t.bucketMs };
}

/**
 * Re-bins `t` over [fromMs, toMs) into `bins` equal bins. A source bucket is attributed to the bin
 * holding its midpoint, so counts are conserved (each request lands in exactly one bin).
 */
export function rebin(t: TimelineJson, q: BinQuery): Binned {
  const bins = Math.max(1, Math.min(4000, Math.floor(q.bins)));
  const ext = timelineExtent(t);
  const start = ext?.startMs ?? 0;
  const end = ext?.endMs ?? 1;
  let from = q.fromMs ?? start;
  let to = q.toMs ?? end;
  if (!(to > from)) to = from + 1;
  if (!Number.isFinite(from) || !Number.isFinite(to)) {
    from = start;
    to = end;
  }
  const binMs = (to - from) / bins;
  const zeros = () => new Array<number>(bins).fill(0);
  const nulls = () => new Array<number | null>(bins).fill(null);
  const slots: SlotBins[] = t.slots.map((s) => ({ slot: s.slot, requests: zeros(), errors: zeros(), p50Ms: nulls(), maxMs: nulls(), cacheHitRate: nulls() }));
  const p50Sum = t.slots.map(() => zeros());
  const p50N = t.slots.map(() => zeros());
  const hits = t.slots.map(() => zeros());
  const hitN = t.slots.map(() => zeros());
  const shadow = { count: zeros(), maxDivergence: nulls() };
  if (ext) {
    const b0 = Math.max(0, Math.floor((from - start) / t.bucketMs));
    const b1 = Math.min(t.buckets, Math.ceil((to - start) / t.bucketMs));
    for (let b = b0; b < b1; b++) {
      const mid = start + (b + 0.5) * t.bucketMs;
      if (mid < from || mid >= to) continue;
      const j = Math.min(bins - 1, Math.floor((mid - from) / binMs));
      t.slots.forEach((s, k) => {
        const n = s.requests[b] ?? 0;
        if (n === 0) return;
        const out = slots[k]!;
        out.requests[j]! += n;
        out.errors[j]! += s.errors[b] ?? 0;
        const p = s.p50Ms[b];
        if (p !== null && p !== undefined) {
          p50Sum[k]![j]! += p * n;
          p50N[k]![j]! += n;
        }
        const m = s.maxMs[b];
        if (m !== null && m !== undefined && (out.maxMs[j] === null || m > out.maxMs[j]!)) out.maxMs[j] = m;
        const h = s.cacheHitRate[b];
        if (h !== null && h !== undefined) {
          hits[k]![j]! += h * n;
          hitN[k]![j]! += n;
        }
      });
      const c = t.shadow.count[b] ?? 0;
      if (c > 0) {
        shadow.count[j]! += c;
        const d = t.shadow.maxDivergence[b];
        if (d !== null && d !== undefined && (shadow.maxDivergence[j] === null || d > shadow.maxDivergence[j]!)) shadow.maxDivergence[j] = d;
      }
    }
    slots.forEach((s, k) => {
      for (let j = 0; j < bins; j++) {
        if (p50N[k]![j]! > 0) s.p50Ms[j] = p50Sum[k]![j]! / p50N[k]![j]!;
        if (hitN[k]![j]! > 0) s.cacheHitRate[j] = hits[k]![j]! / hitN[k]![j]!;
      }
    });
  }
  return { fromMs: from, toMs: to, binMs, resolutionMs: t.bucketMs, slots, shadow };
}

export interface EpisodeSpan {
  episodeId: string;
  requests: number;
  errors: number;
  slots: string[];
  firstMs: number | null;
  lastMs: number | null;
  firstSeq: number | null;
  lastSeq: number | null;
}

/** Episodes whose span meets [fromMs, toMs] (all when no window), first started first; `search` matches a substring of the id. */
export function episodesInWindow(all: readonly EpisodeSpan[], q: { fromMs?: number; toMs?: number; search?: string; offset?: number; limit?: number }): { total: number; episodes: EpisodeSpan[] } {
  const needle = q.search?.trim().toLowerCase() ?? '';
  const from = q.fromMs ?? -Infinity;
  const to = q.toMs ?? Infinity;
  const hit = all.filter((e) => (needle === '' || e.episodeId.toLowerCase().includes(needle)) && (e.lastMs ?? -Infinity) >= from && (e.firstMs ?? Infinity) <= to);
  const offset = Math.max(0, q.offset ?? 0);
  const limit = Math.max(1, Math.min(2000, q.limit ?? 200));
  return { total: hit.length, episodes: hit.slice(offset, offset + limit) };
}
