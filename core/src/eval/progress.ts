/**
 * A tiny progress display for long commands (spec §8): on a terminal, one line redrawn in place
 * with `\r` (at most ~10 times a second); elsewhere (pipes, CI logs), a plain line every 10 %.
 */
import type { EvalProgress } from './evaluator.js';

export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressLine {
  /** `fraction` (0..1) drives the bar and percentage when given; else done / total. */
  update(done: number, total: number, extra?: string, fraction?: number): void;
  /** Finish the line (a final redraw plus a newline on a terminal; a summary line otherwise). */
  done(message?: string): void;
}

export interface ProgressOptions {
  label: string;
  stream?: ProgressStream;
  /** Defaults to `stream.isTTY`. */
  tty?: boolean;
  now?: () => number;
  /** Minimum milliseconds between redraws on a terminal (default 100). */
  intervalMs?: number;
  width?: number;
}

function clampFraction(done: number, total: number, fraction?: number): number {
  const f = fraction ?? (total > 0 ? done / total : 0);
  return Number.isFinite(f) ? Math.min(1, Math.max(0, f)) : 0;
}

export function formatBar(done: number, total: number, width: number, fraction?: number): string {
  const full = Math.round(clampFraction(done, total, fraction) * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}]`;
}

function pct(f: number): string {
  return `${Math.floor(f * 100)}%`.padStart(4);
}

export function createProgress(opts: ProgressOptions): ProgressLine {
  const stream: ProgressStream = opts.stream ?? process.stderr;
  const tty = opts.tty ?? stream.isTTY === true;
  const now = opts.now ?? (() => Date.now());
  const interval = opts.intervalMs ?? 100;
  const width = opts.width ?? 24;
  const started = now();
  let lastDraw = -Infinity;
  let lastDecile = -1;
  let lastLen = 0;
  let last: { done: number; total: number; extra: string; fraction: number | undefined } = { done: 0, total: 0, extra: '', fraction: undefined };
  let finished = false;

  const line = (done: number, total: number, extra: string, fraction?: number): string => {
    const secs = ((now() - started) / 1000).toFixed(1);
    const f = clampFraction(done, total, fraction);
    return `${opts.label} ${formatBar(done, total, width, f)} ${done}/${total} ${pct(f)} ${secs}s${extra ? ' ' + extra : ''}`;
  };
  const draw = (): void => {
    let s = line(last.done, last.total, last.extra, last.fraction);
    const cols = stream.columns;
    if (cols !== undefined && cols > 10 && s.length >= cols) s = s.slice(0, cols - 1);
    const pad = lastLen > s.length ? ' '.repeat(lastLen - s.length) : '';
    stream.write(`\r${s}${pad}`);
    lastLen = s.length;
    lastDraw = now();
  };

  return {
    update(done, total, extra = '', fraction) {
      if (finished) return;
      last = { done, total, extra, fraction };
      if (tty) {
        if (now() - lastDraw >= interval || done >= total) draw();
        return;
      }
      const decile = Math.floor(clampFraction(done, total, fraction) * 10);
      if (decile > lastDecile) {
        lastDecile = decile;
        stream.write(line(done, total, extra, fraction) + '\n');
      }
    },
    done(message) {
      if (finished) return;
      finished = true;
      if (tty) {
        draw();
        stream.write(message ? `\n${message}\n` : '\n');
      } else if (message) {
        stream.write(message + '\n');
      }
    },
  };
}

/** An `onProgress` handler for `evaluate` that draws a progress line. */
export function evalProgressReporter(progress: ProgressLine): (p: EvalProgress) => void {
  return (p) => progress.update(p.done, p.total, `pass ${p.passed}`, p.fraction);
}
