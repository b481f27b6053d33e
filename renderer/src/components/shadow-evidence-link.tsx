import { useEffect, useState } from 'react';
import type { ShadowEvidenceView, SwitchyardErrorShape } from '@contract';
import { formatDateTime } from '../format';
import { useStores } from '../stores/context';
import { ErrorAlert } from './error-alert';

function num(n: number | null, digits = 4): string {
  return n === null ? '—' : n.toFixed(digits);
}

/**
 * Beside a `shadow.*` rule of a verdict: the shadow evidence that rule read (issue 13 item 2),
 * fetched on demand, with the live divergence when the candidate is in the shadow slot now and a
 * link to the Traffic page's Shadow card.
 */
export function ShadowEvidenceLink({ candidate, baseline, rule }: { candidate: string; baseline: string | null; rule?: { id: string; observed: number | null } }) {
  const { client } = useStores();
  const [open, setOpen] = useState(false);
  const [ev, setEv] = useState<ShadowEvidenceView | null>(null);
  const [error, setError] = useState<SwitchyardErrorShape | null>(null);
  useEffect(() => {
    if (!open) return;
    let live = true;
    void client.invoke('shadow.evidence', { candidate, ...(baseline ? { baseline } : {}) }).then((r) => {
      if (!live) return;
      if (r.ok) {
        setEv(r.value);
        setError(null);
      } else setError(r.error);
    });
    return () => {
      live = false;
    };
  }, [open, client, candidate, baseline]);
  return (
    <div className="shadow-evidence">
      <button type="button" className="link-button small" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
        Shadow evidence
      </button>
      {open && error && <ErrorAlert title="Could not load the shadow evidence" error={error} />}
      {open && ev && (
        <div className="shadow-evidence-body" role="region" aria-label={`Shadow evidence of ${ev.candidate}`}>
          {rule && (
            <p className="muted">
              The verdict read {rule.observed === null ? 'no value' : rule.observed.toLocaleString('en-US', { maximumFractionDigits: 4 })} for <code>{rule.id}</code>; the store holds now:
            </p>
          )}
          {ev.recorded ? (
            <p>
              {ev.candidate} answered <strong>{ev.requests.toLocaleString('en-US')}</strong> requests in the shadow slot beside {ev.baseline ?? 'the primary'} over{' '}
              {ev.sessions} serving {ev.sessions === 1 ? 'session' : 'sessions'}; largest max abs divergence{' '}
              <strong>{ev.maxDivergence === null ? 'infinite (a shadow answer failed)' : num(ev.maxDivergence)}</strong>
              {ev.errors > 0 ? `, ${ev.errors} failed answers` : ''}; last recorded {formatDateTime(ev.updatedAt)}.
            </p>
          ) : (
            <p className="muted">
              No shadow evidence of {ev.candidate} beside {ev.baseline ?? 'the primary'}: serve it with <code>--shadow-policy</code> next to production first.
            </p>
          )}
          {ev.live ? (
            <p>
              In the shadow slot now: {ev.live.total.compared.toLocaleString('en-US')} compared since loaded; newest window max abs p50/p99 {num(ev.live.window.maxAbsP50)} /{' '}
              {num(ev.live.window.maxAbsP99)}, over {ev.live.threshold}: {ev.live.window.overRate === null ? '—' : `${(ev.live.window.overRate * 100).toFixed(1)}%`}.{' '}
              <a href="#/traffic">Shadow card on Traffic</a>
            </p>
          ) : (
            <p className="muted">Not in the shadow slot of this server now.</p>
          )}
        </div>
      )}
    </div>
  );
}
