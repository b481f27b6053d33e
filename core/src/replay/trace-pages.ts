/**
 * Paged access to a trace's records for the Replay page's request list and scrubber: fetch the
 * records from a record index, or those whose `seq` falls in a range, without reading the file
 * from the start. The `TraceIndex` built by the summary pass says where each block of records
 * starts; a page reads only the blocks it needs.
 *
 * gzip: a gzip stream cannot be entered in the middle (deflate blocks depend on the 32 KiB
 * before them, and Node's zlib cannot resume from a saved window), so for `.jsonl.gz` a page
 * streams from the start of the file and skips to the block it needs. That costs a decompression
 * of everything before the page (about 1 s per 200 MB of gzip); it stays correct, just slower for
 * pages deep into big traces. Gunzip the trace once (`gunzip -k`) to scrub it at plain-file speed.
 */
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';
import { toPlain } from '../trace/canonical-json.js';
import { parseTraceLine } from '../trace/trace-reader.js';
import { streamLines } from '../trace/line-source.js';
import type { TraceIndex } from './trace-index.js';

export interface PageQuery {
  /** Rows from this record index (0-based, header included)… */
  fromIndex?: number;
  /** …or the records whose `seq` is in [fromSeq, toSeq] (request and shadow_result records; toSeq defaults to fromSeq + limit - 1). */
  fromSeq?: number;
  toSeq?: number;
  /** At most this many rows (default 100, at most 5,000). */
  limit?: number;
  /** Only these kinds (default: every kind). */
  kinds?: string[];
  /** Add each record as written (`record`), unknown fields included. Default false. */
  records?: boolean;
  signal?: AbortSignal;
}

export interface ReplayRow {
  index: number;
  line: number;
  kind: string | null;
  seq: number | null;
  /** ISO-8601. */
  timestamp: string | null;
  slot: string | null;
  episodeId: string | null;
  requestId: string | null;
  chunkId: number | null;
  latencyMs: number | null;
  cache: string | null;
  error: { code: string | null; message: string | null } | null;
  state: number[] | null;
  actions: number[][] | null;
  /** shadow_result only. */
  divergence: { cosine: number | null; maxAbs: number | null } | null;
  /** The line is not JSON: why. */
  invalid?: string;
  record?: Record<string, unknown>;
}

export interface ReplayPage {
  rows: ReplayRow[];
  /** The record index to ask for next (index queries), null at the end of the trace. */
  nextIndex: number | null;
  /** Records read to answer (what the index saved shows as a small number). */
  recordsRead: number;
  /** True for gzip traces (read from the start, see the module comment). */
  streamedFromStart: boolean;
}

export const MAX_PAGE = 5000;

const obj = (v: unknown): Record<string, unknown> | null => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null);
const strOr = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const numOr = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function numbers(v: unknown): number[] | null {
  return Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : null;
}

function toRow(text: string, index: number, line: number, withRecord: boolean): ReplayRow {
  let rec: Record<string, unknown> | null = null;
  let invalid: string | undefined;
  try {
    rec = obj(JSON.parse(text));
  } catch {
    try {
      // NaN / Infinity tokens (Python's json writes them) are not JSON.parse's JSON.
      rec = obj(toPlain(parseTraceLine(text)));
    } catch (e) {
      invalid = (e as Error).message;
    }
  }
  const row: ReplayRow = {
    index,
    line,
    kind: null,
    seq: null,
    timestamp: null,
    slot: null,
    episodeId: null,
    requestId: null,
    chunkId: null,
    latencyMs: null,
    cache: null,
    error: null,
    state: null,
    actions: null,
    divergence: null,
  };
  if (!rec) {
    row.invalid = invalid ?? 'not a JSON object';
    return row;
  }
  row.kind = strOr(rec.kind);
  row.seq = numOr(rec.seq);
  const ts = numOr(rec.timestamp);
  row.timestamp = ts === null ? null : new Date(ts * 1000).toISOString();
  const routing = obj(rec.routing);
  row.slot = strOr(routing?.slot) ?? (row.kind === 'request' ? 'prod' : row.kind === 'shadow_result' ? 'shadow' : null);
  const request = obj(rec.request);
  row.episodeId = strOr(request?.episode_id);
  row.requestId = strOr(request?.request_id);
  row.state = numbers(request?.state);
  row.chunkId = numOr(rec.chunk_id);
  row.latencyMs = numOr(obj(rec.latency)?.total_ms);
  row.cache = strOr(obj(rec.cache)?.status);
  const err = obj(rec.error);
  if (err) row.error = { code: strOr(err.code), message: strOr(err.message) };
  const acts = obj(rec.response)?.actions;
  if (Array.isArray(acts)) {
    const rows = acts.map(numbers);
    row.actions = rows.every((r) => r !== null) ? (rows as number[][]) : null;
  }
  const div = obj(rec.divergence);
  if (div) row.divergence = { cosine: numOr(div.cosine), maxAbs: numOr(div.max_abs) };
  if (withRecord) row.record = rec;
  return row;
}

