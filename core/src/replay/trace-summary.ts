/**
 * One streaming pass over a trace (spec §4.3, §7.6, §10) that builds everything the Replay page
 * needs, in memory bounded whatever the trace's size:
 *
 * - the header (session, model hashes, policies, split) and footer;
 * - per slot: requests, errors, cache hits/misses, latency p50/p90/p99 from a log histogram;
 * - episodes: distinct count, per slot, the top N by requests (exact up to 100,000 episodes,
 *   HyperLogLog and Space-Saving beyond);
 * - a timeline of at most 2,000 buckets per slot (requests, errors, p50/max latency, cache hit rate);
 * - shadow results: count, errors, divergence histogram and maximum;
 * - the chain's integrity, checked in the same pass (`FastChain`: hashes each line's text as
 *   written, and parses only what a canonical writer would not have written);
 * - an index (`TraceIndex`): the byte offset of every 256th record and the seq range of each
 *   block, for the paged accessor (`trace-pages.ts`).
 *
 * Memory is bounded by the accumulators' fixed sizes (about 10 KiB per slot histogram, 2,000
 * timeline buckets, at most 100,000 episodes, at most 64 Ki index rows), never by the trace.
 *
 * The file is read (and gunzipped) on this thread in blocks of about 1 MiB of whole lines; big
 * traces are processed on worker threads (`summary-pool.ts`), small ones here. Each block is
 * summarized on its own (`summary-core.ts`) and the results merged: counters and histograms add
 * up, and the chain is checked inside each block and then across the block boundaries, so the
 * first broken record and its reason are the same as a sequential check finds.
 *
 * Lines are scanned for the fields above (`RecordScanner`), never parsed whole, except the header
 * and footer. Other servers' traces in the same format are read the same way: unknown fields and
 * kinds are ignored (kinds are counted), the footer may be missing, a partial last line is
 * reported and skipped, a malformed line elsewhere is counted, named by line number, and breaks
 * the chain there.
 */
import { promises as fsp, type ReadStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Readable } from 'node:stream';
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';
import { GENESIS_HASH } from '../trace/chain.js';
import { prevMismatchReason, type ChainIntegrity, type ChainMode } from './fast-chain.js';
import { LATENCY_LAYOUT, latencyStats, LogHistogram, type LatencyStats } from './histogram.js';
import { abortError, isAbortError, openTraceStream, traceFileInfo, traceReadError } from '../trace/line-source.js';
import { RecordScanner } from './record-scan.js';
import { loadRecordCompactModule } from './record-wasm.js';
import { ChunkProcessor, DECADES, SummaryAccumulator, type AccumulatorOptions, type ChunkResult, type ProcessorOptions } from './summary-core.js';
import { SummaryPool, SummaryWorkerError } from './summary-pool.js';
import type { EpisodeSummary } from './episodes.js';
import type { EpisodeSpan } from './replay-bins.js';
import { Timeline, type TimelineJson } from './timeline.js';
import { TraceIndex } from './trace-index.js';
import { readPage, type PageQuery, type ReplayPage } from './trace-pages.js';

export interface ReplayProgress {
  phase: 'summary' | 'rerun';
  /** 0..1 of the file read (compressed bytes for gzip). */
  fraction: number;
  fileBytesRead: number;
  fileBytes: number;
  /** Records read so far (summary) or requests re-run (rerun). */
  records: number;
  elapsedMs: number;
  /** Re-run only: requests compared so far and the largest divergence seen. */
  compared?: number;
  maxDivergence?: number | null;
}

