/**
 * The Replay page's engine side (spec §7.6): lists traces in the known folders, opens them in the
 * background with progress (`replay.progress`), keeps a few open traces' summaries, fine timelines
 * and episode spans in memory (bounded, whatever the trace's size), answers chart windows from
 * those, reads one episode's records through the trace index, and re-runs a trace against a
 * registered version with progress and Cancel.
 */
import { existsSync, statSync } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { ErrorCodes, SwitchyardError, toErrorShape } from '../contract/errors.js';
import type { ReplayBins, ReplayEpisodeSpan, ReplayProgressPayload, ReplayRerun, ReplaySlotStats, ReplayStep, ReplaySummary, ReplayTraceFile } from '../contract/replay-schemas.js';
import type { Logger } from '../platform/logger.js';
import type { PolicyExport } from '../runtime/types.js';
import { isAbortError } from '../trace/line-source.js';
import { episodesInWindow, rebin, timelineExtent, type EpisodeSpan } from './replay-bins.js';
import { checkReplayPath } from './replay-paths.js';
import { saveTraceUpload } from './replay-upload.js';
import { rerunAgainstExport, type RerunResult } from './rerun.js';
import { summarizeTrace, ReplayTrace, type SlotStats, type TraceSummary } from './trace-summary.js';
import type { ReplayRow } from './trace-pages.js';

export interface ReplayServiceOptions {
  /** The folders traces may be read from, in the order they are listed. */
  roots: () => string[];
  /** Where browser uploads go (one of the roots, or under one). */
  uploadDir: string;
  resolveExport: (ref: string) => Promise<{ ref: string; exp: PolicyExport }>;
  emit: (p: ReplayProgressPayload) => void;
  logger: Logger;
  device?: 'auto' | 'cpu' | 'cuda';
  /**
   * The server's path rule for API callers (the engine's `PathRoots`): returns the real path or
   * throws SWY_ERR_PATH_NOT_ALLOWED. Without it, replay's own minimal check (`replay-paths.ts`).
   */
  checkPath?: (path: string) => string;
  /** Traces kept open at once (default 4): the oldest is closed when another opens. */
  maxOpen?: number;
  /** Fine timeline buckets kept per trace (default 8,192). */
  timelineBuckets?: number;
}

interface OpenTrace {
  id: string;
  trace: ReplayTrace;
  spans: EpisodeSpan[];
  view: ReplaySummary;
  /** When the page last used it (for closing the least recently used). */
  used: number;
}

interface Job {
  progress: ReplayProgressPayload;
  ctrl: AbortController;
  result?: ReplayRerun;
}

const TRACE_NAME = /\.jsonl(\.gz)?$/;
const MAX_EPISODE_STEPS = 5000;

/** Other JSONL files share the folders (evaluation suites, reports): a trace's lines carry a `kind`. */
async function looksLikeTrace(path: string, name: string): Promise<boolean> {
  if (name.endsWith('.gz')) return true;
  let fh;
  try {
    fh = await open(path, 'r');
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return bytesRead === 0 || /"kind"\s*:/.test(buf.toString('utf8', 0, bytesRead));
  } catch {
    return false;
  } finally {
    await fh?.close();
  }
}

function fin(x: number | null | undefined): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

function slotView(s: SlotStats, modelId: string | null): ReplaySlotStats {
  return {
    slot: s.slot,
    modelId,
    requests: s.requests,
    errors: s.errors,
    errorRate: fin(s.errorRate),
    cacheHitRate: fin(s.cache.hitRate),
    p50Ms: fin(s.latencyMs.p50),
    p90Ms: fin(s.latencyMs.p90),
    p99Ms: fin(s.latencyMs.p99),
    meanMs: fin(s.latencyMs.mean),
    maxMs: fin(s.latencyMs.max),
    episodes: s.episodes,
  };
}

function stepOf(r: ReplayRow): ReplayStep {
  return {
    index: r.index,
    seq: r.seq,
    tMs: r.timestamp ? Date.parse(r.timestamp) : null,
    requestId: r.requestId,
    slot: r.slot,
    latencyMs: fin(r.latencyMs),
    cache: r.cache,
    error: r.error ? `${r.error.code ?? 'error'}: ${r.error.message ?? ''}`.trim() : null,
    state: r.state && r.state.every(Number.isFinite) ? r.state : null,
    action: r.actions && r.actions[0] && r.actions[0].every(Number.isFinite) ? r.actions[0] : null,
  };
}

