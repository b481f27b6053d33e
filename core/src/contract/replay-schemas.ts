/**
 * The Replay page's part of the contract (spec §7.6): methods `replay.*` and the
 * `replay.progress` event. Kept in its own file so the map only gains a few entries.
 */
import { z } from 'zod';
import { ErrorShapeSchema } from './schemas.js';

/** Numbers the engine may not have (an empty bin, no latency recorded): null, never NaN. */
const N = z.number().nullable();
const TraceId = z.string().min(1).max(100);
const JobId = z.string().min(1).max(100);
const Ms = z.number().finite();

export const ReplayTraceFileSchema = z.object({
  path: z.string(),
  name: z.string(),
  /** The known folder it was found in. */
  root: z.string(),
  bytes: z.number().nonnegative(),
  /** ISO-8601. */
  modifiedAt: z.string(),
  gzip: z.boolean(),
});
export type ReplayTraceFile = z.infer<typeof ReplayTraceFileSchema>;

export const ReplayListSchema = z.object({
  /** The folders traces may be opened from (record dir, data dir, --data-root). */
  roots: z.array(z.string()),
  /** Newest first. */
  traces: z.array(ReplayTraceFileSchema),
  /** The trace named with `--trace` on the command line (the page opens it first). */
  initial: z.string().nullable(),
  /** Where browser uploads are saved. */
  uploadDir: z.string(),
});

export const ReplaySlotStatsSchema = z.object({
  slot: z.string(),
  modelId: z.string().nullable(),
  requests: z.number().nonnegative(),
  errors: z.number().nonnegative(),
  errorRate: N,
  cacheHitRate: N,
  p50Ms: N,
  p90Ms: N,
  p99Ms: N,
  meanMs: N,
  maxMs: N,
  episodes: z.number().nonnegative(),
});
export type ReplaySlotStats = z.infer<typeof ReplaySlotStatsSchema>;

export const ReplaySummarySchema = z.object({
  traceId: TraceId,
  path: z.string(),
  name: z.string(),
  gzip: z.boolean(),
  fileBytes: z.number().nonnegative(),
  records: z.number().nonnegative(),
  kinds: z.record(z.string(), z.number()),
  header: z
    .object({
      sessionId: z.string().nullable(),
      startedAt: z.string().nullable(),
      switchyardVersion: z.string().nullable(),
      split: N,
      modelHash: z.string().nullable(),
      policies: z.array(z.object({ slot: z.string(), modelId: z.string().nullable(), modelHash: z.string().nullable() })),
    })
    .nullable(),
  footer: z.object({ present: z.boolean(), endedAt: z.string().nullable() }),
  time: z.object({ first: z.string().nullable(), last: z.string().nullable(), durationMs: N, startMs: N, endMs: N }),
  slots: z.array(ReplaySlotStatsSchema),
  overall: ReplaySlotStatsSchema,
  episodes: z.object({ count: z.number().nonnegative(), approximate: z.boolean(), withoutEpisode: z.number().nonnegative() }),
  shadow: z.object({ count: z.number().nonnegative(), errors: z.number().nonnegative(), maxDivergence: N, meanDivergence: N, p99Divergence: N, minCosine: N, meanCosine: N }),
  chain: z.object({
    status: z.enum(['verified', 'broken', 'unchecked']),
    checked: z.number().nonnegative(),
    firstBroken: z.object({ index: z.number(), line: z.number(), kind: z.string(), reason: z.string() }).nullable(),
  }),
  partialLastLine: z.object({ line: z.number(), bytes: z.number() }).nullable(),
  badLines: z.object({ count: z.number(), first: z.array(z.object({ line: z.number(), reason: z.string() })) }),
  warnings: z.array(z.string()),
  /** `cartpole` when the states are cart-pole's (4 values, a cart-pole model or none named). */
  environment: z.enum(['cartpole']).nullable(),
  stateDim: z.number().int().nullable(),
  elapsedMs: z.number().nonnegative(),
});
export type ReplaySummary = z.infer<typeof ReplaySummarySchema>;

export const ReplayBinsSchema = z.object({
  fromMs: Ms,
  toMs: Ms,
  binMs: z.number(),
  resolutionMs: z.number(),
  slots: z.array(
    z.object({
      slot: z.string(),
      requests: z.array(z.number()),
      errors: z.array(z.number()),
      p50Ms: z.array(N),
      maxMs: z.array(N),
      cacheHitRate: z.array(N),
    }),
  ),
  shadow: z.object({ count: z.array(z.number()), maxDivergence: z.array(N) }),
});
export type ReplayBins = z.infer<typeof ReplayBinsSchema>;

export const ReplayEpisodeSpanSchema = z.object({
  episodeId: z.string(),
  requests: z.number(),
  errors: z.number(),
  slots: z.array(z.string()),
  firstMs: N,
  lastMs: N,
  firstSeq: N,
  lastSeq: N,
});
export type ReplayEpisodeSpan = z.infer<typeof ReplayEpisodeSpanSchema>;

export const ReplayStepSchema = z.object({
  index: z.number(),
  seq: N,
  tMs: N,
  requestId: z.string().nullable(),
  slot: z.string().nullable(),
  latencyMs: N,
  cache: z.string().nullable(),
  error: z.string().nullable(),
  state: z.array(z.number()).nullable(),
  /** The first action of the chunk. */
  action: z.array(z.number()).nullable(),
});
export type ReplayStep = z.infer<typeof ReplayStepSchema>;

