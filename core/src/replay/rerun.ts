/**
 * Re-runs a trace's requests against another version (spec §7.6, §8 `replay --model`) and
 * compares each answer with the recorded one.
 *
 * - Requests stream from the file (never all in memory) and are sent in `seq` order: a bounded
 *   reordering window (default 4,096 records) puts slightly out-of-order records (concurrent
 *   requests finish out of order) back in order.
 * - Each `(episode_id, state)` goes to one runner (`PolicyRunner.act`); requests of the same
 *   episode are sent one after the other, in order, so an iterative policy's episode cache sees
 *   the episode as it was served live (warm starts, hits and misses). Requests of different
 *   episodes may overlap (`concurrency`). Requests that failed when recorded are not re-sent
 *   (they did not reach the live cache either) and are counted as `recordedErrors`.
 * - Per request: action divergence (max abs difference, cosine; over the common prefix of the
 *   action chunk when only the chunk length differs), latency ratio (re-run / recorded), cache
 *   status match (hit / miss / none). Aggregated per recorded slot and overall, with a
 *   downsampled divergence series for a chart.
 * - `output`: a JSONL report, one `rerun_request` line per request, then one `rerun_summary` line;
 *   written as it goes.
 * - The chain is checked in the same pass (`FastChain`); a broken chain is reported, not fatal.
 * - Progress every `progressIntervalMs`; `signal` stops it: what was compared so far is returned
 *   with `cancelled: true` (and written, when there is an output file).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { ErrorCodes, SwitchyardError, toErrorShape, type SwitchyardErrorShape } from '../contract/errors.js';
import { actionDivergence } from '../domain/divergence.js';
import { toPlain } from '../trace/canonical-json.js';
import { parseTraceLine } from '../trace/trace-reader.js';
import { PolicyRunner } from '../runtime/policy-runner.js';
import type { ActInput, ActOutput, PolicyExport } from '../runtime/types.js';
import { evaluateFailOn, DIFF_ASPECTS, type DiffAspect, type FailCondition, type FailOnMetrics, type FailOnOutcome } from './fail-on.js';
import { FastChain, type ChainIntegrity, type ChainMode } from './fast-chain.js';
import { DIVERGENCE_LAYOUT, LATENCY_LAYOUT, latencyStats, LogHistogram, type LatencyStats } from './histogram.js';
import { streamLines, traceFileInfo } from '../trace/line-source.js';
import type { ReplayProgress } from './trace-summary.js';

/** What a re-run needs from a policy: `PolicyRunner` fits. */
export interface ActRunner {
  act(input: ActInput): Promise<ActOutput>;
}

export interface RerunOptions {
  trace: string;
  runner: ActRunner;
  /** Shown in the report: the version re-run against. */
  model?: { ref: string; modelVersion: string | null; observationDim?: number };
  /** What to compare (default all). */
  diff?: readonly DiffAspect[];
  failOn?: readonly FailCondition[];
  /** Write a JSONL report here (one line per request, then a summary line). */
  output?: string;
  /** Requests in flight at once, across episodes (default 1 when latency is compared, so each is timed alone; 8 otherwise). */
  concurrency?: number;
  /** Re-run only the first N requests (by seq). */
  limit?: number;
  /** Records held back to put requests in seq order (default 4,096). */
  reorderWindow?: number;
  chain?: ChainMode;
  signal?: AbortSignal;
  onProgress?: (p: ReplayProgress) => void;
  progressIntervalMs?: number;
}

export interface RerunAggregate {
  slot: string;
  /** Requests re-run (recorded errors excluded). */
  requests: number;
  /** Re-run requests that failed. */
  errors: number;
  /** Requests that had failed when recorded (not re-run). */
  recordedErrors: number;
  actions: {
    compared: number;
    /** Action shapes differ (different action_dim, or no actions): no divergence. */
    incomparable: number;
    /** Compared over the common prefix because the chunk lengths differ. */
    prefixOnly: number;
    /** Requests whose actions differ at all (max abs > 0). */
    differing: number;
    max: number | null;
    mean: number | null;
    p50: number | null;
    p99: number | null;
    minCosine: number | null;
    meanCosine: number | null;
  } | null;
  latency: { recordedMs: LatencyStats; rerunMs: LatencyStats; p50Ratio: number | null; p99Ratio: number | null; meanRatio: number | null } | null;
  cache: { compared: number; matches: number; mismatches: number; mismatchRate: number | null; recordedHitRate: number | null; rerunHitRate: number | null } | null;
}

