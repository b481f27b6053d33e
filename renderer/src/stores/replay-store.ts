import { createStore, type StoreApi } from 'zustand/vanilla';
import type { ContractClient, ReplayBins, ReplayEpisodeSpan, ReplayProgressPayload, ReplayRerun, ReplayStep, ReplaySummary, ReplayTraceFile, Result, SwitchyardErrorShape } from '@contract';
import { advanceCursor, panWindow, zoomWindow, type Speed, type TimeWindow } from './replay-logic';

/** Sends a file to the server as it is read from disk (never whole in memory); resolves with where it was saved. */
export type TraceUploader = (file: File, onProgress: (fraction: number) => void) => Promise<Result<{ path: string; bytes: number }>>;

export interface ReplayState {
  listStatus: 'idle' | 'loading' | 'ready' | 'error';
  traces: ReplayTraceFile[];
  roots: string[];
  initial: string | null;
  /** The open in progress (or the last one). */
  openJob: ReplayProgressPayload | null;
  upload: { name: string; fraction: number } | null;
  /** In the desktop app: the native open dialog (`replay.openDialog`) replaces the browser's upload. */
  nativeOpen: boolean;
  summary: ReplaySummary | null;
  /** The charts' window (zoom and pan). */
  window: TimeWindow | null;
  bins: ReplayBins | null;
  rows: { total: number; episodes: ReplayEpisodeSpan[] } | null;
  search: string;
  found: { total: number; episodes: ReplayEpisodeSpan[] } | null;
  selected: string | null;
  episode: { episodeId: string; steps: ReplayStep[]; truncated: boolean } | null;
  cursorMs: number | null;
  playing: boolean;
  speed: Speed;
  /** What the pointer is over, in words (a request, an episode). */
  hover: string | null;
  rerunJob: ReplayProgressPayload | null;
  rerun: ReplayRerun | null;
  error: { title: string; error: SwitchyardErrorShape } | null;

  start(): () => void;
  loadList(): Promise<void>;
  open(path: string): Promise<void>;
  uploadFile(file: File): Promise<void>;
  /** Desktop: the native open dialog, then the chosen trace opens (nothing happens when it is cancelled). */
  openWithDialog(): Promise<void>;
  cancelOpen(): Promise<void>;
  setWindow(w: TimeWindow): void;
  zoom(factor: number, centerMs?: number): void;
  pan(deltaMs: number): void;
  resetZoom(): void;
  setSearch(q: string): void;
  selectEpisode(id: string | null): Promise<void>;
  setCursor(ms: number): void;
  play(): void;
  pause(): void;
  setSpeed(s: Speed): void;
  /** Advances playback by `elapsedMs` of wall time (the page calls it every animation frame). */
  tick(elapsedMs: number): void;
  hoverAt(tMs: number, slot?: string): Promise<void>;
  setHover(text: string | null): void;
  startRerun(version: string, limit?: number): Promise<void>;
  cancelRerun(): Promise<void>;
  dismissError(): void;
}

export type ReplayStore = StoreApi<ReplayState>;

/** Points per chart: about one per two pixels of a wide chart. */
export const CHART_BINS = 600;
export const EPISODE_ROWS = 400;

