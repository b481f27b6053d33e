import type { VerdictSummary } from '@contract';
import { formatTimestamp } from '../format';
import { fileName, labelOf } from '../stores/lifecycle-logic';
import { VerdictLink, VersionLink } from './version-link';

const VERDICT_CLASS: Record<VerdictSummary['verdict'], string> = { GO: 'go', 'NO-GO': 'nogo', INCONCLUSIVE: 'inconclusive' };

/** The one line that says why: the summary of a GO, how many rules failed (or were undecided) otherwise. */
export function verdictHeadline(v: VerdictSummary): string {
  const failed = v.rules.filter((r) => r.pass === false).length;
  const undecided = v.rules.filter((r) => r.pass === null).length;
  if (v.verdict === 'GO') return v.summary;
  if (v.verdict === 'NO-GO') return `${failed} of ${v.rules.length} rules failed`;
  return `${undecided} of ${v.rules.length} rules could not be decided${failed > 0 ? `, ${failed} failed` : ''}`;
}

interface Props {
  verdict: VerdictSummary;
  /** Why it may no longer hold (empty: it does, as far as the workbench can tell). */
  stale: readonly string[];
  /** The region's accessible name. */
  label: string;
}

/** A stored verdict: GO / NO-GO / INCONCLUSIVE, the summary line, the failing rules, staleness. */
export function LifecycleVerdict({ verdict: v, stale, label }: Props) {
  const cls = VERDICT_CLASS[v.verdict];
  const failing = v.rules.filter((r) => r.pass !== true);
  return (
    <section className={`lc-verdict lc-verdict-${cls}${stale.length > 0 ? ' is-stale' : ''}`} aria-label={label}>
      <div className="lc-verdict-head">
        <span className="lc-verdict-word">{v.verdict}</span>
        <div className="lc-verdict-text">
          <p className="lc-verdict-headline" title={v.summary}>
            {verdictHeadline(v)}
          </p>
          <p className="lc-verdict-meta">
            <VerdictLink policy={v.policy} id={v.id} /> · {v.transition.replace('->', ' → ')} ·{' '}
            {v.rulesFile === null ? 'rules file not recorded' : <span title={v.rulesFile}>{fileName(v.rulesFile)}</span>} · baseline{' '}
            {v.baseline === null ? 'none' : <VersionLink reference={v.baseline}>{labelOf(v.baseline)}</VersionLink>} · {formatTimestamp(v.createdAt)}
          </p>
        </div>
      </div>
      {failing.length > 0 && (
        <ul className="lc-failing" aria-label={v.verdict === 'INCONCLUSIVE' ? 'Undecided and failing rules' : 'Failing rules'}>
          {failing.map((r) => (
            <li key={r.id}>
              <span className={r.pass === null ? 'badge result-undecided' : 'badge result-fail'}>{r.pass === null ? 'UNDECIDED' : 'FAIL'}</span>
              <code>{r.id}</code>
              <span className="lc-failing-note">{r.note}</span>
            </li>
          ))}
        </ul>
      )}
      {stale.length > 0 && (
        <div className="lc-stale">
          <p className="lc-stale-title">This verdict may no longer hold:</p>
          <ul>
            {stale.map((s) => (
              <li key={s}>{s}</li>
            ))}
          </ul>
          <p>Run the gate again for a fresh verdict; promoting on this one needs a reason (an override).</p>
        </div>
      )}
    </section>
  );
}