export interface RerunResult {
  trace: string;
  model: RerunOptions['model'] | null;
  diff: DiffAspect[];
  /** Requests re-run. */
  requests: number;
  overall: RerunAggregate;
  slots: RerunAggregate[];
  /** Max and mean divergence over consecutive groups of requests (in seq order), at most 2,000 points. */
  divergenceSeries: { requestsPerPoint: number; firstSeq: (number | null)[]; max: (number | null)[]; mean: (number | null)[] } | null;
  /** Smallest cosine per group of requests (same groups as `divergenceSeries`). */
  cosineSeries?: { requestsPerPoint: number; min: (number | null)[] } | null;
  /** Mean latency per group of requests, recorded and re-run. */
  latencySeries?: { requestsPerPoint: number; recordedMean: (number | null)[]; rerunMean: (number | null)[] } | null;
  /** Episodes with the largest action divergence (at most 20), for the Replay page. */
  topEpisodes?: { episodeId: string; requests: number; maxAbs: number; minCosine: number | null; meanAbs: number }[];
  chain: ChainIntegrity;
  failOn: { tripped: boolean; outcomes: FailOnOutcome[] };
  /** Requests that arrived too late for the reordering window (sent out of seq order). */
  outOfOrder: number;
  warnings: string[];
  elapsedMs: number;
  requestsPerSecond: number;
  cancelled: boolean;
  output: string | null;
}

interface Item {
  index: number;
  seq: number | null;
  key: number;
  episodeId: string | null;
  state: number[];
  slot: string;
  actions: number[][] | null;
  latencyMs: number | null;
  cache: 'hit' | 'miss' | 'none' | 'other';
  recordedError: boolean;
}

interface Outcome {
  item: Item;
  out: ActOutput | null;
  error: SwitchyardErrorShape | null;
  ms: number;
}