export interface SummaryOptions {
  signal?: AbortSignal;
  /** Called at most every `progressIntervalMs` (default 100) and once at the end. */
  onProgress?: (p: ReplayProgress) => void;
  progressIntervalMs?: number;
  /** How the chain is checked: `fast` (default; see FastChain), `full` (every record parsed and canonicalized), `off`. */
  chain?: ChainMode;
  /** At most this many timeline buckets (default 2,000). */
  timelineBuckets?: number;
  /** Length of the top-episodes list (default 20). */
  topEpisodes?: number;
  /** Episodes counted exactly up to this many (default 100,000). */
  maxTrackedEpisodes?: number;
  /** Index a byte offset every this many records (default 256). */
  indexEvery?: number;
  /**
   * Worker threads for the pass: a number (0: everything on this thread), or `auto` (default):
   * one per CPU (at most 4) for traces over about 32 MiB of JSONL, none for smaller ones.
   */
  threads?: number | 'auto';
  /**
   * The byte loop for lines not in Switchyard's own layout: `wasm` (default, where it loads) or
   * `js` (the same results; for comparing the two).
   */
  byteLoop?: 'wasm' | 'js';
  /** Bytes read at a time, and so the size of a block of lines (default 1 MiB). */
  chunkBytes?: number;
  /** Slots tracked by name; more distinct slot names share `(other)` (default 16). */
  maxSlots?: number;
}

export type { LatencyStats } from './histogram.js';

export interface SlotStats {
  slot: string;
  requests: number;
  errors: number;
  errorRate: number | null;
  cache: { hits: number; misses: number; other: number; none: number; hitRate: number | null };
  latencyMs: LatencyStats;
  /** Requests routed by request_id because they had no episode_id. */
  degraded: number;
  /** Distinct episodes served by this slot. */
  episodes: number;
}

export interface ShadowStats {
  count: number;
  errors: number;
  /** Results with no divergence (an error, or action shapes that differ from the primary's). */
  withoutDivergence: number;
  latencyMs: LatencyStats;
  divergence: {
    /** Largest `max_abs` divergence; null when none was recorded. */
    max: number | null;
    mean: number | null;
    p50: number | null;
    p99: number | null;
    minCosine: number | null;
    meanCosine: number | null;
    /** Counts of `max_abs`: exactly 0 (`lo = hi = 0`), then `[lo, hi)` decades up to 1e3, then >= 1e3 (`hi` null). */
    histogram: { lo: number; hi: number | null; count: number }[];
  };
}

export interface TraceHeaderInfo {
  sessionId: string | null;
  startedAt: string | null;
  modelHash: string | null;
  policies: { slot: string; modelId: string | null; modelHash: string | null }[];
  split: number | null;
  switchyardVersion: string | null;
  providers: string[];
  redaction: string | null;
  /** The header record as written (unknown fields included). */
  record: Record<string, unknown>;
}

export interface TraceSummary {
  path: string;
  gzip: boolean;
  fileBytes: number;
  /** Bytes of JSONL (decompressed). */
  bytes: number;
  /** Complete records read (a partial last line excluded, malformed lines included). */
  records: number;
  /** Records per `kind`. */
  kinds: Record<string, number>;
  header: TraceHeaderInfo | null;
  footer: { endedAt: string | null; totals: Record<string, unknown> | null; record: Record<string, unknown> } | null;
  /** Every model hash the header names (its own and its policies'). */
  modelHashes: string[];
  time: { first: string | null; last: string | null; durationMs: number | null };
  seq: { min: number | null; max: number | null; /** Seq values between min and max with no request (dropped records). */ missing: number | null };
  /** Per slot, in order of first appearance; `overall` sums them. */
  slots: SlotStats[];
  overall: SlotStats;
  episodes: EpisodeSummary;
  timeline: TimelineJson;
  shadow: ShadowStats;
  chain: ChainIntegrity;
  partialLastLine: { line: number; bytes: number } | null;
  /** Lines that are not JSON objects (other than a partial last line): how many, and the first ones. */
  badLines: { count: number; first: { line: number; reason: string }[] };
  warnings: string[];
  elapsedMs: number;
  /** Worker threads the pass used (0: all on the calling thread). */
  threads: number;
}

