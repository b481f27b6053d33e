import { Fragment, useMemo, useState } from 'react';
import type { SliceComparison } from '@contract';
import {
  barPosition,
  deltaScale,
  deltaTone,
  formatPoints,
  formatPointsInterval,
  formatRateInterval,
  formatRatePct,
} from '../compare-format';
import { useCompare } from '../stores/context';
import { ScrollCue } from './scroll-cue';

const EMPTY: SliceComparison[] = [];

function RateCell({ rate }: { rate: SliceComparison['candidate'] | null }) {
  if (rate === null) return <td className="num muted">—</td>;
  return (
    <td className="num rate-cell" title={`${rate.passed} of ${rate.n} passed`}>
      <span className="rate">{formatRatePct(rate.rate)}</span>
      <span className="ci">{rate.n > 0 ? formatRateInterval(rate.interval) : ''}</span>
    </td>
  );
}

/** The difference and its interval on a symmetric scale around zero. */
function DeltaBar({ delta, scale }: { delta: NonNullable<SliceComparison['delta']>; scale: number }) {
  const lo = barPosition(delta.interval[0], scale);
  const hi = barPosition(delta.interval[1], scale);
  const at = barPosition(delta.estimate, scale);
  return (
    <span className={`delta-bar tone-${deltaTone(delta)}`} aria-hidden="true">
      <span className="delta-zero" />
      <span className="delta-range" style={{ left: `${lo}%`, width: `${Math.max(hi - lo, 0.8)}%` }} />
      <span className="delta-point" style={{ left: `${at}%` }} />
    </span>
  );
}

type Open = { slice: string; what: 'new' | 'fixed' } | null;

function CaseCount({
  slice,
  ids,
  what,
  open,
  onToggle,
}: {
  slice: string;
  ids: readonly string[];
  what: 'new' | 'fixed';
  open: boolean;
  onToggle: () => void;
}) {
  if (ids.length === 0) return <span className="muted">0</span>;
  const noun = what === 'new' ? (ids.length === 1 ? 'new failure' : 'new failures') : ids.length === 1 ? 'fixed case' : 'fixed cases';
  return (
    <button
      type="button"
      className={`count-button count-${what}`}
      aria-expanded={open}
      aria-controls={`slice-cases-${slice}`}
      aria-label={`${ids.length} ${noun} in ${slice === 'all' ? 'all cases' : slice}`}
      onClick={onToggle}
    >
      {ids.length}
      <span className="chevron" aria-hidden="true">
        {open ? '▾' : '▸'}
      </span>
    </button>
  );
}

/** Slice by slice: n, both pass rates with intervals, the difference, new failures and fixed cases. */
export function SlicesTable() {
  const slices = useCompare((s) => s.result?.comparison.slices ?? EMPTY);
  const confidence = useCompare((s) => s.result?.comparison.confidence ?? 0.95);
  const baselineLabel = useCompare((s) => s.result?.comparison.baseline.version ?? 'baseline');
  const candidateLabel = useCompare((s) => s.result?.comparison.candidate.version ?? 'candidate');
  const [open, setOpen] = useState<Open>(null);
  const scale = useMemo(() => deltaScale(slices.flatMap((s) => (s.delta ? [s.delta.interval] : []))), [slices]);
  const ci = `${Math.round(confidence * 100)}% CI`;
  const toggle = (slice: string, what: 'new' | 'fixed'): void =>
    setOpen((o) => (o !== null && o.slice === slice && o.what === what ? null : { slice, what }));
  const short = (ref: string): string => ref.slice(ref.lastIndexOf('@') + 1);

  return (
    <section className="card card-flush" aria-labelledby="slices-heading">
      <header className="card-header card-header-pad">
        <h2 id="slices-heading">Slices</h2>
        <span className="muted">
          pass rates with {ci} (Wilson); difference with {ci} (Newcombe); new failures and fixed cases are paired by case
        </span>
      </header>
      <ScrollCue label="Slices" bodyClassName="table-scroll">
        <table className="data-table slices-table" aria-label="Slices">
          <thead>
            <tr>
              <th scope="col">Slice</th>
              <th scope="col" className="num">
                n
              </th>
              <th scope="col" className="num" title={baselineLabel}>
                Baseline {short(baselineLabel)}
              </th>
              <th scope="col" className="num" title={candidateLabel}>
                Candidate {short(candidateLabel)}
              </th>
              <th scope="col" className="num">
                Δ candidate − baseline
              </th>
              <th scope="col" className="delta-bar-col">
                <span className="visually-hidden">Difference interval</span>
              </th>
              <th scope="col" className="num">
                New failures
              </th>
              <th scope="col" className="num">
                Fixed
              </th>
            </tr>
          </thead>
          <tbody>
            {slices.map((s) => {
              const tone = deltaTone(s.delta);
              const expanded = open !== null && open.slice === s.slice ? open.what : null;
              const ids = expanded === 'new' ? s.newFailures : expanded === 'fixed' ? s.fixed : [];
              return (
                <Fragment key={s.slice}>
                  <tr className={s.slice === 'all' ? 'total-row' : undefined}>
                    <th scope="row" className="slice-name">
                      {s.slice === 'all' ? 'all cases' : s.slice}
                    </th>
                    <td className="num">{s.n}</td>
                    <RateCell rate={s.baseline} />
                    <RateCell rate={s.candidate} />
                    <td className={`num delta-cell tone-${tone}`}>
                      <span className="delta-value">{formatPoints(s.delta?.estimate ?? null)}</span>
                      <span className="ci">{formatPointsInterval(s.delta?.interval ?? null)}</span>
                    </td>
                    <td className="delta-bar-col">{s.delta && <DeltaBar delta={s.delta} scale={scale} />}</td>
                    <td className="num">
                      <CaseCount slice={s.slice} ids={s.newFailures} what="new" open={expanded === 'new'} onToggle={() => toggle(s.slice, 'new')} />
                    </td>
                    <td className="num">
                      <CaseCount slice={s.slice} ids={s.fixed} what="fixed" open={expanded === 'fixed'} onToggle={() => toggle(s.slice, 'fixed')} />
                    </td>
                  </tr>
                  {expanded !== null && (
                    <tr className="expand-row" id={`slice-cases-${s.slice}`}>
                      <td colSpan={8}>
                        <span className="expand-title">
                          {expanded === 'new' ? 'Passed on the baseline, fail on the candidate' : 'Failed on the baseline, pass on the candidate'}:
                        </span>
                        <span className="case-ids">
                          {ids.map((id) => (
                            <code key={id} className="case-id">
                              {id}
                            </code>
                          ))}
                        </span>
                      </td>
                    </tr>
                  )}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      </ScrollCue>
      <p className="scale-note muted">
        Bars: the difference&apos;s interval on a scale of ±{Math.round(scale * 100)} points; green when the candidate is better
        throughout the interval, red when worse throughout.
      </p>
    </section>
  );
}