/** A binary min-heap on `key` (then file index). */
class Heap {
  private a: Item[] = [];
  get size(): number {
    return this.a.length;
  }
  private less(x: Item, y: Item): boolean {
    return x.key < y.key || (x.key === y.key && x.index < y.index);
  }
  push(v: Item): void {
    const a = this.a;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): Item | undefined {
    const a = this.a;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

class Agg {
  requests = 0;
  errors = 0;
  recordedErrors = 0;
  compared = 0;
  incomparable = 0;
  prefixOnly = 0;
  differing = 0;
  readonly div = new LogHistogram(DIVERGENCE_LAYOUT);
  divMax = -Infinity;
  divNaN = false;
  minCos = Infinity;
  sumCos = 0;
  nCos = 0;
  readonly recLat = new LogHistogram(LATENCY_LAYOUT);
  readonly newLat = new LogHistogram(LATENCY_LAYOUT);
  sumRatio = 0;
  nRatio = 0;
  cacheCompared = 0;
  cacheMatches = 0;
  recHits = 0;
  recHitMiss = 0;
  newHits = 0;
  newHitMiss = 0;
  constructor(readonly slot: string) {}

  result(diff: readonly DiffAspect[]): RerunAggregate {
    const ratio = (a: number | null, b: number | null) => (a === null || b === null || b <= 0 ? null : a / b);
    return {
      slot: this.slot,
      requests: this.requests,
      errors: this.errors,
      recordedErrors: this.recordedErrors,
      actions: diff.includes('actions')
        ? {
            compared: this.compared,
            incomparable: this.incomparable,
            prefixOnly: this.prefixOnly,
            differing: this.differing,
            max: this.divNaN ? NaN : this.div.count ? this.divMax : null,
            mean: this.div.mean,
            p50: this.div.quantile(0.5),
            p99: this.div.quantile(0.99),
            minCosine: this.nCos ? this.minCos : null,
            meanCosine: this.nCos ? this.sumCos / this.nCos : null,
          }
        : null,
      latency: diff.includes('latency')
        ? {
            recordedMs: latencyStats(this.recLat),
            rerunMs: latencyStats(this.newLat),
            p50Ratio: ratio(this.newLat.quantile(0.5), this.recLat.quantile(0.5)),
            p99Ratio: ratio(this.newLat.quantile(0.99), this.recLat.quantile(0.99)),
            meanRatio: this.nRatio ? this.sumRatio / this.nRatio : null,
          }
        : null,
      cache: diff.includes('cache')
        ? {
            compared: this.cacheCompared,
            matches: this.cacheMatches,
            mismatches: this.cacheCompared - this.cacheMatches,
            mismatchRate: this.cacheCompared ? (this.cacheCompared - this.cacheMatches) / this.cacheCompared : null,
            recordedHitRate: this.recHitMiss ? this.recHits / this.recHitMiss : null,
            rerunHitRate: this.newHitMiss ? this.newHits / this.newHitMiss : null,
          }
        : null,
    };
  }
}

/** Max and mean per group of consecutive requests; groups double in size to stay under `cap` points. */
class Series {
  private per = 1;
  private n = 0;
  private readonly max: number[] = [];
  private readonly sum: number[] = [];
  private readonly cnt: number[] = [];
  private readonly first: number[] = [];
  constructor(private readonly cap = 2000) {}
  add(v: number | null, seq: number | null): void {
    let b = Math.floor(this.n / this.per);
    if (b >= this.cap) {
      for (let j = 0; j < this.cap / 2; j++) {
        const a = 2 * j;
        this.max[j] = Math.max(this.max[a]!, this.max[a + 1] ?? -Infinity);
        this.sum[j] = this.sum[a]! + (this.sum[a + 1] ?? 0);
        this.cnt[j] = this.cnt[a]! + (this.cnt[a + 1] ?? 0);
        this.first[j] = Math.min(this.first[a]!, this.first[a + 1] ?? Infinity);
      }
      this.max.length = this.sum.length = this.cnt.length = this.first.length = this.cap / 2;
      this.per *= 2;
      b = Math.floor(this.n / this.per);
    }
    this.n++;
    if (this.max.length <= b) {
      this.max.push(-Infinity);
      this.sum.push(0);
      this.cnt.push(0);
      this.first.push(Infinity);
    }
    if (seq !== null && seq < this.first[b]!) this.first[b] = seq;
    if (v !== null) {
      if (v > this.max[b]! || v !== v) this.max[b] = v;
      this.sum[b]! += v;
      this.cnt[b]!++;
    }
  }
  toJSON(): RerunResult['divergenceSeries'] {
    const fin = (x: number) => (Number.isFinite(x) ? x : null);
    return {
      requestsPerPoint: this.per,
      firstSeq: this.first.map(fin),
      max: this.max.map((m, i) => (this.cnt[i]! > 0 ? (Number.isNaN(m) ? null : fin(m)) : null)),
      mean: this.sum.map((s, i) => (this.cnt[i]! > 0 ? fin(s / this.cnt[i]!) : null)),
    };
  }
}

const obj = (v: unknown): Record<string, unknown> | null => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null);

function parseRecord(text: string): Record<string, unknown> | null {
  try {
    return obj(JSON.parse(text));
  } catch {
    try {
      return obj(toPlain(parseTraceLine(text)));
    } catch {
      return null;
    }
  }
}

function toItem(rec: Record<string, unknown>, index: number): Item | null {
  const request = obj(rec.request);
  const state = request?.state;
  if (!Array.isArray(state)) return null;
  const seq = typeof rec.seq === 'number' && Number.isFinite(rec.seq) ? rec.seq : null;
  const acts = obj(rec.response)?.actions;
  let actions: number[][] | null = null;
  if (Array.isArray(acts) && acts.every((r) => Array.isArray(r))) actions = acts as number[][];
  const status = obj(rec.cache)?.status;
  const total = obj(rec.latency)?.total_ms;
  const ep = request?.episode_id;
  return {
    index,
    seq,
    key: seq ?? Number.MAX_SAFE_INTEGER,
    episodeId: typeof ep === 'string' ? ep : null,
    state: state as number[],
    slot: (typeof obj(rec.routing)?.slot === 'string' ? (obj(rec.routing)!.slot as string) : null) ?? 'prod',
    actions,
    latencyMs: typeof total === 'number' && Number.isFinite(total) ? total : null,
    cache: status === 'hit' || status === 'miss' ? status : status === undefined || status === null ? 'none' : 'other',
    recordedError: (rec.error !== undefined && rec.error !== null) || rec.response === null,
  };
}

/** The action comparison: full when shapes match, over the common prefix when only the chunk length differs. */
function compareActions(recorded: number[][] | null, got: number[][]): { cosine: number; maxAbs: number; prefix: boolean } | null {
  if (recorded === null || recorded.length === 0 || got.length === 0) return null;
  const d = actionDivergence(recorded, got);
  if (d) return { ...d, prefix: false };
  const n = Math.min(recorded.length, got.length);
  const a = recorded.slice(0, n);
  const b = got.slice(0, n);
  const p = actionDivergence(a, b);
  return p ? { ...p, prefix: true } : null;
}

/**
 * Re-runs the requests of `opts.trace` against `opts.runner`. Throws SwitchyardError when the
 * trace cannot be read, or when its states do not fit the model (`observationDim`).
 */
export async function rerunTrace(opts: RerunOptions): Promise<RerunResult> {
  const t0 = performance.now();
  const diff = opts.diff ? DIFF_ASPECTS.filter((a) => opts.diff!.includes(a)) : [...DIFF_ASPECTS];
  const concurrency = Math.max(1, Math.min(256, opts.concurrency ?? (diff.includes('latency') ? 1 : 8)));
  const windowSize = Math.max(1, opts.reorderWindow ?? 4096);
  const limit = opts.limit ?? Infinity;
  const signal = opts.signal;
  const info = await traceFileInfo(opts.trace);
  const chain = new FastChain({ mode: opts.chain ?? 'fast' });
  const overall = new Agg('all');
  const slots = new Map<string, Agg>();
  const series = new Series();
  const negCos = new Series();
  const recLatSeries = new Series();
  const newLatSeries = new Series();
  // Per-episode divergence, bounded: past the cap new episodes are not tracked (reported as a warning).
  const EPISODE_CAP = 100_000;
  const perEpisode = new Map<string, { n: number; max: number; sum: number; minCos: number }>();
  let untrackedEpisodes = 0;
  const warnings: string[] = [];
  const heap = new Heap();
  const tails = new Map<string, Promise<unknown>>();
  const pending: Promise<Outcome>[] = [];
  let out: WriteStream | null = null;
  let outError: Error | null = null;
  let sent = 0;
  let lastSentKey = -Infinity;
  let outOfOrder = 0;
  let records = 0;
  let fileRead = 0;
  let lastProgress = 0;
  let cancelled = false;
  let dimChecked = false;
  const interval = opts.progressIntervalMs ?? 100;

  if (opts.output) {
    out = createWriteStream(opts.output);
    out.on('error', (e) => (outError ??= e));
    await Promise.race([once(out, 'open'), once(out, 'error')]).catch(() => {});
    if (outError) throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `Cannot write the report to ${opts.output}: ${(outError as Error).message}`, '--output');
  }
  const write = async (obj: unknown) => {
    if (!out || outError) return;
    if (!out.write(JSON.stringify(obj) + '\n')) await Promise.race([once(out, 'drain'), once(out, 'error')]).catch(() => {});
  };