export interface SummaryResult {
  summary: TraceSummary;
  index: TraceIndex;
  /** Every tracked episode's span, first started first (at most `maxTrackedEpisodes`). */
  episodeSpans: EpisodeSpan[];
  /** The byte loop that read lines not in Switchyard's own layout (see `SummaryOptions.byteLoop`). */
  byteLoop?: 'wasm' | 'js';
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}
function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function headerInfo(rec: Record<string, unknown>): TraceHeaderInfo {
  const policies = Array.isArray(rec.policies)
    ? rec.policies
        .filter((p): p is Record<string, unknown> => typeof p === 'object' && p !== null)
        .map((p) => ({ slot: str(p.slot) ?? '?', modelId: str(p.model_id), modelHash: str(p.model_hash) }))
    : [];
  return {
    sessionId: str(rec.session_id),
    startedAt: str(rec.started_at),
    modelHash: str(rec.model_hash),
    policies,
    split: num(rec.split),
    switchyardVersion: str(rec.switchyard_version),
    providers: Array.isArray(rec.providers) ? rec.providers.filter((p): p is string => typeof p === 'string') : [],
    redaction: str(rec.redaction),
    record: rec,
  };
}

/** Traces smaller than this (JSONL bytes, estimated for gzip) are summarized on the calling thread. */
const PARALLEL_MIN_BYTES = 32 * 1024 * 1024;
/** gzip traces are typically 4-6x smaller than their JSONL. */
const GZIP_RATIO = 5;

function threadCount(opt: SummaryOptions['threads'], fileSize: number, gzip: boolean): number {
  if (typeof opt === 'number') return Math.max(0, Math.min(16, Math.floor(opt)));
  if (fileSize * (gzip ? GZIP_RATIO : 1) < PARALLEL_MIN_BYTES) return 0;
  return Math.max(1, Math.min(4, availableParallelism()));
}

/** Where the timeline starts: the header's `started_at`, else the first timestamp of the block. NaN when neither. */
function findOrigin(block: Buffer): number {
  const text = block.toString('latin1', 0, Math.min(block.length, 4 << 20));
  const scan = new RecordScanner();
  let pos = 0;
  for (let i = 0; i < 10_000 && pos < text.length; i++) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    const line = text.slice(pos, nl);
    pos = nl + 1;
    if (!scan.scan(line)) continue;
    if (scan.kind === 'header') {
      const m = /"started_at"\s*:\s*"([^"]+)"/.exec(line);
      const t = m ? Date.parse(m[1]!) : NaN;
      if (Number.isFinite(t)) return t;
    }
    if (scan.timestamp === scan.timestamp) return scan.timestamp * 1000;
  }
  return NaN;
}

/**
 * The timestamp (ms) of the last request or shadow result in a plain trace, read from its last
 * 256 KiB; NaN when there is none there (or the file cannot be read: the pass reports that).
 */
async function lastTimelineMs(path: string, fileSize: number): Promise<number> {
  const n = Math.min(fileSize, 256 * 1024);
  if (n === 0) return NaN;
  let fh: fsp.FileHandle | null = null;
  try {
    fh = await fsp.open(path, 'r');
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, fileSize - n);
    const text = buf.toString('latin1', 0, bytesRead);
    const scan = new RecordScanner();
    let end = text.length;
    // The first line here may be cut: it is never scanned (the loop stops before it).
    for (let i = 0; i < 10_000; i++) {
      const nl = text.lastIndexOf('\n', end - 1);
      if (nl < 0) break;
      const line = text.slice(nl + 1, end);
      end = nl;
      if (scan.scan(line) && (scan.kind === 'request' || scan.kind === 'shadow_result') && scan.timestamp === scan.timestamp) return scan.timestamp * 1000;
    }
    return NaN;
  } catch {
    return NaN;
  } finally {
    await fh?.close().catch(() => {});
  }
}

function countNewlines(b: Buffer): number {
  let n = 0;
  let p = 0;
  while ((p = b.indexOf(0x0a, p)) !== -1) {
    n++;
    p++;
  }
  return n;
}