function checkQuery(q: PageQuery): { limit: number } {
  const limit = q.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `limit must be a whole number from 1 to ${MAX_PAGE}, got ${limit}.`, 'limit');
  const byIndex = q.fromIndex !== undefined;
  const bySeq = q.fromSeq !== undefined;
  if (byIndex === bySeq) throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, 'Give either fromIndex or fromSeq (not both).', byIndex ? 'fromSeq' : 'fromIndex');
  if (byIndex && (!Number.isInteger(q.fromIndex) || q.fromIndex! < 0)) throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `fromIndex must be a whole number >= 0, got ${q.fromIndex}.`, 'fromIndex');
  if (bySeq && !Number.isFinite(q.fromSeq)) throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `fromSeq must be a number, got ${q.fromSeq}.`, 'fromSeq');
  if (q.toSeq !== undefined && (!Number.isFinite(q.toSeq) || q.toSeq < q.fromSeq!)) throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `toSeq must be a number >= fromSeq, got ${q.toSeq}.`, 'toSeq');
  return { limit };
}

/**
 * Reads one page of `path` using `index` (from the summary pass of the same file). Throws
 * SwitchyardError for a bad query or an unreadable file.
 */
export async function readPage(path: string, index: TraceIndex, gzip: boolean, q: PageQuery): Promise<ReplayPage> {
  const { limit } = checkQuery(q);
  const kinds = q.kinds && q.kinds.length > 0 ? new Set(q.kinds) : null;
  const withRecord = q.records ?? false;
  const rows: ReplayRow[] = [];
  let recordsRead = 0;

  if (q.fromIndex !== undefined) {
    const from = q.fromIndex;
    if (index.blocks === 0 || from >= index.records) return { rows, nextIndex: null, recordsRead, streamedFromStart: gzip };
    const b = gzip ? 0 : index.blockOfIndex(from);
    const start = gzip ? { index: 0, offset: 0, line: 1 } : index.block(b);
    // Records before `from` are passed over undecoded (all of them for gzip, which starts at 0).
    const skip = from - start.index;
    let idx = start.index + skip;
    recordsRead += skip;
    let next: number | null = null;
    await streamLines(path, { start: start.offset, startLine: start.line, skip, ...(q.signal ? { signal: q.signal } : {}) }, (text, _off, lineNo, terminated) => {
      const i = idx++;
      if (i >= index.records) return false; // a partial last line is not a record
      recordsRead++;
      if (i < from) return true;
      if (rows.length >= limit) {
        next = i;
        return false;
      }
      const row = toRow(text, i, lineNo, withRecord);
      if (!terminated && row.invalid) return false;
      if (kinds === null || (row.kind !== null && kinds.has(row.kind))) rows.push(row);
      return true;
    });
    return { rows, nextIndex: next, recordsRead, streamedFromStart: gzip };
  }

  const fromSeq = q.fromSeq!;
  const toSeq = q.toSeq ?? fromSeq + limit - 1;
  const blocks = index.blocksForSeq(fromSeq, toSeq);
  // Runs of consecutive blocks, each read once.
  const runs: { first: number; last: number }[] = [];
  for (const b of blocks) {
    const r = runs[runs.length - 1];
    if (r && r.last === b - 1) r.last = b;
    else runs.push({ first: b, last: b });
  }
  if (gzip && runs.length > 0) runs.splice(0, runs.length, { first: 0, last: runs[runs.length - 1]!.last });
  const collect = (text: string, i: number, lineNo: number) => {
    const row = toRow(text, i, lineNo, withRecord);
    if (row.seq === null || row.seq < fromSeq || row.seq > toSeq) return;
    if (kinds === null || (row.kind !== null && kinds.has(row.kind))) rows.push(row);
  };
  const firstRelevant = blocks.length > 0 ? index.block(blocks[0]!).index : 0;
  for (const run of runs) {
    const start = gzip ? { index: 0, offset: 0, line: 1 } : index.block(run.first);
    const end = run.last + 1 < index.blocks ? index.block(run.last + 1).index : index.records;
    // gzip streams from the start: records before the first block that can hold the range are passed over undecoded.
    const skip = gzip ? firstRelevant : 0;
    let idx = start.index + skip;
    recordsRead += skip;
    await streamLines(path, { start: start.offset, startLine: start.line, skip, ...(q.signal ? { signal: q.signal } : {}) }, (text, _off, lineNo) => {
      const i = idx++;
      if (i >= end) return false;
      recordsRead++;
      collect(text, i, lineNo);
      return true;
    });
    if (rows.length >= limit * 4) break;
  }
  const order = (k: string | null) => (k === 'request' ? 0 : k === 'shadow_result' ? 1 : 2);
  rows.sort((a, b) => a.seq! - b.seq! || order(a.kind) - order(b.kind) || a.index - b.index);
  if (rows.length > limit) rows.length = limit;
  return { rows, nextIndex: null, recordsRead, streamedFromStart: gzip };
}