  const progress = (force = false) => {
    if (!opts.onProgress) return;
    const now = performance.now();
    if (!force && now - lastProgress < interval) return;
    lastProgress = now;
    opts.onProgress({
      phase: 'rerun',
      fraction: Number.isFinite(limit) ? Math.min(1, sent / limit) : info.fileSize > 0 ? Math.min(1, fileRead / info.fileSize) : 1,
      fileBytesRead: fileRead,
      fileBytes: info.fileSize,
      records: sent,
      elapsedMs: now - t0,
      compared: overall.compared,
      maxDivergence: overall.div.count ? overall.divMax : null,
    });
  };

  const slotAgg = (name: string): Agg => {
    let a = slots.get(name);
    if (!a) {
      if (slots.size >= 16) return slotAgg('(other)');
      slots.set(name, (a = new Agg(name)));
    }
    return a;
  };

  const consume = async (o: Outcome) => {
    const it = o.item;
    const aggs = [overall, slotAgg(it.slot)];
    const line: Record<string, unknown> = { kind: 'rerun_request', seq: it.seq, index: it.index, episode_id: it.episodeId, slot: it.slot };
    for (const a of aggs) a.requests++;
    if (o.error || !o.out) {
      for (const a of aggs) a.errors++;
      line.error = o.error;
      series.add(null, it.seq);
      negCos.add(null, it.seq);
      recLatSeries.add(null, it.seq);
      newLatSeries.add(null, it.seq);
      await write(line);
      return;
    }
    const got = o.out;
    if (diff.includes('actions')) {
      const d = compareActions(it.actions, got.actions);
      if (d === null) {
        for (const a of aggs) a.incomparable++;
        line.divergence = null;
        series.add(null, it.seq);
        negCos.add(null, it.seq);
      } else {
        for (const a of aggs) {
          a.compared++;
          if (d.prefix) a.prefixOnly++;
          if (d.maxAbs > 0 || d.maxAbs !== d.maxAbs) a.differing++;
          if (d.maxAbs !== d.maxAbs) a.divNaN = true;
          a.div.add(d.maxAbs);
          if (d.maxAbs > a.divMax) a.divMax = d.maxAbs;
          if (d.cosine === d.cosine) {
            if (d.cosine < a.minCos) a.minCos = d.cosine;
            a.sumCos += d.cosine;
            a.nCos++;
          }
        }
        line.divergence = { cosine: d.cosine, max_abs: d.maxAbs, ...(d.prefix ? { prefix_only: true } : {}) };
        series.add(d.maxAbs, it.seq);
        negCos.add(d.cosine === d.cosine ? -d.cosine : null, it.seq);
        if (it.episodeId !== null) {
          let e = perEpisode.get(it.episodeId);
          if (!e && perEpisode.size < EPISODE_CAP) perEpisode.set(it.episodeId, (e = { n: 0, max: -Infinity, sum: 0, minCos: Infinity }));
          if (e) {
            e.n++;
            if (d.maxAbs > e.max) e.max = d.maxAbs;
            if (d.maxAbs === d.maxAbs) e.sum += d.maxAbs;
            if (d.cosine < e.minCos) e.minCos = d.cosine;
          } else untrackedEpisodes++;
        }
      }
    }
    if (diff.includes('latency')) {
      const ratio = it.latencyMs !== null && it.latencyMs > 0 ? o.ms / it.latencyMs : null;
      for (const a of aggs) {
        if (it.latencyMs !== null) a.recLat.add(it.latencyMs);
        a.newLat.add(o.ms);
        if (ratio !== null) {
          a.sumRatio += ratio;
          a.nRatio++;
        }
      }
      line.latency_ms = { recorded: it.latencyMs, rerun: o.ms, ratio };
      recLatSeries.add(it.latencyMs, it.seq);
      newLatSeries.add(o.ms, it.seq);
    }
    if (diff.includes('cache')) {
      const match = it.cache === got.cache;
      for (const a of aggs) {
        a.cacheCompared++;
        if (match) a.cacheMatches++;
        if (it.cache === 'hit' || it.cache === 'miss') {
          a.recHitMiss++;
          if (it.cache === 'hit') a.recHits++;
        }
        if (got.cache === 'hit' || got.cache === 'miss') {
          a.newHitMiss++;
          if (got.cache === 'hit') a.newHits++;
        }
      }
      line.cache = { recorded: it.cache, rerun: got.cache, match };
    }
    await write(line);
  };