/**
 * Reads `path` once and summarizes it. Throws SwitchyardError when the file cannot be opened or
 * read at all (missing, a directory, not gzip); AbortError when `signal` fires. Damage inside the
 * file is reported in the summary (`chain`, `badLines`, `partialLastLine`, `warnings`).
 *
 * Big traces are read on this thread (and gunzipped here) and processed on worker threads, in
 * blocks of about 1 MiB of whole lines; see `summary-core.ts`.
 */
export async function summarizeTrace(path: string, opts: SummaryOptions = {}): Promise<SummaryResult> {
  const t0 = performance.now();
  const signal = opts.signal;
  if (signal?.aborted) throw abortError(signal);
  const info = await traceFileInfo(path);
  const chainMode: ChainMode = opts.chain ?? 'fast';
  const accOpts: AccumulatorOptions = {
    timelineBuckets: Math.max(2, Math.min(opts.timelineBuckets ?? 2000, 100_000)),
    maxTrackedEpisodes: Math.max(10, opts.maxTrackedEpisodes ?? 100_000),
    topEpisodes: Math.max(0, opts.topEpisodes ?? 20),
    maxSlots: Math.max(2, Math.min(opts.maxSlots ?? 16, 30)),
    origin: NaN,
  };
  const procOpts: ProcessorOptions = {
    chain: chainMode,
    indexEvery: Math.max(1, opts.indexEvery ?? 256),
    compactModule: opts.byteLoop === 'js' ? null : await loadRecordCompactModule(),
  };
  let threads = threadCount(opts.threads, info.fileSize, info.gzip);

  const results: ChunkResult[] = [];
  const pieceOffsets: number[] = [];
  let acc: SummaryAccumulator | null = null;
  let local: ChunkProcessor | null = null;
  let pool: SummaryPool | null = null;
  let records = 0; // records known so far (for progress)
  const onResult = (r: ChunkResult) => {
    results[r.chunkNo] = r;
    records += r.records;
  };
  const tailMs = info.gzip ? NaN : await lastTimelineMs(path, info.fileSize);
  const start = (origin: number) => {
    accOpts.origin = origin;
    if (Number.isFinite(origin) && Number.isFinite(tailMs)) accOpts.timelineWidth = Timeline.widthFor(origin, tailMs, accOpts.timelineBuckets);
    acc = new SummaryAccumulator(accOpts);
    if (!Number.isFinite(origin)) threads = 0; // workers must share the timeline's origin
    if (threads > 0) {
      try {
        pool = new SummaryPool({ accumulator: accOpts, processor: procOpts }, threads, onResult, 3, (ab) => give(ab));
      } catch {
        pool = null;
        threads = 0;
      }
    }
    if (!pool) local = new ChunkProcessor(acc, procOpts);
  };

  let chunkNo = 0;
  let lineBase = 0;
  let streamOffset = 0; // decompressed bytes consumed into pieces
  const blockBytes = Math.max(1024, opts.chunkBytes ?? 2 << 20);
  // Blocks are read into buffers that come back once processed (from the workers too): fresh
  // memory for every block cost more in page faults and copies than the scan of it.
  const free: ArrayBuffer[] = [];
  const take = (min: number): ArrayBuffer => {
    const i = free.findIndex((ab) => ab.byteLength >= min);
    return i >= 0 ? free.splice(i, 1)[0]! : new ArrayBuffer(Math.max(min, blockBytes));
  };
  const give = (ab: ArrayBuffer) => {
    if (ab.byteLength === blockBytes && free.length < 8) free.push(ab);
  };
  const dispatch = async (ab: ArrayBuffer, length: number, final: boolean) => {
    const piece = Buffer.from(ab, 0, length);
    if (acc === null) start(findOrigin(piece));
    const no = chunkNo++;
    pieceOffsets[no] = streamOffset;
    streamOffset += length;
    const lines = countNewlines(piece) + (final && length > 0 && piece[length - 1] !== 0x0a ? 1 : 0);
    const base = lineBase;
    lineBase += lines;
    if (pool) {
      const p = pool as SummaryPool;
      if (no === 0) {
        try {
          await p.ready();
        } catch {
          // Workers could not start (an unusual runtime): do the work here instead.
          await p.close();
          pool = null;
          threads = 0;
          local = new ChunkProcessor(acc!, procOpts);
        }
      }
      if (pool) return p.dispatch(ab, length, no, final, base);
    }
    onResult(local!.process(piece, no, final, base));
    give(ab);
  };

  // Plain files are read straight into the block buffers; gzip is inflated by a stream and copied in.
  let fh: fsp.FileHandle | null = null;
  let gz: { file: ReadStream; stream: Readable; it: AsyncIterator<Buffer>; rest: Buffer | null } | null = null;
  let fileRead = 0;
  const fill = async (into: Uint8Array, at: number): Promise<number> => {
    if (fh) {
      const { bytesRead } = await fh.read(into, at, into.length - at, fileRead);
      fileRead += bytesRead;
      return bytesRead;
    }
    const g = gz!;
    let chunk = g.rest;
    g.rest = null;
    if (chunk === null) {
      const r = await g.it.next();
      if (r.done) return 0;
      chunk = r.value;
    }
    const n = Math.min(chunk.length, into.length - at);
    into.set(chunk.subarray(0, n), at);
    if (n < chunk.length) g.rest = chunk.subarray(n);
    fileRead = g.file.bytesRead;
    return n;
  };
  let readError: SwitchyardError | null = null;
  let lastProgress = 0;
  const interval = opts.progressIntervalMs ?? 100;
  const maxLine = 256 * 1024 * 1024;
  try {
    if (info.gzip) {
      const { file, stream } = openTraceStream(path, info, 0, blockBytes);
      gz = { file, stream, it: (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator](), rest: null };
    } else fh = await fsp.open(path, 'r');
    let ab = take(blockBytes);
    let buf = new Uint8Array(ab);
    let have = 0; // bytes of an unfinished line at the start of buf
    for (;;) {
      if (signal?.aborted) throw abortError(signal);
      if (have === buf.length) {
        // A line longer than the buffer: a bigger one.
        if (have > maxLine) throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `${path}: a line longer than ${maxLine} bytes; is this a trace?`, path);
        const bigger = new ArrayBuffer(buf.length * 2);
        new Uint8Array(bigger).set(buf);
        give(ab);
        ab = bigger;
        buf = new Uint8Array(ab);
      }
      const got = await fill(buf, have);
      if (got === 0) {
        if (have > 0) await dispatch(ab, have, true);
        break;
      }
      const len = have + got;
      const lastNl = Buffer.from(ab, 0, len).lastIndexOf(0x0a);
      if (lastNl < 0) {
        have = len;
      } else {
        // Whole lines go out; the unfinished last line starts the next buffer.
        const carry = len - lastNl - 1;
        const nextAb = take(carry + 1);
        new Uint8Array(nextAb).set(buf.subarray(lastNl + 1, len));
        await dispatch(ab, lastNl + 1, false);
        ab = nextAb;
        buf = new Uint8Array(ab);
        have = carry;
      }
      if (opts.onProgress) {
        const now = performance.now();
        if (now - lastProgress >= interval) {
          lastProgress = now;
          opts.onProgress({ phase: 'summary', fraction: info.fileSize > 0 ? Math.min(1, fileRead / info.fileSize) : 1, fileBytesRead: fileRead, fileBytes: info.fileSize, records, elapsedMs: now - t0 });
        }
      }
    }
  } catch (e) {
    if (isAbortError(e) || signal?.aborted) {
      await (pool as SummaryPool | null)?.close();
      throw abortError(signal);
    }
    if (e instanceof SummaryWorkerError) {
      await (pool as SummaryPool | null)?.close();
      throw new SwitchyardError(ErrorCodes.SWY_ERR_INTERNAL, `Summarizing ${path} failed: ${e.message}. Retry with --threads 0 (one thread).`, path);
    }
    const err = traceReadError(path, e);
    if (chunkNo === 0 || err.code === ErrorCodes.SWY_ERR_NOT_FOUND) {
      await (pool as SummaryPool | null)?.close();
      throw err;
    }
    // Readable at first, unreadable later (a corrupt gzip block): what was read is summarized.
    readError = err;
  } finally {
    await (fh as fsp.FileHandle | null)?.close().catch(() => {});
    if (gz) {
      gz.stream.destroy();
      gz.file.destroy();
    }
  }
  if (acc === null) start(NaN);
  const merged = acc as unknown as SummaryAccumulator;
  const usedThreads = threads;
  if (pool) {
    const p = pool as SummaryPool;
    try {
      const states = await p.finish();
      // Slots first in file order (each thread lists them in the order it met them).
      for (const r of results) for (const name of r?.slotsSeen ?? []) merged.slotOf(name);
      for (const st of states) merged.mergeState(st);
    } catch (e) {
      if (e instanceof SummaryWorkerError) throw new SwitchyardError(ErrorCodes.SWY_ERR_INTERNAL, `Summarizing ${path} failed: ${e.message}. Retry with --threads 0 (one thread).`, path);
      throw e;
    } finally {
      await p.close();
    }
  }
  if (signal?.aborted) throw abortError(signal);
  const result = finish(path, info, merged, results, pieceOffsets, streamOffset, chainMode, readError, usedThreads, t0, opts);
  result.byteLoop = procOpts.compactModule ? 'wasm' : 'js';
  return result;
}

