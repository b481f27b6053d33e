/**
 * The shadow slot's divergence from the primary, as the console shows it: per stats window, the
 * p50 / p99 of cosine distance (1 − cosine similarity) and of max abs difference, and the share of
 * compared requests whose max abs difference is over a threshold; cumulative counts besides.
 * Failed shadow answers and skipped ones (the shadow fell behind) are counted apart: they are not
 * divergences, but an operator must see them.
 */
import type { ShadowDivergence } from '../contract/index.js';
import { quantile } from './slot-stats.js';

/** Default max-abs difference above which a shadow answer counts as diverging. */
export const DEFAULT_SHADOW_THRESHOLD = 0.1;

export class ShadowDivergenceWindow {
  private cos: number[] = [];
  private abs: number[] = [];
  private over = 0;
  private compared = 0;
  private totalOver = 0;
  private failed = 0;
  private incomparable = 0;

  constructor(readonly threshold = DEFAULT_SHADOW_THRESHOLD) {}

  add(d: { cosine: number; maxAbs: number } | null): void {
    if (d === null) {
      this.incomparable++;
      return;
    }
    this.compared++;
    this.cos.push(Math.max(0, 1 - d.cosine));
    this.abs.push(d.maxAbs);
    // A NaN difference is as far as it gets.
    if (!(d.maxAbs <= this.threshold)) {
      this.over++;
      this.totalOver++;
    }
  }

  fail(): void {
    this.failed++;
  }

  /** The window since the last call, plus cumulative counts; starts a new window. */
  take(versionRef: string, skipped: number): ShadowDivergence {
    const cos = this.cos.sort((a, b) => a - b);
    const abs = this.abs.sort((a, b) => a - b);
    const n = cos.length;
    const out: ShadowDivergence = {
      versionRef,
      threshold: this.threshold,
      window: {
        compared: n,
        overThreshold: this.over,
        overRate: n === 0 ? null : this.over / n,
        cosineDistanceP50: quantile(cos, 0.5),
        cosineDistanceP99: quantile(cos, 0.99),
        maxAbsP50: quantile(abs, 0.5),
        maxAbsP99: quantile(abs, 0.99),
      },
      total: { compared: this.compared, overThreshold: this.totalOver, failed: this.failed, skipped, incomparable: this.incomparable },
    };
    this.cos = [];
    this.abs = [];
    this.over = 0;
    return out;
  }
}