/** Builds the page's view of a summary (plain numbers, no NaN). */
export function summaryView(id: string, s: TraceSummary, stateDim: number | null): ReplaySummary {
  const models = new Map((s.header?.policies ?? []).map((p) => [p.slot, p.modelId]));
  const ext = timelineExtent(s.timeline);
  const anyModel = [...models.values()].find((m) => m !== null) ?? null;
  const cartModel = anyModel === null || /cart.?pole/i.test(anyModel) || (s.header?.policies.length ?? 0) === 0;
  return {
    traceId: id,
    path: s.path,
    name: basename(s.path),
    gzip: s.gzip,
    fileBytes: s.fileBytes,
    records: s.records,
    kinds: s.kinds,
    header: s.header
      ? { sessionId: s.header.sessionId, startedAt: s.header.startedAt, switchyardVersion: s.header.switchyardVersion, split: fin(s.header.split), modelHash: s.header.modelHash, policies: s.header.policies }
      : null,
    footer: { present: s.footer !== null, endedAt: s.footer?.endedAt ?? null },
    time: { first: s.time.first, last: s.time.last, durationMs: fin(s.time.durationMs), startMs: ext?.startMs ?? null, endMs: ext?.endMs ?? null },
    slots: s.slots.map((x) => slotView(x, models.get(x.slot) ?? null)),
    overall: slotView(s.overall, null),
    episodes: { count: s.episodes.count, approximate: s.episodes.approximate, withoutEpisode: s.episodes.withoutEpisode },
    shadow: {
      count: s.shadow.count,
      errors: s.shadow.errors,
      maxDivergence: fin(s.shadow.divergence.max),
      meanDivergence: fin(s.shadow.divergence.mean),
      p99Divergence: fin(s.shadow.divergence.p99),
      minCosine: fin(s.shadow.divergence.minCosine),
      meanCosine: fin(s.shadow.divergence.meanCosine),
    },
    chain: { status: s.chain.status, checked: s.chain.checked, firstBroken: s.chain.firstBroken ? { ...s.chain.firstBroken, kind: String(s.chain.firstBroken.kind) } : null },
    partialLastLine: s.partialLastLine,
    badLines: s.badLines,
    warnings: s.warnings,
    environment: stateDim === 4 && cartModel ? 'cartpole' : null,
    stateDim,
    elapsedMs: s.elapsedMs,
  };
}

export class ReplayService {
  private readonly traces = new Map<string, OpenTrace>();
  private readonly jobs = new Map<string, Job>();
  private seq = 0;
  private initial: string | null = null;
  /** Files named on the command line (`--trace`): trusted one by one. */
  private readonly allowed = new Set<string>();

  constructor(private readonly opts: ReplayServiceOptions) {}

