import { useContext, useEffect, useId, useMemo, useState } from 'react';
import type { ReplaySlotStats, ReplaySummary } from '@contract';
import { EmptyState } from '../components/empty-state';
import { ErrorAlert } from '../components/error-alert';
import { PageHeader } from '../components/page-header';
import { slotColor } from '../components/replay-canvas';
import { CartPoleDrawing, EpisodeTimeline, LatencyChart, SeriesChart } from '../components/replay-charts';
import { ReplayRerunPanel } from '../components/replay-rerun';
import { useReplay, useStores } from '../stores/context';
import { chainWords, formatDuration, formatInstant, formatMs, formatPercent, SPEEDS, stepAt } from '../stores/replay-logic';
import { NavigationContext } from './navigation';

const int = (n: number) => n.toLocaleString('en-US');

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export function ReplayPage() {
  const { entered } = useContext(NavigationContext);
  const { replay } = useStores();
  const summary = useReplay((s) => s.summary);
  const error = useReplay((s) => s.error);
  const playing = useReplay((s) => s.playing);

  useEffect(() => {
    void replay.getState().loadList();
  }, [replay]);

  // Playback: the cursor moves every animation frame while playing.
  useEffect(() => {
    if (!playing) return;
    // About 30 redraws a second: smooth enough for the cart, and the charts' canvases are not free.
    let last = performance.now();
    let frame = requestAnimationFrame(function step(now) {
      if (now - last >= 30) {
        replay.getState().tick(now - last);
        last = now;
      }
      frame = requestAnimationFrame(step);
    });
    return () => cancelAnimationFrame(frame);
  }, [playing, replay]);

  return (
    <div className="page replay-page">
      <PageHeader title="Replay" focusOnMount={entered} />
      {error && <ErrorAlert title={error.title} error={error.error} onDismiss={() => replay.getState().dismissError()} />}
      <OpenPanel />
      {summary ? (
        <>
          <SummaryPanel summary={summary} />
          <TimelinePanel summary={summary} />
          <EpisodePanel summary={summary} />
          <ReplayRerunPanel summary={summary} />
        </>
      ) : (
        <EmptyState title="No trace open">
          <p>Pick a recorded trace above, upload one (in the desktop app: <strong>Open trace…</strong>), or start the console with <code>--trace FILE</code>. Traces recorded with <code>--record</code> or <code>--demo-traffic</code> appear in the list.</p>
        </EmptyState>
      )}
    </div>
  );
}