function finish(
  path: string,
  info: { gzip: boolean; fileSize: number },
  acc: SummaryAccumulator,
  results: ChunkResult[],
  pieceOffsets: number[],
  bytes: number,
  chainMode: ChainMode,
  readError: SwitchyardError | null,
  threads: number,
  t0: number,
  opts: SummaryOptions,
): SummaryResult {
  // Stitch the blocks in file order: absolute record indices, the index, the chain across blocks.
  const index = new TraceIndex();
  let recordBase = 0;
  let expected = GENESIS_HASH;
  const chain: ChainIntegrity = { status: chainMode === 'off' ? 'unchecked' : 'verified', mode: chainMode, checked: 0, fastPath: 0, exactPath: 0, audited: 0, firstBroken: null };
  let badCount = 0;
  const badFirst: { line: number; reason: string }[] = [];
  let header: TraceHeaderInfo | null = null;
  let headerIndex = -1;
  let footer: TraceSummary['footer'] = null;
  let footerIndex = -1;
  let partial: TraceSummary['partialLastLine'] = null;
  let lines = 0;
  for (let i = 0; i < results.length; i++) {
    const r = results[i];
    if (!r) continue;
    const off = pieceOffsets[i] ?? 0;
    for (const p of r.points) index.push({ index: recordBase + p.rel, offset: off + p.offset, line: p.line, minSeq: p.minSeq, maxSeq: p.maxSeq });
    if (chainMode !== 'off' && chain.firstBroken === null && r.chain.checked > 0) {
      chain.checked += r.chain.checked;
      chain.fastPath += r.chain.fast;
      chain.exactPath += r.chain.exact;
      chain.audited += r.chain.audited;
      if (i > 0 && r.chain.firstPrev !== null && r.chain.firstPrev !== expected) {
        chain.checked -= r.chain.checked - 1;
        chain.firstBroken = { index: recordBase, line: r.points[0]?.line ?? 0, kind: 'prev_hash_mismatch', reason: prevMismatchReason(expected, r.chain.firstPrev) };
      } else if (r.chain.broken) {
        chain.firstBroken = { index: recordBase + r.chain.broken.rel, line: r.chain.broken.line, kind: r.chain.broken.kind, reason: r.chain.broken.reason };
      } else expected = r.chain.lastHash;
    }
    badCount += r.badCount;
    for (const b of r.bad) if (badFirst.length < 10) badFirst.push(b);
    if (r.header && header === null) {
      header = headerInfo(r.header.record);
      headerIndex = recordBase + r.header.rel;
    }
    if (r.footer) {
      footer = { endedAt: str(r.footer.record.ended_at), totals: typeof r.footer.record.totals === 'object' && r.footer.record.totals !== null ? (r.footer.record.totals as Record<string, unknown>) : null, record: r.footer.record };
      footerIndex = recordBase + r.footer.rel;
    }
    if (r.partial) partial = r.partial;
    recordBase += r.records;
    lines += r.lines;
  }
  const records = recordBase;
  index.records = records;
  if (readError) {
    if (chainMode !== 'off' && chain.firstBroken === null) chain.firstBroken = { index: records, line: lines + 1, kind: 'bad_json', reason: `the file cannot be read past record ${records}: ${readError.message}` };
    badCount++;
    if (badFirst.length < 10) badFirst.push({ line: lines + 1, reason: `the file cannot be read past this point: ${readError.message}` });
  }
  if (chain.firstBroken) chain.status = 'broken';

  type Acc = { name: string; requests: number; errors: number; hits: number; misses: number; other: number; none: number; degraded: number; latency: LogHistogram };
  const slotStats = (s: Acc, episodes: number): SlotStats => {
    const c = s.hits + s.misses;
    return {
      slot: s.name,
      requests: s.requests,
      errors: s.errors,
      errorRate: s.requests ? s.errors / s.requests : null,
      cache: { hits: s.hits, misses: s.misses, other: s.other, none: s.none, hitRate: c ? s.hits / c : null },
      latencyMs: latencyStats(s.latency),
      degraded: s.degraded,
      episodes,
    };
  };
  const ep: EpisodeSummary = acc.episodeSummary();
  const all = { name: 'all', requests: 0, errors: 0, hits: 0, misses: 0, other: 0, none: 0, degraded: 0, latency: new LogHistogram(LATENCY_LAYOUT) };
  for (const s of acc.slots) {
    all.requests += s.requests;
    all.errors += s.errors;
    all.hits += s.hits;
    all.misses += s.misses;
    all.other += s.other;
    all.none += s.none;
    all.degraded += s.degraded;
    all.latency.merge(s.latency);
  }
  const overall = slotStats(all, ep.count);

  const warnings: string[] = [];
  if (records === 0) warnings.push('the trace holds no complete record');
  else {
    if (!header) warnings.push('no header record: session, models and split are unknown');
    else if (headerIndex !== 0) warnings.push(`the first record is not the header (the header is record ${headerIndex})`);
    if (!footer) warnings.push('no footer: the session did not close cleanly (allowed; the records present are summarized)');
    else if (footerIndex !== records - 1) warnings.push('the footer is not the last record');
  }
  if (acc.versions.size > 0) warnings.push(`schema_version other than 1 seen: ${[...acc.versions].join(', ')}`);
  if (partial) warnings.push(`the last line (${partial.line}, ${partial.bytes} bytes) is incomplete, probably a crash mid-write; skipped`);
  if (badCount > 0) warnings.push(`${badCount} line${badCount === 1 ? ' is' : 's are'} not JSON objects or could not be read (first: line ${badFirst[0]?.line}); skipped`);
  const ftr = footer as TraceSummary['footer'];
  const totals = ftr?.totals;
  if (totals && typeof totals.requests === 'number' && totals.requests !== overall.requests) {
    warnings.push(`the footer counts ${totals.requests} requests, the file holds ${overall.requests}`);
  }
  if (totals && typeof totals.dropped_records === 'number' && totals.dropped_records > 0) {
    warnings.push(`the recorder dropped ${totals.dropped_records} records (the footer says so)`);
  }
  if (ep.approximate) warnings.push(`more than ${acc.opts.maxTrackedEpisodes} episodes: episode counts are estimates (±2 %), top episodes' request counts may be over by at most ${ep.maxError}`);
  const hdr = header as TraceHeaderInfo | null;
  const modelHashes = new Set<string>();
  if (hdr?.modelHash) modelHashes.add(hdr.modelHash);
  for (const p of hdr?.policies ?? []) if (p.modelHash) modelHashes.add(p.modelHash);
  const missing = Number.isFinite(acc.minSeq) ? Math.max(0, acc.maxSeq - acc.minSeq + 1 - acc.requestsWithSeq) : null;
  const divHist: ShadowStats['divergence']['histogram'] = [{ lo: 0, hi: 0, count: acc.divZero }];
  divHist.push({ lo: 0, hi: DECADES[0]!, count: acc.decadeCounts[0]! });
  for (let k = 1; k < DECADES.length; k++) divHist.push({ lo: DECADES[k - 1]!, hi: DECADES[k]!, count: acc.decadeCounts[k]! });
  divHist.push({ lo: DECADES[DECADES.length - 1]!, hi: null, count: acc.decadeCounts[DECADES.length]! });
  const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);
  const elapsedMs = performance.now() - t0;
  opts.onProgress?.({ phase: 'summary', fraction: 1, fileBytesRead: info.fileSize, fileBytes: info.fileSize, records, elapsedMs });
  const timeline: TimelineJson = acc.timelineJson();
  const summary: TraceSummary = {
    path,
    gzip: info.gzip,
    fileBytes: info.fileSize,
    bytes,
    records,
    kinds: Object.fromEntries(acc.kinds),
    header: hdr,
    footer: ftr,
    modelHashes: [...modelHashes],
    time: { first: iso(acc.firstTs), last: iso(acc.lastTs), durationMs: Number.isFinite(acc.firstTs) ? acc.lastTs - acc.firstTs : null },
    seq: { min: Number.isFinite(acc.minSeq) ? acc.minSeq : null, max: Number.isFinite(acc.maxSeq) ? acc.maxSeq : null, missing },
    slots: acc.slots.map((s) => slotStats(s, ep.perSlot[s.name] ?? 0)),
    overall,
    episodes: ep,
    timeline,
    shadow: {
      count: acc.shadowCount,
      errors: acc.shadowErrors,
      withoutDivergence: acc.shadowNoDiv,
      latencyMs: latencyStats(acc.shadowLatency),
      divergence: {
        max: acc.shadowDiv.count ? acc.shadowDiv.max : null,
        mean: acc.shadowDiv.mean,
        p50: acc.shadowDiv.quantile(0.5),
        p99: acc.shadowDiv.quantile(0.99),
        minCosine: acc.nCos ? acc.minCos : null,
        meanCosine: acc.nCos ? acc.sumCos / acc.nCos : null,
        histogram: divHist,
      },
    },
    chain,
    partialLastLine: partial,
    badLines: { count: badCount, first: badFirst },
    warnings,
    elapsedMs,
    threads,
  };
  return { summary, index, episodeSpans: acc.episodes.list(acc.slotNames) };
}

/** An opened trace: its summary, and pages of its records on demand (see `trace-pages.ts`). */
export class ReplayTrace {
  constructor(
    readonly path: string,
    readonly summary: TraceSummary,
    readonly index: TraceIndex,
  ) {}

  /** Rows from a record index or for a seq range; reads only the blocks it needs (plain files). */
  page(q: PageQuery): Promise<ReplayPage> {
    return readPage(this.path, this.index, this.summary.gzip, q);
  }
}

/** Summarizes `path` (see `summarizeTrace`) and keeps what paging needs. */
export async function openTrace(path: string, opts: SummaryOptions = {}): Promise<ReplayTrace> {
  const { summary, index } = await summarizeTrace(path, opts);
  return new ReplayTrace(path, summary, index);
}
