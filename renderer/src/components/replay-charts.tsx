import { useRef } from 'react';
import type { ReplayBins, ReplayEpisodeSpan } from '@contract';
import type { TimeWindow } from '../stores/replay-logic';
import { drawAxes, drawCursor, drawLine, niceMax, plotArea, slotColor, useCanvas, type Plot } from './replay-canvas';

const xOfTime = (p: Plot, w: TimeWindow, t: number) => p.left + ((t - w.fromMs) / (w.toMs - w.fromMs || 1)) * p.width;
const timeOfX = (p: Plot, w: TimeWindow, x: number) => w.fromMs + ((x - p.left) / p.width) * (w.toMs - w.fromMs);
const clock = (ms: number) => new Date(ms).toISOString().slice(11, 23);

interface PointerHandlers {
  onZoom: (factor: number, centerMs: number) => void;
  onPan: (deltaMs: number) => void;
}

/** Wheel zooms around the pointer; dragging pans. Returns handlers for the canvas. */
function usePointerZoom(window: TimeWindow | null, plot: (w: number, h: number) => Plot, h: PointerHandlers) {
  const drag = useRef<{ x: number; moved: boolean } | null>(null);
  const at = (e: { clientX: number; currentTarget: HTMLCanvasElement }) => {
    const r = e.currentTarget.getBoundingClientRect();
    return { x: e.clientX - r.left, p: plot(r.width, r.height) };
  };
  return {
    onWheel: (e: React.WheelEvent<HTMLCanvasElement>) => {
      if (!window) return;
      const { x, p } = at(e);
      h.onZoom(e.deltaY < 0 ? 0.8 : 1.25, timeOfX(p, window, x));
    },
    onMouseDown: (e: React.MouseEvent<HTMLCanvasElement>) => {
      drag.current = { x: e.clientX, moved: false };
    },
    dragMove: (e: React.MouseEvent<HTMLCanvasElement>): boolean => {
      const d = drag.current;
      if (!d || !window || (e.buttons & 1) === 0) {
        drag.current = null;
        return false;
      }
      const dx = e.clientX - d.x;
      if (Math.abs(dx) < 3 && !d.moved) return false;
      d.moved = true;
      d.x = e.clientX;
      const { p } = at(e);
      h.onPan((-dx / p.width) * (window.toMs - window.fromMs));
      return true;
    },
    wasDrag: () => {
      const moved = drag.current?.moved ?? false;
      drag.current = null;
      return moved;
    },
  };
}

/** One row per episode across the window, coloured by the slot that served it; the cursor as a line. */
export function EpisodeTimeline(props: {
  rows: ReplayEpisodeSpan[];
  total: number;
  window: TimeWindow | null;
  cursorMs: number | null;
  slots: string[];
  selected: string | null;
  onSelect: (episodeId: string) => void;
  onHover: (text: string | null) => void;
} & PointerHandlers) {
  const { rows, window, cursorMs, slots, selected } = props;
  const rowH = rows.length === 0 ? 10 : Math.max(2, Math.min(14, Math.floor(240 / rows.length)));
  const height = Math.max(60, rows.length * rowH + 30);
  const plot = (w: number, h: number): Plot => ({ left: 12, top: 4, width: Math.max(10, w - 24), height: h - 26 });
  const ref = useCanvas(
    (ctx, w, h) => {
      const p = plot(w, h);
      ctx.fillStyle = '#f9fafb';
      ctx.fillRect(p.left, p.top, p.width, p.height);
      if (!window) return;
      rows.forEach((e, i) => {
        if (e.firstMs === null || e.lastMs === null) return;
        const x0 = Math.max(p.left, xOfTime(p, window, e.firstMs));
        const x1 = Math.min(p.left + p.width, xOfTime(p, window, e.lastMs));
        const y = p.top + i * rowH;
        const slot = e.slots[0] ?? '';
        ctx.fillStyle = slotColor(slot, slots.indexOf(slot));
        ctx.globalAlpha = selected === null || selected === e.episodeId ? 0.9 : 0.45;
        ctx.fillRect(x0, y + (rowH > 4 ? 1 : 0), Math.max(1.5, x1 - x0), Math.max(1, rowH - (rowH > 4 ? 2 : 0)));
        if (e.slots.length > 1) {
          ctx.fillStyle = slotColor(e.slots[1]!, slots.indexOf(e.slots[1]!));
          ctx.fillRect(x0, y + rowH / 2, Math.max(1.5, x1 - x0), Math.max(1, rowH / 2 - 1));
        }
        if (selected === e.episodeId) {
          ctx.globalAlpha = 1;
          ctx.strokeStyle = '#111827';
          ctx.lineWidth = 1.5;
          ctx.strokeRect(x0 - 1, y, Math.max(3, x1 - x0 + 2), rowH);
        }
      });
      ctx.globalAlpha = 1;
      ctx.font = '11px system-ui, sans-serif';
      ctx.fillStyle = '#6b7280';
      ctx.textBaseline = 'top';
      ctx.textAlign = 'left';
      ctx.fillText(clock(window.fromMs), p.left, p.top + p.height + 6);
      ctx.textAlign = 'right';
      ctx.fillText(clock(window.toMs), p.left + p.width, p.top + p.height + 6);
      if (cursorMs !== null) drawCursor(ctx, p, xOfTime(p, window, cursorMs));
    },
    [rows, window, cursorMs, selected, rowH, slots],
  );
  const z = usePointerZoom(window, plot, props);
  const rowAt = (e: React.MouseEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    const i = Math.floor((e.clientY - r.top - 4) / rowH);
    const ep = rows[i];
    if (!ep || !window) return null;
    const p = plot(r.width, r.height);
    const t = timeOfX(p, window, e.clientX - r.left);
    return ep.firstMs !== null && ep.lastMs !== null && t >= ep.firstMs - (window.toMs - window.fromMs) / 100 && t <= ep.lastMs + (window.toMs - window.fromMs) / 100 ? ep : null;
  };
  const first = rows[0]?.firstMs;
  return (
    <canvas
      ref={ref}
      className="replay-canvas"
      style={{ height }}
      role="img"
      aria-label={`Timeline of ${props.total.toLocaleString('en-US')} episodes${rows.length < props.total ? ` (the first ${rows.length} drawn)` : ''}, one row each, coloured by slot${first !== null && first !== undefined ? `, from ${clock(window?.fromMs ?? first)}` : ''}. Scroll to zoom, drag to pan, click an episode to open it.`}
      onWheel={z.onWheel}
      onMouseDown={z.onMouseDown}
      onMouseMove={(e) => {
        if (z.dragMove(e)) return;
        const ep = rowAt(e);
        props.onHover(ep ? `Episode ${ep.episodeId}: slot ${ep.slots.join(' and ')}, ${ep.requests} requests${ep.errors ? `, ${ep.errors} errors` : ''}, ${clock(ep.firstMs!)} to ${clock(ep.lastMs!)}` : null);
      }}
      onMouseLeave={() => props.onHover(null)}
      onClick={(e) => {
        if (z.wasDrag()) return;
        const ep = rowAt(e);
        if (ep) props.onSelect(ep.episodeId);
      }}
    />
  );
}

