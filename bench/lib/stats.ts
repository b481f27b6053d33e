/** Small helpers shared by the benchmarks: percentiles, medians, markdown tables. */

import { nearestRankOfSorted } from '../../core/src/domain/stats.js';

/** A bounded sample buffer (never grows past its capacity; extra samples are counted, not kept). */
export class Samples {
  private readonly buf: Float64Array;
  private n = 0;
  dropped = 0;
  constructor(capacity: number) {
    this.buf = new Float64Array(capacity);
  }
  push(x: number): void {
    if (this.n < this.buf.length) this.buf[this.n++] = x;
    else this.dropped++;
  }
  get count(): number {
    return this.n;
  }
  /** Sorted copy of the kept samples. */
  sorted(): Float64Array {
    return this.buf.slice(0, this.n).sort();
  }
}

/** Nearest-rank quantile of an ascending array; NaN when empty. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  return nearestRankOfSorted(sorted, q) ?? Number.NaN;
}

export function median(xs: number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function fmt(x: number, digits = 0): string {
  if (x === undefined || Number.isNaN(x)) return '-';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function signed(x: number, digits = 0): string {
  if (Number.isNaN(x)) return '-';
  return (x >= 0 ? '+' : '') + fmt(x, digits);
}

/** A GitHub-flavoured markdown table. */
export function markdownTable(headers: string[], rows: string[][], align?: ('l' | 'r')[]): string {
  const widths = headers.map((h, i) => Math.max(3, h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const cell = (c: string, i: number) => (align?.[i] === 'r' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!));
  const line = (cells: string[]) => `| ${cells.map((c, i) => cell(c, i)).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (align?.[i] === 'r' ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|')}|`;
  return [line(headers), sep, ...rows.map((r) => line(headers.map((_, i) => r[i] ?? '')))].join('\n') + '\n';
}