  const run = async (it: Item): Promise<Outcome> => {
    const start = performance.now();
    try {
      const got = await opts.runner.act({ episodeId: it.episodeId, state: it.state });
      return { item: it, out: got, error: null, ms: performance.now() - start };
    } catch (e) {
      return { item: it, out: null, error: toErrorShape(e), ms: performance.now() - start };
    }
  };

  const dispatch = async (it: Item) => {
    if (it.recordedError) {
      overall.recordedErrors++;
      slotAgg(it.slot).recordedErrors++;
      return;
    }
    if (!dimChecked && opts.model?.observationDim !== undefined) {
      dimChecked = true;
      if (it.state.length !== opts.model.observationDim) {
        throw new SwitchyardError(
          ErrorCodes.SWY_ERR_INVALID_INPUT,
          `The trace's states have ${it.state.length} values but ${opts.model.ref} expects ${opts.model.observationDim} (its observation.dim): this trace was not recorded for this policy.`,
          '--model',
        );
      }
    }
    if (it.key < lastSentKey) outOfOrder++;
    else lastSentKey = it.key;
    sent++;
    const ep = it.episodeId;
    const prev = ep !== null ? tails.get(ep) : undefined;
    const p = prev ? prev.then(() => run(it)) : run(it);
    if (ep !== null) {
      tails.set(ep, p);
      void p.then(() => {
        if (tails.get(ep) === p) tails.delete(ep);
      });
    }
    pending.push(p);
    while (pending.length >= concurrency) await consume(await pending.shift()!);
  };