  /** The trace given with `--trace` (allowed even outside the roots; the page opens it first). */
  setInitialTrace(path: string): void {
    if (!existsSync(path)) throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, `--trace ${path}: no such file.`, '--trace');
    const real = checkReplayPath(path, [], new Set([path]));
    this.allowed.add(real);
    this.allowed.add(path);
    this.initial = real;
    // Reading starts now, while the console starts and the page loads (about 1-3 s of page load,
    // the list, the open call); the page's `replay.open` of this file joins this job.
    const st = statSync(real);
    const job = this.startOpen(real);
    this.initialJob = { file: real, jobId: job.jobId, size: st.size, mtimeMs: st.mtimeMs };
  }

  /** The `--trace` file's job, joined by a `replay.open` of the same, unchanged file. */
  private initialJob: { file: string; jobId: string; size: number; mtimeMs: number } | null = null;

  private joinInitial(file: string): ReplayProgressPayload | null {
    const init = this.initialJob;
    if (!init || init.file !== file) return null;
    const job = this.jobs.get(init.jobId);
    let st: { size: number; mtimeMs: number };
    try {
      st = statSync(file);
    } catch {
      return null;
    }
    if (!job || st.size !== init.size || st.mtimeMs !== init.mtimeMs) return null;
    const s = job.progress.status;
    return s === 'running' || (s === 'done' && this.traces.has(job.progress.traceId)) ? job.progress : null;
  }

  get uploadDir(): string {
    return this.opts.uploadDir;
  }

  /** Streams an uploaded trace (`POST /api/replay/upload`) into the upload folder, never holding it whole. */
  saveUpload(body: Readable, name: string, now: Date): Promise<{ path: string; bytes: number }> {
    return saveTraceUpload(body, name, this.opts.uploadDir, now);
  }

  roots(): string[] {
    return [...new Set(this.opts.roots())];
  }

  async list(): Promise<{ roots: string[]; traces: ReplayTraceFile[]; initial: string | null; uploadDir: string }> {
    const roots = this.roots();
    const out: ReplayTraceFile[] = [];
    const seen = new Set<string>();
    const visit = async (dir: string, root: string, depth: number) => {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        return;
      }
      for (const name of names) {
        if (name.startsWith('.')) continue;
        const p = join(dir, name);
        let st;
        try {
          st = await stat(p);
        } catch {
          continue;
        }
        if (st.isDirectory()) {
          // Record dirs are flat; data roots may hold a folder per night's run.
          if (depth < 2 && out.length < 5000) await visit(p, root, depth + 1);
        } else if (TRACE_NAME.test(name) && !seen.has(p) && (await looksLikeTrace(p, name))) {
          seen.add(p);
          out.push({ path: p, name, root, bytes: st.size, modifiedAt: st.mtime.toISOString(), gzip: name.endsWith('.gz') });
        }
      }
    };
    for (const r of roots) {
      // A root may be one file (`--trace FILE`): it is listed itself, whatever its name, so the
      // trace the console opened is in the list beside the others.
      let st;
      try {
        st = await stat(r);
      } catch {
        continue;
      }
      if (st.isDirectory()) await visit(r, r, 0);
      else if (st.isFile() && !seen.has(r)) {
        seen.add(r);
        out.push({ path: r, name: basename(r), root: dirname(r), bytes: st.size, modifiedAt: st.mtime.toISOString(), gzip: r.endsWith('.gz') });
      }
    }
    out.sort((a, b) => (a.modifiedAt < b.modifiedAt ? 1 : a.modifiedAt > b.modifiedAt ? -1 : a.path.localeCompare(b.path)));
    return { roots, traces: out.slice(0, 1000), initial: this.initial, uploadDir: this.opts.uploadDir };
  }

  private nextId(prefix: string): string {
    return `${prefix}${++this.seq}`;
  }

  private update(job: Job, patch: Partial<ReplayProgressPayload>): void {
    job.progress = { ...job.progress, ...patch };
    this.opts.emit(job.progress);
  }

  open(path: string): ReplayProgressPayload {
    const file = this.opts.checkPath ? this.opts.checkPath(path) : checkReplayPath(path, this.roots(), this.allowed);
    return this.joinInitial(file) ?? this.startOpen(file);
  }

  private startOpen(file: string): ReplayProgressPayload {
    const id = this.nextId('t');
    const job: Job = {
      ctrl: new AbortController(),
      progress: { jobId: id, kind: 'open', status: 'running', fraction: 0, records: 0, elapsedMs: 0, traceId: id, path: file, compared: null, maxDivergence: null, error: null },
    };
    this.jobs.set(id, job);
    void this.runOpen(job, file);
    return job.progress;
  }

  private async runOpen(job: Job, file: string): Promise<void> {
    const id = job.progress.traceId;
    try {
      const res = await summarizeTrace(file, {
        signal: job.ctrl.signal,
        timelineBuckets: this.opts.timelineBuckets ?? 8192,
        onProgress: (p) => this.update(job, { fraction: Math.min(1, p.fraction), records: p.records, elapsedMs: p.elapsedMs }),
      });
      const trace = new ReplayTrace(file, res.summary, res.index);
      let stateDim: number | null = null;
      try {
        const first = await trace.page({ fromIndex: 0, limit: 20, kinds: ['request'] });
        stateDim = first.rows.find((r) => r.state)?.state?.length ?? null;
      } catch {
        stateDim = null;
      }
      this.traces.set(id, { id, trace, spans: res.episodeSpans, view: summaryView(id, res.summary, stateDim), used: Date.now() });
      this.evict();
      this.update(job, { status: 'done', fraction: 1, records: res.summary.records, elapsedMs: res.summary.elapsedMs });
    } catch (e) {
      if (isAbortError(e) || job.ctrl.signal.aborted) this.update(job, { status: 'cancelled' });
      else this.update(job, { status: 'failed', error: toErrorShape(e) });
    }
  }

  private evict(): void {
    const max = this.opts.maxOpen ?? 4;
    while (this.traces.size > max) {
      const oldest = [...this.traces.values()].sort((a, b) => a.used - b.used)[0]!;
      this.traces.delete(oldest.id);
    }
  }

  private get(traceId: string): OpenTrace {
    const t = this.traces.get(traceId);
    if (!t) {
      const job = this.jobs.get(traceId);
      const why = job?.progress.status === 'running' ? 'it is still being read' : job ? `its opening ${job.progress.status}` : 'it was closed (only the 4 most recent stay open) or never opened';
      throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, `Trace ${traceId} is not open: ${why}. Open it again with replay.open.`, 'traceId');
    }
    t.used = Date.now();
    return t;
  }

  /** An open trace's summary (`replay.summary`). */
  summary(traceId: string): ReplaySummary {
    return this.get(traceId).view;
  }

  cancel(jobId: string): { jobId: string; cancelled: boolean } {
    const job = this.jobs.get(jobId);
    if (!job) throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, `No replay job ${jobId}.`, 'jobId');
    if (job.progress.status !== 'running') return { jobId, cancelled: false };
    job.ctrl.abort();
    return { jobId, cancelled: true };
  }

  job(jobId: string): ReplayProgressPayload {
    const job = this.jobs.get(jobId);
    if (!job) throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, `No replay job ${jobId}.`, 'jobId');
    return job.progress;
  }

  timeline(traceId: string, q: { fromMs?: number; toMs?: number; bins: number }): ReplayBins {
    return rebin(this.get(traceId).trace.summary.timeline, q);
  }

  episodes(traceId: string, q: { fromMs?: number; toMs?: number; search?: string; offset?: number; limit?: number }): { total: number; episodes: ReplayEpisodeSpan[] } {
    return episodesInWindow(this.get(traceId).spans, q);
  }

  async episode(traceId: string, episodeId: string): Promise<{ episodeId: string; steps: ReplayStep[]; truncated: boolean }> {
    const t = this.get(traceId);
    const span = t.spans.find((s) => s.episodeId === episodeId);
    if (!span) throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, `No episode "${episodeId}" in ${t.view.name}. \`replay.episodes\` lists them.`, 'episodeId');
    const steps: ReplayStep[] = [];
    let truncated = false;
    if (span.firstSeq !== null && span.lastSeq !== null) {
      // Other episodes' requests interleave: read the episode's seq range in pages.
      for (let from = span.firstSeq; from <= span.lastSeq && !truncated; ) {
        const to = Math.min(span.lastSeq, from + 4999);
        const page = await t.trace.page({ fromSeq: from, toSeq: to, limit: 5000, kinds: ['request'] });
        for (const r of page.rows) {
          if (r.episodeId !== episodeId) continue;
          if (steps.length >= MAX_EPISODE_STEPS) {
            truncated = true;
            break;
          }
          steps.push(stepOf(r));
        }
        from = to + 1;
      }
    }
    return { episodeId, steps, truncated };
  }

  /** The request nearest `tMs`: a seq guessed from the episodes active then, then a small page around it. */
  async at(traceId: string, tMs: number, slot?: string): Promise<{ step: (ReplayStep & { episodeId: string | null }) | null }> {
    const t = this.get(traceId);
    let guess: number | null = null;
    let best = Infinity;
    for (const s of t.spans) {
      if (s.firstMs === null || s.lastMs === null || s.firstSeq === null || s.lastSeq === null) continue;
      if (slot && !s.slots.includes(slot)) continue;
      const d = tMs < s.firstMs ? s.firstMs - tMs : tMs > s.lastMs ? tMs - s.lastMs : 0;
      if (d < best) {
        best = d;
        const f = s.lastMs > s.firstMs ? Math.min(1, Math.max(0, (tMs - s.firstMs) / (s.lastMs - s.firstMs))) : 0;
        guess = Math.round(s.firstSeq + f * (s.lastSeq - s.firstSeq));
        if (d === 0) break;
      }
    }
    if (guess === null) return { step: null };
    const page = await t.trace.page({ fromSeq: Math.max(0, guess - 200), toSeq: guess + 200, limit: 1000, kinds: ['request'] });
    let pick: ReplayRow | null = null;
    let dist = Infinity;
    for (const r of page.rows) {
      if (slot && r.slot !== slot) continue;
      const ms = r.timestamp ? Date.parse(r.timestamp) : NaN;
      const d = Math.abs(ms - tMs);
      if (d < dist) {
        dist = d;
        pick = r;
      }
    }
    return { step: pick ? { ...stepOf(pick), episodeId: pick.episodeId } : null };
  }

  rerun(traceId: string, version: string, limit?: number): ReplayProgressPayload {
    const t = this.get(traceId);
    const id = this.nextId('r');
    const job: Job = {
      ctrl: new AbortController(),
      progress: { jobId: id, kind: 'rerun', status: 'running', fraction: 0, records: 0, elapsedMs: 0, traceId, path: t.trace.path, compared: 0, maxDivergence: null, error: null },
    };
    this.jobs.set(id, job);
    void this.runRerun(job, t, version, limit);
    return job.progress;
  }

  private async runRerun(job: Job, t: OpenTrace, version: string, limit?: number): Promise<void> {
    try {
      const { ref, exp } = await this.opts.resolveExport(version);
      const res = await rerunAgainstExport({
        trace: t.trace.path,
        export: exp,
        ref,
        device: this.opts.device ?? 'cpu',
        signal: job.ctrl.signal,
        ...(limit !== undefined ? { limit } : {}),
        onProgress: (p) => this.update(job, { fraction: Math.min(1, p.fraction), records: p.records, elapsedMs: p.elapsedMs, compared: p.compared ?? null, maxDivergence: fin(p.maxDivergence ?? null) }),
      });
      job.result = rerunView(job.progress.jobId, t.id, ref, res);
      this.update(job, { status: res.cancelled ? 'cancelled' : 'done', fraction: res.cancelled ? job.progress.fraction : 1, records: res.requests, elapsedMs: res.elapsedMs });
    } catch (e) {
      if (job.ctrl.signal.aborted && isAbortError(e)) this.update(job, { status: 'cancelled' });
      else this.update(job, { status: 'failed', error: toErrorShape(e) });
    }
  }

  rerunResult(jobId: string): ReplayRerun {
    const job = this.jobs.get(jobId);
    if (!job || job.progress.kind !== 'rerun') throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, `No re-run ${jobId}.`, 'jobId');
    if (!job.result) {
      const st = job.progress.status;
      throw new SwitchyardError(st === 'failed' ? ErrorCodes.SWY_ERR_INVALID_INPUT : ErrorCodes.SWY_ERR_CONFLICT, st === 'running' ? `Re-run ${jobId} is still running; wait for its replay.progress to say done.` : `Re-run ${jobId} ${st}${job.progress.error ? `: ${job.progress.error.message}` : ''}.`, 'jobId');
    }
    return job.result;
  }

  /** Stops running jobs (the engine is closing). */
  close(): void {
    for (const j of this.jobs.values()) if (j.progress.status === 'running') j.ctrl.abort();
  }
}