export function createReplayStore(client: ContractClient, uploader: TraceUploader, opts: { nativeOpen?: boolean } = {}): ReplayStore {
  let windowSeq = 0;
  let hoverSeq = 0;
  let searchSeq = 0;
  let episodeSeq = 0;
  return createStore<ReplayState>()((set, get) => {
    const fail = (title: string, error: SwitchyardErrorShape) => set({ error: { title, error } });
    const bounds = (): TimeWindow | null => {
      const s = get().summary;
      return s && s.time.startMs !== null && s.time.endMs !== null ? { fromMs: s.time.startMs, toMs: s.time.endMs } : null;
    };
    const loadWindow = async (w: TimeWindow) => {
      const s = get().summary;
      if (!s) return;
      const seq = ++windowSeq;
      // A short trace gets fewer, fuller bins; a long one about one point per two pixels.
      const nBins = Math.max(40, Math.min(CHART_BINS, Math.round(s.overall.requests / 3)));
      const [bins, rows] = await Promise.all([
        client.invoke('replay.timeline', { traceId: s.traceId, fromMs: w.fromMs, toMs: w.toMs, bins: nBins }),
        client.invoke('replay.episodes', { traceId: s.traceId, fromMs: w.fromMs, toMs: w.toMs, limit: EPISODE_ROWS }),
      ]);
      if (seq !== windowSeq) return;
      if (!bins.ok) return fail('Could not draw the timeline', bins.error);
      if (!rows.ok) return fail('Could not list the episodes', rows.error);
      set({ bins: bins.value, rows: rows.value });
    };
    const runSearch = async () => {
      const s = get().summary;
      if (!s) return;
      const seq = ++searchSeq;
      const q = get().search;
      const r = await client.invoke('replay.episodes', { traceId: s.traceId, limit: 200, ...(q ? { search: q } : {}) });
      if (seq !== searchSeq) return;
      if (r.ok) set({ found: r.value });
      else fail('Could not search the episodes', r.error);
    };
    const opened = async (traceId: string) => {
      const r = await client.invoke('replay.summary', { traceId });
      if (!r.ok) return fail('Could not read the summary', r.error);
      const s = r.value;
      const w = s.time.startMs !== null && s.time.endMs !== null ? { fromMs: s.time.startMs, toMs: s.time.endMs } : null;
      set({ summary: s, window: w, cursorMs: w?.fromMs ?? null, playing: false, selected: null, episode: null, bins: null, rows: null, found: null, search: '', rerun: null, rerunJob: null, hover: null });
      if (w) await loadWindow(w);
      await runSearch();
      // A cart-pole trace opens on its first episode, so the drawing has something to show.
      const first = get().found?.episodes[0];
      if (first && s.environment === 'cartpole') await get().selectEpisode(first.episodeId);
    };
    const onProgress = (p: ReplayProgressPayload) => {
      const st = get();
      if (p.kind === 'open' && st.openJob?.jobId === p.jobId) {
        const was = st.openJob.status;
        set({ openJob: p });
        if (p.status === 'done' && was !== 'done') void opened(p.traceId);
        if (p.status === 'failed' && p.error && was !== 'failed') fail(`Could not open ${p.path}`, p.error);
      }
      if (p.kind === 'rerun' && st.rerunJob?.jobId === p.jobId) {
        const was = st.rerunJob.status;
        set({ rerunJob: p });
        if ((p.status === 'done' || p.status === 'cancelled') && was === 'running') {
          void client.invoke('replay.rerunResult', { jobId: p.jobId }).then((r) => {
            if (r.ok) set({ rerun: r.value });
            else if (p.status === 'done') fail('Could not read the re-run', r.error);
          });
        }
        if (p.status === 'failed' && p.error && was !== 'failed') fail('The re-run failed', p.error);
      }
    };
    // Events may be missed (a reconnect): while a job runs, ask for its state now and then too.
    const poll = async () => {
      const st = get();
      for (const job of [st.openJob, st.rerunJob]) {
        if (job && job.status === 'running') {
          const r = await client.invoke('replay.job', { jobId: job.jobId });
          if (r.ok) onProgress(r.value);
        }
      }
    };

    return {
      listStatus: 'idle',
      traces: [],
      roots: [],
      initial: null,
      openJob: null,
      upload: null,
      nativeOpen: opts.nativeOpen ?? false,
      summary: null,
      window: null,
      bins: null,
      rows: null,
      search: '',
      found: null,
      selected: null,
      episode: null,
      cursorMs: null,
      playing: false,
      speed: 10,
      hover: null,
      rerunJob: null,
      rerun: null,
      error: null,

      start() {
        const off = client.subscribe('replay.progress', onProgress);
        const timer = setInterval(() => void poll(), 1000);
        return () => {
          off();
          clearInterval(timer);
        };
      },

      async loadList() {
        set({ listStatus: 'loading' });
        const r = await client.invoke('replay.list', {});
        if (!r.ok) {
          set({ listStatus: 'error' });
          return fail('Could not list the traces', r.error);
        }
        const first = get().initial === null && r.value.initial !== null && get().openJob === null;
        set({ listStatus: 'ready', traces: r.value.traces, roots: r.value.roots, initial: r.value.initial });
        if (first && r.value.initial) await get().open(r.value.initial);
      },

      async open(path) {
        const prev = get().openJob;
        if (prev?.status === 'running') await client.invoke('replay.cancel', { jobId: prev.jobId });
        set({ error: null });
        const r = await client.invoke('replay.open', { path });
        if (!r.ok) return fail(`Could not open ${path}`, r.error);
        set({ openJob: r.value });
        // The `--trace` file is read from the console's start: its job may be done already (no event follows).
        if (r.value.status === 'done') await opened(r.value.traceId);
      },

      async uploadFile(file) {
        set({ upload: { name: file.name, fraction: 0 }, error: null });
        const r = await uploader(file, (fraction) => set({ upload: { name: file.name, fraction } }));
        set({ upload: null });
        if (!r.ok) return fail(`Could not upload ${file.name}`, r.error);
        void get().loadList();
        await get().open(r.value.path);
      },

      async openWithDialog() {
        set({ error: null });
        const prev = get().openJob;
        const r = await client.invoke('replay.openDialog', {});
        if (!r.ok) return fail('Could not open a trace', r.error);
        if (r.value.job === null) return;
        if (prev?.status === 'running' && prev.jobId !== r.value.job.jobId) await client.invoke('replay.cancel', { jobId: prev.jobId });
        set({ openJob: r.value.job });
      },

      async cancelOpen() {
        const job = get().openJob;
        if (job?.status === 'running') await client.invoke('replay.cancel', { jobId: job.jobId });
      },

      setWindow(w) {
        set({ window: w });
        void loadWindow(w);
      },

      zoom(factor, centerMs) {
        const w = get().window;
        const b = bounds();
        if (!w || !b) return;
        get().setWindow(zoomWindow(w, factor, centerMs ?? get().cursorMs ?? (w.fromMs + w.toMs) / 2, b));
      },

      pan(deltaMs) {
        const w = get().window;
        const b = bounds();
        if (!w || !b) return;
        get().setWindow(panWindow(w, deltaMs, b));
      },

      resetZoom() {
        const b = bounds();
        if (b) get().setWindow(b);
      },

      setSearch(q) {
        set({ search: q });
        void runSearch();
      },

      async selectEpisode(id) {
        const s = get().summary;
        set({ selected: id });
        if (!s || id === null) return set({ episode: null });
        const seq = ++episodeSeq;
        const r = await client.invoke('replay.episode', { traceId: s.traceId, episodeId: id });
        if (seq !== episodeSeq) return;
        if (!r.ok) return fail(`Could not read episode ${id}`, r.error);
        const first = r.value.steps[0]?.tMs ?? null;
        const cur = get().cursorMs;
        const last = r.value.steps[r.value.steps.length - 1]?.tMs ?? null;
        // Put the cursor on the episode unless it is already inside it.
        const inside = cur !== null && first !== null && last !== null && cur >= first && cur <= last;
        set({ episode: r.value, ...(inside || first === null ? {} : { cursorMs: first }) });
      },

      setCursor(ms) {
        const b = bounds();
        if (!b) return;
        set({ cursorMs: Math.min(b.toMs, Math.max(b.fromMs, ms)) });
      },

      play() {
        const b = bounds();
        if (!b) return;
        const cur = get().cursorMs;
        set({ playing: true, ...(cur === null || cur >= b.toMs ? { cursorMs: b.fromMs } : {}) });
      },

      pause() {
        set({ playing: false });
      },

      setSpeed(speed) {
        set({ speed });
      },

      tick(elapsedMs) {
        const st = get();
        const b = bounds();
        if (!st.playing || !b || st.cursorMs === null) return;
        const next = advanceCursor(st.cursorMs, elapsedMs, st.speed, b);
        set({ cursorMs: next.cursorMs, ...(next.done ? { playing: false } : {}) });
      },

      async hoverAt(tMs, slot) {
        const s = get().summary;
        if (!s) return;
        const seq = ++hoverSeq;
        const r = await client.invoke('replay.at', { traceId: s.traceId, tMs, ...(slot ? { slot } : {}) });
        if (seq !== hoverSeq || !r.ok) return;
        const st = r.value.step;
        set({
          hover: st
            ? `Request ${st.requestId ?? `#${st.seq ?? st.index}`} (seq ${st.seq ?? '—'}), episode ${st.episodeId ?? '—'}, slot ${st.slot ?? '—'}, ${st.latencyMs === null ? 'no latency' : `${st.latencyMs.toFixed(2)} ms`}${st.cache ? `, cache ${st.cache}` : ''}${st.error ? `, error ${st.error}` : ''}`
            : 'No request near this moment',
        });
      },

      setHover(text) {
        hoverSeq++;
        set({ hover: text });
      },

      async startRerun(version, limit) {
        const s = get().summary;
        if (!s) return;
        set({ rerun: null, error: null });
        const r = await client.invoke('replay.rerun', { traceId: s.traceId, version, ...(limit !== undefined ? { limit } : {}) });
        if (!r.ok) return fail(`Could not re-run against ${version}`, r.error);
        set({ rerunJob: r.value });
      },

      async cancelRerun() {
        const job = get().rerunJob;
        if (job?.status === 'running') await client.invoke('replay.cancel', { jobId: job.jobId });
      },

      dismissError() {
        set({ error: null });
      },
    };
  });
}
