import { useMemo } from 'react';
import type { ShadowDivergence } from '@contract';
import { useServing, useStats } from '../stores/context';

function num(v: number | null, digits = 3): string {
  return v === null ? '—' : v.toFixed(digits);
}

function pct(v: number | null): string {
  return v === null ? '—' : `${(v * 100).toFixed(1)}%`;
}

/** Newest shadow numbers: the last window that compared anything, and the running totals. */
export function latestShadow(samples: readonly { shadow?: ShadowDivergence | undefined }[]): { last: ShadowDivergence | null; recent: ShadowDivergence | null } {
  let last: ShadowDivergence | null = null;
  let recent: ShadowDivergence | null = null;
  for (let i = samples.length - 1; i >= 0; i--) {
    const s = samples[i]?.shadow;
    if (!s) continue;
    last ??= s;
    if (s.window.compared > 0) {
      recent = s;
      break;
    }
  }
  return { last, recent };
}

/**
 * How far the shadow slot's answers are from the primary's (spec §5): over the newest stats
 * window, the share over the threshold and p50 / p99 of cosine distance and max abs difference;
 * since loading, what was compared, failed or skipped. This is the evidence the staging →
 * production rules read (`shadow: { min_requests, max_divergence }`).
 */
export function ShadowCard() {
  const samples = useStats((s) => s.samples);
  // Before the first stats sample arrives (a page just opened), the state carries the newest window.
  const fromState = useServing((s) => s.state?.shadowDivergence ?? null);
  const fromStats = useMemo(() => latestShadow(samples), [samples]);
  const last = fromStats.last ?? fromState;
  const recent = fromStats.last !== null ? fromStats.recent : fromState !== null && fromState.window.compared > 0 ? fromState : null;
  if (last === null) return null;
  const w = recent?.window ?? null;
  const t = last.total;
  const tone = w === null ? '' : w.overRate !== null && w.overRate > 0 ? ' is-diverging' : ' is-agreeing';
  return (
    <section className={`card shadow-card${tone}`} aria-labelledby="shadow-heading">
      <header className="card-header">
        <h2 id="shadow-heading">Shadow divergence</h2>
        <span className="muted">
          <strong>{last.versionRef}</strong> against the primary answers · over threshold: max abs &gt; {last.threshold}
        </span>
      </header>
      <dl className="shadow-facts" aria-label="Shadow divergence, newest window">
        <div>
          <dt>Over threshold</dt>
          <dd>{w === null ? '—' : `${pct(w.overRate)} (${w.overThreshold} of ${w.compared})`}</dd>
        </div>
        <div>
          <dt>Cosine distance p50 / p99</dt>
          <dd className="mono">
            {num(w?.cosineDistanceP50 ?? null, 4)} / {num(w?.cosineDistanceP99 ?? null, 4)}
          </dd>
        </div>
        <div>
          <dt>Max abs p50 / p99</dt>
          <dd className="mono">
            {num(w?.maxAbsP50 ?? null)} / {num(w?.maxAbsP99 ?? null)}
          </dd>
        </div>
      </dl>
      <p className="muted shadow-totals" aria-label="Shadow totals">
        Since loaded: {t.compared} compared, {t.overThreshold} over threshold ({pct(t.compared === 0 ? null : t.overThreshold / t.compared)}), {t.failed} failed, {t.skipped}{' '}
        skipped (shadow behind), {t.incomparable} of another shape.
        {w === null && ' No shadow answer compared yet: send /act requests to the primary.'}
      </p>
    </section>
  );
}