  // The line handler (synchronous) parses requests into the reordering window; after each chunk
  // of the file, the requests that left the window are sent (reading waits meanwhile).
  const ready: Item[] = [];
  const stop = () => sent >= limit || Boolean(signal?.aborted);
  const sendReady = async (): Promise<boolean> => {
    while (ready.length > 0) {
      if (stop()) return false;
      await dispatch(ready.shift()!);
      progress();
    }
    return !stop();
  };
  let readErr: unknown = null;
  let lastKey = -Infinity;
  try {
    await streamLines(
      opts.trace,
      { onChunk: (read) => (fileRead = read), afterChunk: sendReady },
      (text, _off, lineNo, terminated, _bytes, ascii) => {
        const idx = records;
        const rec = parseRecord(text);
        if (rec === null && !terminated) return false; // a partial last line
        records++;
        if (chain.active) {
          if (rec === null) chain.badLine(idx, lineNo, 'not a JSON object');
          else chain.check(text, ascii, idx, lineNo);
        }
        if (rec === null || rec.kind !== 'request') return true;
        const it = toItem(rec, idx);
        if (it === null) return true;
        // A request without seq keeps its place after the last one that had one.
        if (it.seq === null) it.key = lastKey;
        else lastKey = it.seq;
        heap.push(it);
        if (heap.size > windowSize) ready.push(heap.pop()!);
        return true;
      },
    );
  } catch (e) {
    if (e instanceof SwitchyardError && e.where === '--model') {
      await Promise.allSettled(pending);
      out?.destroy();
      throw e;
    }
    readErr = e;
  }
  try {
    if (readErr === null || records > 0) {
      // The end of the file: the rest of the window, in order.
      for (let it = heap.pop(); it; it = heap.pop()) ready.push(it);
      await sendReady();
    }
    while (pending.length > 0) await consume(await pending.shift()!);
  } catch (e) {
    await Promise.allSettled(pending);
    out?.destroy();
    throw e;
  }
  if (readErr) {
    if (records === 0) {
      out?.destroy();
      throw readErr;
    }
    warnings.push(`the trace could not be read past record ${records}: ${(readErr as Error).message}`);
    chain.unreadable(records, 0, (readErr as Error).message);
  }
  if (signal?.aborted) cancelled = true;