export const ReplayRerunSchema = z.object({
  jobId: JobId,
  traceId: TraceId,
  version: z.string(),
  modelVersion: z.string().nullable(),
  requests: z.number(),
  errors: z.number(),
  cancelled: z.boolean(),
  compared: z.number(),
  maxAbs: N,
  meanAbs: N,
  p99Abs: N,
  minCosine: N,
  meanCosine: N,
  latency: z.object({ recordedP50: N, recordedP99: N, rerunP50: N, rerunP99: N, p99Ratio: N }),
  series: z.object({ requestsPerPoint: z.number(), firstSeq: z.array(N), maxAbs: z.array(N), minCosine: z.array(N), recordedMs: z.array(N), rerunMs: z.array(N) }),
  topEpisodes: z.array(z.object({ episodeId: z.string(), requests: z.number(), maxAbs: z.number(), minCosine: N, meanAbs: z.number() })),
  warnings: z.array(z.string()),
  elapsedMs: z.number(),
});
export type ReplayRerun = z.infer<typeof ReplayRerunSchema>;

export const ReplayProgressSchema = z.object({
  jobId: JobId,
  kind: z.enum(['open', 'rerun']),
  status: z.enum(['running', 'done', 'failed', 'cancelled']),
  /** 0..1 of the file read (open) or of the requests re-run. */
  fraction: z.number().min(0).max(1),
  records: z.number().nonnegative(),
  elapsedMs: z.number().nonnegative(),
  /** The trace being opened or re-run; for `open`, usable once `done`. */
  traceId: TraceId,
  path: z.string(),
  compared: z.number().nullable(),
  maxDivergence: N,
  error: ErrorShapeSchema.nullable(),
});
export type ReplayProgressPayload = z.infer<typeof ReplayProgressSchema>;

const Window = { fromMs: Ms.optional(), toMs: Ms.optional() };

export const replayMethods = {
  /** Traces in the record dir, the data dir and --data-root folders, newest first. */
  'replay.list': { input: z.object({}).strict(), output: ReplayListSchema },
  /** Start reading a trace (bounded memory); progress arrives as `replay.progress`, then `replay.summary`. */
  'replay.open': { input: z.object({ path: z.string().min(1).max(4096) }).strict(), output: ReplayProgressSchema },
  /**
   * Desktop app only: the native open dialog (.jsonl, .jsonl.gz), answered by the Electron main
   * process, which then opens the chosen file as `replay.open` does (the operator picked it, so it
   * may lie outside the known folders). `path` and `job` are null when the dialog was cancelled.
   * Elsewhere (HTTP) it is SWY_ERR_UNAVAILABLE: a browser uploads the file instead.
   */
  'replay.openDialog': { input: z.object({}).strict(), output: z.object({ path: z.string().nullable(), job: ReplayProgressSchema.nullable() }) },
  /** Stop an open or a re-run; a cancelled re-run keeps what it compared. */
  'replay.cancel': { input: z.object({ jobId: JobId }).strict(), output: z.object({ jobId: JobId, cancelled: z.boolean() }) },
  /** A job's latest progress (the event's content, for a caller that missed it). */
  'replay.job': { input: z.object({ jobId: JobId }).strict(), output: ReplayProgressSchema },
  'replay.summary': { input: z.object({ traceId: TraceId }).strict(), output: ReplaySummarySchema },
  /** Per-slot bins over a window, aggregated on the server from the trace's fine timeline. */
  'replay.timeline': { input: z.object({ traceId: TraceId, ...Window, bins: z.number().int().min(1).max(4000) }).strict(), output: ReplayBinsSchema },
  /** Episodes that overlap a window (first started first), optionally matching a search. */
  'replay.episodes': {
    input: z.object({ traceId: TraceId, ...Window, search: z.string().max(200).optional(), offset: z.number().int().min(0).optional(), limit: z.number().int().min(1).max(2000).optional() }).strict(),
    output: z.object({ total: z.number(), episodes: z.array(ReplayEpisodeSpanSchema) }),
  },
  /** One episode's requests in order: state, first action, latency. */
  'replay.episode': {
    input: z.object({ traceId: TraceId, episodeId: z.string().min(1).max(256) }).strict(),
    output: z.object({ episodeId: z.string(), steps: z.array(ReplayStepSchema), truncated: z.boolean() }),
  },
  /** The request recorded nearest a moment (for hovering a chart). */
  'replay.at': { input: z.object({ traceId: TraceId, tMs: Ms, slot: z.string().max(100).optional() }).strict(), output: z.object({ step: ReplayStepSchema.extend({ episodeId: z.string().nullable() }).nullable() }) },
  /** Re-run the trace's requests against a registered version; progress as `replay.progress`. */
  'replay.rerun': { input: z.object({ traceId: TraceId, version: z.string().min(1).max(300), limit: z.number().int().min(1).optional() }).strict(), output: ReplayProgressSchema },
  'replay.rerunResult': { input: z.object({ jobId: JobId }).strict(), output: ReplayRerunSchema },
} as const;

export const replayEvents = {
  /** An open or re-run's progress: about 10 a second, plus every status change. */
  'replay.progress': ReplayProgressSchema,
} as const;