function OpenPanel() {
  const { replay } = useStores();
  const traces = useReplay((s) => s.traces);
  const roots = useReplay((s) => s.roots);
  const listStatus = useReplay((s) => s.listStatus);
  const job = useReplay((s) => s.openJob);
  const upload = useReplay((s) => s.upload);
  const nativeOpen = useReplay((s) => s.nativeOpen);
  const openPath = useReplay((s) => s.summary?.path ?? null);
  const headingId = useId();
  const running = job?.status === 'running';
  return (
    <section className="card replay-section" aria-labelledby={headingId}>
      <div className="card-header">
        <h2 id={headingId}>Traces</h2>
        <div className="replay-tools">
          <button type="button" className="button" onClick={() => void replay.getState().loadList()} disabled={listStatus === 'loading'}>
            Refresh list
          </button>
          {nativeOpen ? (
            <button type="button" className="button" onClick={() => void replay.getState().openWithDialog()}>
              Open trace…
            </button>
          ) : (
            <label className="button replay-upload">
              Upload a trace…
              <input
                type="file"
                accept=".jsonl,.gz,application/gzip"
                aria-label="Upload a trace"
                onChange={(e) => {
                  const f = e.currentTarget.files?.[0];
                  e.currentTarget.value = '';
                  if (f) void replay.getState().uploadFile(f);
                }}
              />
            </label>
          )}
        </div>
      </div>
      {upload && (
        <div className="replay-progress">
          <span>Uploading {upload.name}</span>
          <progress aria-label={`Uploading ${upload.name}`} max={1} value={upload.fraction} />
        </div>
      )}
      {job && running && (
        <div className="replay-progress">
          <span>
            Reading {job.path.split('/').pop()}: {int(job.records)} records, {Math.round(job.fraction * 100)}%
          </span>
          <progress aria-label="Opening the trace" max={1} value={job.fraction} />
          <button type="button" className="button" onClick={() => void replay.getState().cancelOpen()}>
            Cancel
          </button>
        </div>
      )}
      {job?.status === 'cancelled' && <p className="note">Opening {job.path.split('/').pop()} was cancelled.</p>}
      {traces.length === 0 ? (
        <p className="muted">{listStatus === 'loading' ? 'Looking for traces…' : `No traces in ${roots.join(', ') || 'the known folders'} yet.`}</p>
      ) : (
        <div className="table-wrap replay-trace-list">
          <table className="data-table" aria-label="Traces">
            <thead>
              <tr>
                <th scope="col">Trace</th>
                <th scope="col">Folder</th>
                <th scope="col">Size</th>
                <th scope="col">Modified</th>
                <th scope="col">
                  <span className="visually-hidden">Open</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {traces.map((t) => (
                <tr key={t.path} aria-current={t.path === openPath ? 'true' : undefined}>
                  <td className="mono">{t.name}</td>
                  <td className="mono muted" title={t.path}>
                    {t.root}
                  </td>
                  <td>{bytes(t.bytes)}</td>
                  <td>{formatInstant(Date.parse(t.modifiedAt))}</td>
                  <td>
                    <button type="button" className="link-button" aria-label={`Open ${t.name}`} onClick={() => void replay.getState().open(t.path)}>
                      Open
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function SlotRow({ s, color }: { s: ReplaySlotStats; color?: string }) {
  return (
    <tr>
      <th scope="row">
        {color && <span className="replay-swatch" style={{ background: color }} aria-hidden="true" />}
        {s.slot}
        {s.modelId && <span className="muted"> · {s.modelId}</span>}
      </th>
      <td>{int(s.requests)}</td>
      <td>{int(s.episodes)}</td>
      <td>{formatMs(s.p50Ms)}</td>
      <td>{formatMs(s.p90Ms)}</td>
      <td>{formatMs(s.p99Ms)}</td>
      <td>
        {int(s.errors)}
        {s.errorRate ? <span className="muted"> ({formatPercent(s.errorRate)})</span> : null}
      </td>
      <td>{formatPercent(s.cacheHitRate)}</td>
    </tr>
  );
}

function SummaryPanel({ summary: s }: { summary: ReplaySummary }) {
  const chain = chainWords(s);
  const headingId = useId();
  return (
    <section className="card replay-section" aria-labelledby={headingId}>
      <div className="card-header">
        <h2 id={headingId}>Summary of {s.name}</h2>
        <span className="muted">
          read in {formatDuration(s.elapsedMs)}
          {s.gzip ? ' · gzip' : ''} · {bytes(s.fileBytes)}
        </span>
      </div>
      <div role="status" className={`replay-chain ${chain.ok === true ? 'chain-ok' : chain.ok === false ? 'chain-broken' : ''}`} aria-label="Chain">
        <strong>{chain.title}</strong>
        <span>{chain.detail}</span>
      </div>
      <dl className="facts replay-facts" aria-label="Trace summary">
        <div>
          <dt>Requests</dt>
          <dd data-testid="replay-requests">{int(s.overall.requests)}</dd>
        </div>
        <div>
          <dt>Episodes</dt>
          <dd data-testid="replay-episodes">
            {s.episodes.approximate ? '≈ ' : ''}
            {int(s.episodes.count)}
          </dd>
        </div>
        <div>
          <dt>Records</dt>
          <dd>{int(s.records)}</dd>
        </div>
        <div>
          <dt>Slots</dt>
          <dd>{s.slots.map((x) => `${x.slot}${x.modelId ? ` (${x.modelId})` : ''}`).join(', ') || '—'}</dd>
        </div>
        <div>
          <dt>Time span</dt>
          <dd>
            {formatDuration(s.time.durationMs)}
            <span className="muted"> from {s.time.first ? formatInstant(Date.parse(s.time.first)) : '—'}</span>
          </dd>
        </div>
        <div>
          <dt>Errors</dt>
          <dd>
            {int(s.overall.errors)} ({formatPercent(s.overall.errorRate ?? 0)})
          </dd>
        </div>
        <div>
          <dt>Cache hit rate</dt>
          <dd>{formatPercent(s.overall.cacheHitRate)}</dd>
        </div>
        <div>
          <dt>Footer</dt>
          <dd>{s.footer.present ? `closed cleanly${s.footer.endedAt ? ` at ${formatInstant(Date.parse(s.footer.endedAt))}` : ''}` : 'Missing footer: the session did not close cleanly (crash, kill, or still recording)'}</dd>
        </div>
        {s.shadow.count > 0 && (
          <div>
            <dt>Shadow divergence</dt>
            <dd>
              {int(s.shadow.count)} results, max {s.shadow.maxDivergence?.toPrecision(3) ?? '—'}, p99 {s.shadow.p99Divergence?.toPrecision(3) ?? '—'}, min cosine {s.shadow.minCosine?.toFixed(3) ?? '—'}
            </dd>
          </div>
        )}
        {s.header?.split !== null && s.header?.split !== undefined && (
          <div>
            <dt>Split</dt>
            <dd>{s.header.split}% to a</dd>
          </div>
        )}
      </dl>
      <div className="table-wrap">
        <table className="data-table" aria-label="Latency per slot">
          <thead>
            <tr>
              <th scope="col">Slot</th>
              <th scope="col">Requests</th>
              <th scope="col">Episodes</th>
              <th scope="col">p50</th>
              <th scope="col">p90</th>
              <th scope="col">p99</th>
              <th scope="col">Errors</th>
              <th scope="col">Cache hits</th>
            </tr>
          </thead>
          <tbody>
            {s.slots.map((x, i) => (
              <SlotRow key={x.slot} s={x} color={slotColor(x.slot, i)} />
            ))}
            {s.slots.length > 1 && <SlotRow s={{ ...s.overall, slot: 'all' }} />}
          </tbody>
        </table>
      </div>
      {s.warnings.length > 0 && (
        <ul className="replay-warnings" aria-label="Warnings">
          {s.warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Scrubber({ summary: s }: { summary: ReplaySummary }) {
  const { replay } = useStores();
  const cursor = useReplay((st) => st.cursorMs);
  const playing = useReplay((st) => st.playing);
  const speed = useReplay((st) => st.speed);
  const start = s.time.startMs ?? 0;
  const end = s.time.endMs ?? start + 1;
  const offset = (cursor ?? start) - start;
  const name = useId();
  return (
    <div className="replay-scrubber">
      <button type="button" className="button button-primary replay-play" onClick={() => (playing ? replay.getState().pause() : replay.getState().play())}>
        {playing ? 'Pause' : 'Play'}
      </button>
      <label className="replay-position">
        <span>Position</span>
        <input
          type="range"
          aria-label="Position"
          min={0}
          max={end - start}
          step={Math.max(1, Math.round((end - start) / 2000))}
          value={offset}
          aria-valuetext={`${formatDuration(offset)} of ${formatDuration(end - start)}`}
          onChange={(e) => replay.getState().setCursor(start + Number(e.currentTarget.value))}
        />
      </label>
      <output aria-label="Cursor" className="mono replay-cursor-text">
        {formatDuration(offset)} / {formatDuration(end - start)}
      </output>
      <div className="segmented" role="radiogroup" aria-label="Speed">
        <span className="segmented-label" aria-hidden="true">
          Speed
        </span>
        {SPEEDS.map((sp) => (
          <label key={String(sp)} className="segment">
            <input type="radio" name={name} value={String(sp)} checked={speed === sp} onChange={() => replay.getState().setSpeed(sp)} aria-label={sp === 'max' ? 'max' : `${sp}×`} />
            <span>{sp === 'max' ? 'max' : `${sp}×`}</span>
          </label>
        ))}
      </div>
    </div>
  );
}

function TimelinePanel({ summary: s }: { summary: ReplaySummary }) {
  const { replay } = useStores();
  const rows = useReplay((st) => st.rows);
  const bins = useReplay((st) => st.bins);
  const win = useReplay((st) => st.window);
  const cursor = useReplay((st) => st.cursorMs);
  const selected = useReplay((st) => st.selected);
  const hover = useReplay((st) => st.hover);
  const headingId = useId();
  const slots = useMemo(() => s.slots.map((x) => x.slot), [s.slots]);
  const zoom = { onZoom: (f: number, c: number) => replay.getState().zoom(f, c), onPan: (d: number) => replay.getState().pan(d) };
  const full = s.time.startMs !== null && s.time.endMs !== null && win !== null && win.fromMs <= s.time.startMs && win.toMs >= s.time.endMs;
  return (
    <section className="card replay-section" aria-labelledby={headingId}>
      <div className="card-header">
        <h2 id={headingId}>Timeline</h2>
        <div className="replay-tools" role="group" aria-label="Zoom">
          <button type="button" className="button" onClick={() => replay.getState().zoom(0.5)}>
            Zoom in
          </button>
          <button type="button" className="button" onClick={() => replay.getState().zoom(2)} disabled={full}>
            Zoom out
          </button>
          <button type="button" className="button" onClick={() => win && replay.getState().pan(-(win.toMs - win.fromMs) / 2)} disabled={full}>
            ◀ Earlier
          </button>
          <button type="button" className="button" onClick={() => win && replay.getState().pan((win.toMs - win.fromMs) / 2)} disabled={full}>
            Later ▶
          </button>
          <button type="button" className="button" onClick={() => replay.getState().resetZoom()} disabled={full}>
            Whole trace
          </button>
        </div>
      </div>
      <Scrubber summary={s} />
      <p className="replay-legend-line">
        {s.slots.map((x, i) => (
          <span key={x.slot}>
            <span className="replay-swatch" style={{ background: slotColor(x.slot, i) }} aria-hidden="true" />
            slot {x.slot}
          </span>
        ))}
        {win && <span className="muted">window {formatDuration(win.toMs - win.fromMs)}{bins ? `, ${formatDuration(bins.binMs)} per point` : ''}</span>}
      </p>
      <h3 className="replay-subhead">Episodes by slot</h3>
      <EpisodeTimeline
        rows={rows?.episodes ?? []}
        total={rows?.total ?? 0}
        window={win}
        cursorMs={cursor}
        slots={slots}
        selected={selected}
        onSelect={(id) => void replay.getState().selectEpisode(id)}
        onHover={(t) => replay.getState().setHover(t)}
        {...zoom}
      />
      <h3 className="replay-subhead">Latency over time</h3>
      <LatencyChart bins={bins} cursorMs={cursor} onHoverTime={(t) => void replay.getState().hoverAt(t)} onLeave={() => replay.getState().setHover(null)} {...zoom} />
      <p className="replay-hover" role="status" aria-label="Pointer">
        {hover ?? 'Point at an episode or the latency chart to name it.'}
      </p>
    </section>
  );
}

function EpisodePanel({ summary: s }: { summary: ReplaySummary }) {
  const { replay } = useStores();
  const found = useReplay((st) => st.found);
  const search = useReplay((st) => st.search);
  const selected = useReplay((st) => st.selected);
  const episode = useReplay((st) => st.episode);
  const cursor = useReplay((st) => st.cursorMs);
  const headingId = useId();
  const [query, setQuery] = useState(search);
  useEffect(() => {
    const t = setTimeout(() => {
      if (query !== replay.getState().search) replay.getState().setSearch(query);
    }, 200);
    return () => clearTimeout(t);
  }, [query, replay]);
  const steps = episode?.steps ?? [];
  const k = stepAt(steps, cursor);
  const step = k >= 0 ? steps[k]! : null;
  const dim = steps.find((x) => x.state)?.state?.length ?? 0;
  const adim = steps.find((x) => x.action)?.action?.length ?? 0;
  const cart = s.environment === 'cartpole';
  const stateNames = cart ? ['x (m)', 'ẋ (m/s)', 'θ (rad)', 'θ̇ (rad/s)'] : Array.from({ length: dim }, (_, i) => `state[${i}]`);
  const palette = ['#2563eb', '#ea580c', '#16a34a', '#7c3aed', '#0891b2', '#be123c', '#a16207', '#4d7c0f'];
  const stateSeries = useMemo(() => stateNames.slice(0, 8).map((label, i) => ({ label, color: palette[i % palette.length]!, values: steps.map((x) => x.state?.[i] ?? null) })), [steps, dim, cart]);
  const actionSeries = useMemo(() => Array.from({ length: Math.min(adim, 4) }, (_, i) => ({ label: cart ? 'force (N)' : `action[${i}]`, color: palette[(i + 3) % palette.length]!, values: steps.map((x) => x.action?.[i] ?? null) })), [steps, adim, cart]);
  const latencySeries = useMemo(() => [{ label: 'latency (ms)', color: '#6b7280', values: steps.map((x) => x.latencyMs) }], [steps]);
  const describe = step?.state ? (cart ? `x = ${step.state[0]!.toFixed(3)} m, θ = ${((step.state[2]! * 180) / Math.PI).toFixed(2)}°` : step.state.map((v) => v.toFixed(3)).join(', ')) : 'no state recorded';
  return (
    <section className="card replay-section" aria-labelledby={headingId}>
      <div className="card-header">
        <h2 id={headingId}>Episode{selected ? ` ${selected}` : ''}</h2>
      </div>
      <div className="replay-episode-layout">
        <div className="replay-episode-list">
          <label className="replay-search">
            <span>Search episodes</span>
            <input type="search" role="searchbox" aria-label="Search episodes" value={query} onChange={(e) => setQuery(e.currentTarget.value)} placeholder="episode id" />
          </label>
          <p className="muted">{found ? `${int(found.total)} episode${found.total === 1 ? '' : 's'}${found.total > found.episodes.length ? `, first ${found.episodes.length} shown` : ''}` : '…'}</p>
          <ul className="replay-episode-items" aria-label="Episodes">
            {found?.episodes.map((e) => (
              <li key={e.episodeId}>
                <button type="button" className="replay-episode-item" aria-pressed={selected === e.episodeId} onClick={() => void replay.getState().selectEpisode(e.episodeId)}>
                  <span className="mono">{e.episodeId}</span>
                  <span className="muted">
                    {e.slots.join('+')} · {int(e.requests)} req{e.errors ? ` · ${e.errors} err` : ''}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </div>
        <div className="replay-episode-view">
          {!episode ? (
            <p className="muted">Pick an episode from the list or the timeline to see its state and actions.</p>
          ) : (
            <>
              <p className="replay-step" aria-live="off">
                Step {k + 1} of {steps.length}
                {step?.requestId ? ` · request ${step.requestId}` : ''}
                {step?.slot ? ` · slot ${step.slot}` : ''} · {describe}
                {episode.truncated ? ' · first 5,000 steps shown' : ''}
              </p>
              {cart && <CartPoleDrawing state={step?.state ?? null} action={step?.action ?? null} label={`Cart-pole at step ${k + 1} of ${steps.length}: ${describe}`} />}
              <SeriesChart label="State over the episode" series={stateSeries} cursorIndex={k} />
              {actionSeries.length > 0 && <SeriesChart label="Action over the episode" series={actionSeries} cursorIndex={k} height={110} />}
              <SeriesChart label="Latency over the episode" series={latencySeries} cursorIndex={k} height={90} />
            </>
          )}
        </div>
      </div>
    </section>
  );
}