/** Median latency per bin and slot (solid) and the bin's slowest request (dashed). */
export function LatencyChart(props: { bins: ReplayBins | null; cursorMs: number | null; onHoverTime: (tMs: number, slot?: string) => void; onLeave: () => void } & PointerHandlers) {
  const { bins, cursorMs } = props;
  const plot = (w: number, h: number) => plotArea(w, h);
  const ref = useCanvas(
    (ctx, w, h) => {
      const p = plot(w, h);
      if (!bins) return;
      // The scale follows the medians; a few slow outliers (dashed) may run off the top.
      let max = 0;
      for (const s of bins.slots) for (const v of s.p50Ms) if (v !== null && v > max) max = v;
      let maxOfMax = 0;
      for (const s of bins.slots) for (const v of s.maxMs) if (v !== null && v > maxOfMax) maxOfMax = v;
      max = Math.max(max, Math.min(maxOfMax, max * 3));
      const top = niceMax(max * 1.1);
      drawAxes(ctx, p, 0, top, [clock(bins.fromMs), clock(bins.toMs)]);
      bins.slots.forEach((s, i) => {
        drawLine(ctx, p, s.maxMs, 0, top, slotColor(s.slot, i), { dash: [3, 3], width: 1, bridge: true });
        drawLine(ctx, p, s.p50Ms, 0, top, slotColor(s.slot, i), { width: 2, bridge: true });
      });
      if (cursorMs !== null) drawCursor(ctx, p, xOfTime(p, { fromMs: bins.fromMs, toMs: bins.toMs }, cursorMs));
    },
    [bins, cursorMs],
  );
  const win = bins ? { fromMs: bins.fromMs, toMs: bins.toMs } : null;
  const z = usePointerZoom(win, plot, props);
  return (
    <canvas
      ref={ref}
      className="replay-canvas"
      style={{ height: 180 }}
      role="img"
      aria-label={`Latency over time per slot: median (solid) and slowest request (dashed) per ${bins ? Math.max(1, Math.round(bins.binMs)) : '—'} ms. Scroll to zoom, drag to pan, hover to name a request.`}
      onWheel={z.onWheel}
      onMouseDown={z.onMouseDown}
      onMouseMove={(e) => {
        if (z.dragMove(e) || !win) return;
        const r = e.currentTarget.getBoundingClientRect();
        const t = timeOfX(plot(r.width, r.height), win, e.clientX - r.left);
        if (t >= win.fromMs && t <= win.toMs) props.onHoverTime(t);
      }}
      onMouseLeave={props.onLeave}
      onClick={() => z.wasDrag()}
    />
  );
}

export interface Series {
  label: string;
  color: string;
  values: readonly (number | null)[];
  dash?: number[];
}