function rerunView(jobId: string, traceId: string, version: string, r: RerunResult): ReplayRerun {
  const a = r.overall.actions;
  const l = r.overall.latency;
  const ds = r.divergenceSeries;
  const n = ds?.max.length ?? 0;
  const pad = (xs: (number | null)[] | undefined) => Array.from({ length: n }, (_, i) => fin(xs?.[i] ?? null));
  return {
    jobId,
    traceId,
    version,
    modelVersion: r.model?.modelVersion ?? null,
    requests: r.requests,
    errors: r.overall.errors,
    cancelled: r.cancelled,
    compared: a?.compared ?? 0,
    maxAbs: fin(a?.max),
    meanAbs: fin(a?.mean),
    p99Abs: fin(a?.p99),
    minCosine: fin(a?.minCosine),
    meanCosine: fin(a?.meanCosine),
    latency: { recordedP50: fin(l?.recordedMs.p50), recordedP99: fin(l?.recordedMs.p99), rerunP50: fin(l?.rerunMs.p50), rerunP99: fin(l?.rerunMs.p99), p99Ratio: fin(l?.p99Ratio) },
    series: {
      requestsPerPoint: ds?.requestsPerPoint ?? 1,
      firstSeq: pad(ds?.firstSeq),
      maxAbs: pad(ds?.max),
      minCosine: pad(r.cosineSeries?.min),
      recordedMs: pad(r.latencySeries?.recordedMean),
      rerunMs: pad(r.latencySeries?.rerunMean),
    },
    topEpisodes: (r.topEpisodes ?? []).map((e) => ({ ...e, minCosine: fin(e.minCosine), maxAbs: fin(e.maxAbs) ?? 0, meanAbs: fin(e.meanAbs) ?? 0 })),
    warnings: r.warnings,
    elapsedMs: r.elapsedMs,
  };
}
