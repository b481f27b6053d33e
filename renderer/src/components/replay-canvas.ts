import { useEffect, useRef, type RefObject } from 'react';
import { SLOT_COLORS } from './slot-style';

const OTHER_COLORS = ['#0891b2', '#be123c', '#4d7c0f', '#a16207', '#6d28d9'];

/** A slot's colour (the Traffic and Live pages' for a, b, prod, shadow; a fixed palette for other servers' names). */
export function slotColor(slot: string, index = 0): string {
  return (SLOT_COLORS as Record<string, string>)[slot] ?? OTHER_COLORS[index % OTHER_COLORS.length]!;
}

/**
 * Draws on a canvas at the device's pixel ratio whenever `deps` change or the canvas is resized.
 * `draw` gets the context scaled to CSS pixels and the CSS size.
 */
export function useCanvas(draw: (ctx: CanvasRenderingContext2D, w: number, h: number) => void, deps: readonly unknown[]): RefObject<HTMLCanvasElement | null> {
  const ref = useRef<HTMLCanvasElement | null>(null);
  const drawRef = useRef(draw);
  drawRef.current = draw;
  useEffect(() => {
    const c = ref.current;
    if (!c) return;
    let lastW = -1;
    let lastH = -1;
    const paint = () => {
      const rect = c.getBoundingClientRect();
      const dpr = window.devicePixelRatio || 1;
      const w = Math.max(1, Math.round(rect.width));
      const h = Math.max(1, Math.round(rect.height));
      lastW = w;
      lastH = h;
      if (c.width !== w * dpr || c.height !== h * dpr) {
        c.width = w * dpr;
        c.height = h * dpr;
      }
      const ctx = c.getContext('2d');
      if (!ctx) return;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, w, h);
      drawRef.current(ctx, w, h);
    };
    paint();
    // An observer reports the size once when it starts: the frame just painted at that size is not
    // painted again (every scrub and zoom drew each chart twice).
    const resized = () => {
      const rect = c.getBoundingClientRect();
      if (Math.max(1, Math.round(rect.width)) !== lastW || Math.max(1, Math.round(rect.height)) !== lastH) paint();
    };
    const ro = typeof ResizeObserver === 'undefined' ? null : new ResizeObserver(resized);
    ro?.observe(c);
    return () => ro?.disconnect();
  }, deps);
  return ref;
}

export interface Plot {
  left: number;
  top: number;
  width: number;
  height: number;
}

export const PAD = { left: 52, right: 12, top: 10, bottom: 22 };

export function plotArea(w: number, h: number): Plot {
  return { left: PAD.left, top: PAD.top, width: Math.max(10, w - PAD.left - PAD.right), height: Math.max(10, h - PAD.top - PAD.bottom) };
}

export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function axisLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 1 ? String(Number(v.toPrecision(3))) : String(Number(v.toPrecision(2)));
}

/** Grid, y ticks (min, mid, max) and the frame. */
export function drawAxes(ctx: CanvasRenderingContext2D, p: Plot, yMin: number, yMax: number, xLabels?: [string, string]): void {
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = '#6b7280';
  ctx.strokeStyle = '#e5e7eb';
  ctx.lineWidth = 1;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const f of [0, 0.5, 1]) {
    const y = Math.round(p.top + p.height * (1 - f)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(p.left, y);
    ctx.lineTo(p.left + p.width, y);
    ctx.stroke();
    ctx.fillText(axisLabel(yMin + (yMax - yMin) * f), p.left - 6, y);
  }
  if (xLabels) {
    ctx.textBaseline = 'top';
    ctx.textAlign = 'left';
    ctx.fillText(xLabels[0], p.left, p.top + p.height + 5);
    ctx.textAlign = 'right';
    ctx.fillText(xLabels[1], p.left + p.width, p.top + p.height + 5);
  }
}

/** A line through the non-null values (gaps where null), x spread evenly or given. */
export function drawLine(ctx: CanvasRenderingContext2D, p: Plot, values: readonly (number | null)[], yMin: number, yMax: number, color: string, opts: { dash?: number[]; width?: number; xs?: readonly number[]; xMin?: number; xMax?: number; /** Join across empty points (sparse bins) instead of leaving gaps. */ bridge?: boolean } = {}): void {
  const n = values.length;
  if (n === 0) return;
  const span = yMax - yMin || 1;
  const xOf = (i: number) => {
    if (opts.xs && opts.xMin !== undefined && opts.xMax !== undefined) return p.left + ((opts.xs[i]! - opts.xMin) / (opts.xMax - opts.xMin || 1)) * p.width;
    return p.left + (n === 1 ? p.width / 2 : (i / (n - 1)) * p.width);
  };
  ctx.strokeStyle = color;
  ctx.lineWidth = opts.width ?? 1.5;
  ctx.setLineDash(opts.dash ?? []);
  ctx.beginPath();
  let pen = false;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined || !Number.isFinite(v)) {
      if (!opts.bridge) pen = false;
      continue;
    }
    const x = xOf(i);
    const y = p.top + p.height * (1 - (Math.min(yMax, Math.max(yMin, v)) - yMin) / span);
    if (pen) ctx.lineTo(x, y);
    else ctx.moveTo(x, y);
    pen = true;
  }
  ctx.stroke();
  ctx.setLineDash([]);
  // A lone point has no segment to stroke: mark it.
  if (!opts.bridge) return;
  let count = 0;
  let only = -1;
  for (let i = 0; i < n && count < 2; i++) {
    const v = values[i];
    if (v !== null && v !== undefined && Number.isFinite(v)) {
      count++;
      only = i;
    }
  }
  if (count === 1) {
    ctx.fillStyle = color;
    ctx.beginPath();
    ctx.arc(xOf(only), p.top + p.height * (1 - (Math.min(yMax, Math.max(yMin, values[only]!)) - yMin) / span), 2.5, 0, Math.PI * 2);
    ctx.fill();
  }
}

export function drawCursor(ctx: CanvasRenderingContext2D, p: Plot, x: number): void {
  if (!(x >= p.left && x <= p.left + p.width)) return;
  ctx.strokeStyle = '#111827';
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.moveTo(Math.round(x) + 0.5, p.top);
  ctx.lineTo(Math.round(x) + 0.5, p.top + p.height);
  ctx.stroke();
}