  const overallRes = overall.result(diff);
  const slotRes = [...slots.values()].map((a) => a.result(diff));
  const metrics: FailOnMetrics = {
    divergence: overallRes.actions?.max ?? null,
    'mean-divergence': overallRes.actions?.mean ?? null,
    'p99-divergence': overallRes.actions?.p99 ?? null,
    cosine: overallRes.actions?.minCosine ?? null,
    incomparable: overallRes.actions && overallRes.requests - overallRes.errors > 0 ? overallRes.actions.incomparable / (overallRes.requests - overallRes.errors) : null,
    'p50-latency-ratio': overallRes.latency?.p50Ratio ?? null,
    'p99-latency-ratio': overallRes.latency?.p99Ratio ?? null,
    'cache-mismatch': overallRes.cache?.mismatchRate ?? null,
    'error-rate': overallRes.requests ? overallRes.errors / overallRes.requests : null,
    errors: overallRes.requests || overallRes.errors ? overallRes.errors : 0,
  };
  const failOn = evaluateFailOn(opts.failOn ?? [], metrics);
  if (sent === 0) warnings.push('the trace holds no request that could be re-run');
  if (outOfOrder > 0) warnings.push(`${outOfOrder} requests arrived more than ${windowSize} records late and were re-run out of seq order`);
  if (overallRes.actions && overallRes.actions.incomparable > 0) warnings.push(`${overallRes.actions.incomparable} requests have action shapes that cannot be compared (different action_dim, or no recorded actions)`);
  if (overallRes.actions && overallRes.actions.prefixOnly > 0) warnings.push(`${overallRes.actions.prefixOnly} requests were compared over the common prefix of their action chunks (the chunk lengths differ)`);
  if (cancelled) warnings.push(`cancelled after ${sent} requests; the figures cover those`);
  if (untrackedEpisodes > 0) warnings.push(`more than ${EPISODE_CAP} episodes: ${untrackedEpisodes} requests of later episodes are not in the most-divergent list`);
  const topEpisodes = [...perEpisode.entries()]
    .filter(([, e]) => e.n > 0 && Number.isFinite(e.max))
    .sort((a, b) => b[1].max - a[1].max || b[1].sum / b[1].n - a[1].sum / a[1].n)
    .slice(0, 20)
    .map(([episodeId, e]) => ({ episodeId, requests: e.n, maxAbs: e.max, minCosine: Number.isFinite(e.minCos) ? e.minCos : null, meanAbs: e.sum / e.n }));
  const cos = negCos.toJSON();
  const recL = recLatSeries.toJSON();
  const newL = newLatSeries.toJSON();
  const elapsedMs = performance.now() - t0;
  progress(true);
  const result: RerunResult = {
    trace: opts.trace,
    model: opts.model ?? null,
    diff,
    requests: sent,
    overall: overallRes,
    slots: slotRes,
    divergenceSeries: diff.includes('actions') ? series.toJSON() : null,
    cosineSeries: diff.includes('actions') && cos ? { requestsPerPoint: cos.requestsPerPoint, min: cos.max.map((x) => (x === null ? null : -x)) } : null,
    latencySeries: diff.includes('latency') && recL && newL ? { requestsPerPoint: recL.requestsPerPoint, recordedMean: recL.mean, rerunMean: newL.mean } : null,
    topEpisodes,
    chain: chain.integrity,
    failOn,
    outOfOrder,
    warnings,
    elapsedMs,
    requestsPerSecond: elapsedMs > 0 ? (sent / elapsedMs) * 1000 : 0,
    cancelled,
    output: opts.output ?? null,
  };
  if (out) {
    await write({ kind: 'rerun_summary', ...result, divergenceSeries: undefined, cosineSeries: undefined, latencySeries: undefined });
    out.end();
    await Promise.race([once(out, 'close'), once(out, 'error')]).catch(() => {});
    if (outError) warnings.push(`the report could not be written completely to ${opts.output}: ${(outError as Error).message}`);
  }
  return result;
}

export interface RerunExportOptions extends Omit<RerunOptions, 'runner' | 'model'> {
  /** The version to re-run against (`engine.resolveExport(ref)` gives it). */
  export: PolicyExport;
  /** How the version is named in the report (default: the export's policy@version). */
  ref?: string;
  device?: 'auto' | 'cpu' | 'cuda';
  /** Episodes the runner's cache keeps (default 1,024 per primary slot the trace's header names). */
  episodeCacheSize?: number;
}

/** Loads `opts.export` in a policy worker, re-runs the trace against it, and stops the worker. */
export async function rerunAgainstExport(opts: RerunExportOptions): Promise<RerunResult & { provider: string }> {
  const m = opts.export.manifest;
  const runner = await PolicyRunner.start({
    export: opts.export,
    slot: 'prod',
    device: opts.device ?? 'auto',
    episodeCacheSize: opts.episodeCacheSize ?? 1024 * Math.max(1, await primarySlots(opts.trace)),
  });
  try {
    const { export: _e, ref, device: _d, episodeCacheSize: _c, ...rest } = opts;
    const res = await rerunTrace({ ...rest, runner, model: { ref: ref ?? `${m.policy}@${m.version}`, modelVersion: opts.export.modelVersion, observationDim: m.observation.dim } });
    return { ...res, provider: runner.provider };
  } finally {
    await runner.close();
  }
}

/** How many primary slots the trace's header names (2 in two-policy mode), reading only its first line. */
async function primarySlots(path: string): Promise<number> {
  let n = 1;
  try {
    await streamLines(path, {}, (text) => {
      const rec = parseRecord(text);
      const policies = rec?.kind === 'header' ? rec.policies : undefined;
      if (Array.isArray(policies)) n = Math.max(1, policies.length);
      return false;
    });
  } catch {
    // the re-run reports an unreadable trace itself
  }
  return n;
}