/** A small line chart of equally spaced points with an optional cursor index. */
export function SeriesChart({ label, series, cursorIndex, height = 140, yMin, yMax, xLabels }: { label: string; series: Series[]; cursorIndex?: number | null; height?: number; yMin?: number; yMax?: number; xLabels?: [string, string] }) {
  const ref = useCanvas(
    (ctx, w, h) => {
      const p = plotArea(w, h);
      let lo = Infinity;
      let hi = -Infinity;
      for (const s of series)
        for (const v of s.values)
          if (v !== null && Number.isFinite(v)) {
            if (v < lo) lo = v;
            if (v > hi) hi = v;
          }
      if (!Number.isFinite(lo)) {
        lo = 0;
        hi = 1;
      }
      const min = yMin ?? (lo >= 0 ? 0 : -niceMax(-lo));
      const max = yMax ?? (hi <= 0 ? 0 : niceMax(hi));
      drawAxes(ctx, p, min, max === min ? min + 1 : max, xLabels);
      for (const s of series) drawLine(ctx, p, s.values, min, max === min ? min + 1 : max, s.color, s.dash ? { dash: s.dash } : {});
      const n = series[0]?.values.length ?? 0;
      if (cursorIndex !== null && cursorIndex !== undefined && n > 0) drawCursor(ctx, p, p.left + (n === 1 ? p.width / 2 : (cursorIndex / (n - 1)) * p.width));
    },
    [series, cursorIndex, yMin, yMax, xLabels?.[0], xLabels?.[1]],
  );
  return (
    <figure className="replay-figure">
      <figcaption>
        {label}
        <span className="replay-legend">
          {series.map((s) => (
            <span key={s.label}>
              <span className="replay-swatch" style={{ background: s.color }} aria-hidden="true" />
              {s.label}
            </span>
          ))}
        </span>
      </figcaption>
      <canvas ref={ref} className="replay-canvas" style={{ height }} role="img" aria-label={`${label}: ${series.map((s) => s.label).join(', ')}`} />
    </figure>
  );
}

/** The cart and pole as the recorded state puts them: x in metres on a 4.8 m track, theta in radians. */
export function CartPoleDrawing({ state, action, label }: { state: readonly number[] | null; action: readonly number[] | null; label: string }) {
  const ref = useCanvas(
    (ctx, w, h) => {
      const ground = h - 34;
      const scale = (w - 40) / 4.8;
      const cx = w / 2 + (state?.[0] ?? 0) * scale;
      const theta = state?.[2] ?? 0;
      ctx.strokeStyle = '#9ca3af';
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(20, ground);
      ctx.lineTo(w - 20, ground);
      ctx.stroke();
      for (const edge of [-2.4, 2.4]) {
        const x = w / 2 + edge * scale;
        ctx.fillStyle = '#ef4444';
        ctx.fillRect(x - 1, ground - 12, 2, 12);
      }
      if (!state) return;
      const cartW = 56;
      const cartH = 26;
      ctx.fillStyle = '#1f2937';
      ctx.fillRect(cx - cartW / 2, ground - cartH - 6, cartW, cartH);
      ctx.fillStyle = '#4b5563';
      for (const dx of [-16, 16]) {
        ctx.beginPath();
        ctx.arc(cx + dx, ground - 5, 5, 0, Math.PI * 2);
        ctx.fill();
      }
      const poleLen = Math.min(h - 70, 1.0 * scale * 1.2);
      const px = cx + Math.sin(theta) * poleLen;
      const py = ground - cartH - 6 - Math.cos(theta) * poleLen;
      const fallen = Math.abs(theta) > (12 * Math.PI) / 180;
      ctx.strokeStyle = fallen ? '#dc2626' : '#d97706';
      ctx.lineWidth = 7;
      ctx.lineCap = 'round';
      ctx.beginPath();
      ctx.moveTo(cx, ground - cartH - 6);
      ctx.lineTo(px, py);
      ctx.stroke();
      ctx.lineCap = 'butt';
      const f = action?.[0];
      if (f !== undefined && Number.isFinite(f) && Math.abs(f) > 0.01) {
        const len = Math.max(-60, Math.min(60, f * 6));
        const y = ground - cartH / 2 - 6;
        const x0 = f > 0 ? cx - cartW / 2 - 4 - Math.abs(len) : cx + cartW / 2 + 4 + Math.abs(len);
        ctx.strokeStyle = '#2563eb';
        ctx.fillStyle = '#2563eb';
        ctx.lineWidth = 3;
        ctx.beginPath();
        ctx.moveTo(x0, y);
        ctx.lineTo(x0 + len, y);
        ctx.stroke();
        ctx.beginPath();
        ctx.moveTo(x0 + len, y);
        ctx.lineTo(x0 + len - Math.sign(len) * 8, y - 5);
        ctx.lineTo(x0 + len - Math.sign(len) * 8, y + 5);
        ctx.fill();
      }
    },
    [state?.[0], state?.[2], action?.[0]],
  );
  return <canvas ref={ref} className="replay-canvas replay-cartpole" style={{ height: 200 }} role="img" aria-label={label} />;
}
