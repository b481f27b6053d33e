import { useCallback, useContext, useEffect, useState } from 'react';
import type { HistoryEntry, SwitchyardErrorShape, VerdictSummary } from '@contract';
import { ErrorAlert } from '../components/error-alert';
import { PageHeader } from '../components/page-header';
import { verdictHeadline } from '../components/lifecycle-verdict';
import { RuleEvidenceTable } from '../components/verdict-panel';
import { VersionLink } from '../components/version-link';
import { formatTimestamp } from '../format';
import { errorHint } from '../error-hints';
import { compareHref, currentQuery, useHash } from '../router';
import { useStores } from '../stores/context';
import { actionText } from '../components/stage-timeline';
import { ForcedMark, StageBadge } from '../components/badges';
import { NavigationContext } from './navigation';

const VERDICT_CLASS: Record<VerdictSummary['verdict'], string> = { GO: 'go', 'NO-GO': 'nogo', INCONCLUSIVE: 'inconclusive' };

type Loaded =
  | { status: 'loading' }
  | { status: 'error'; error: SwitchyardErrorShape }
  | { status: 'missing' }
  | { status: 'ready'; verdict: VerdictSummary; resting: HistoryEntry[] };

/** Which verdict the URL names (`#/verdict?policy=P&id=N`); null when it names none. */
export function verdictFromQuery(q: URLSearchParams): { policy: string; id: number } | null {
  const policy = q.get('policy');
  const id = Number(q.get('id'));
  if (!policy || !Number.isInteger(id) || id <= 0) return null;
  return { policy, id };
}

/**
 * One stored verdict, as a link opens it: every rule with its evidence, what it compared, and the
 * stage changes that rested on it. The URL carries the verdict, so a reload or a shared link shows
 * the same one.
 */
export function VerdictPage() {
  const { client } = useStores();
  const { entered } = useContext(NavigationContext);
  useHash();
  const target = verdictFromQuery(currentQuery());
  const policy = target?.policy ?? null;
  const id = target?.id ?? null;
  const [state, setState] = useState<Loaded>({ status: 'loading' });

  const load = useCallback(async () => {
    if (policy === null || id === null) return;
    setState({ status: 'loading' });
    const [v, h] = await Promise.all([client.invoke('verdicts.list', { policy, id }), client.invoke('lifecycle.history', { policy })]);
    if (!v.ok) return setState({ status: 'error', error: v.error });
    const verdict = v.value.verdicts[0];
    if (verdict === undefined) return setState({ status: 'missing' });
    const resting = h.ok ? h.value.entries.filter((e) => e.verdictId === verdict.id) : [];
    setState({ status: 'ready', verdict, resting });
  }, [client, policy, id]);

  useEffect(() => {
    void load();
  }, [load]);

  const title = target === null ? 'Verdict' : `Verdict #${target.id}`;
  return (
    <div className="page detail-page">
      <PageHeader title={title} focusOnMount={entered}>
        {target !== null && <span className="muted">{target.policy}</span>}
        <button type="button" className="button" onClick={() => void load()} disabled={target === null || state.status === 'loading'}>
          {state.status === 'loading' ? 'Loading…' : 'Refresh'}
        </button>
      </PageHeader>
      {target === null && <p className="note">This link names no verdict. Verdict links look like #/verdict?policy=POLICY&amp;id=N.</p>}
      {target !== null && state.status === 'error' && <ErrorAlert title={`Could not load verdict #${target.id}`} error={state.error} hint={errorHint(state.error)} onRetry={() => void load()} />}
      {target !== null && state.status === 'missing' && (
        <p className="note" role="note">
          There is no verdict #{target.id} for {target.policy} in this store. It may belong to another policy or another store.
        </p>
      )}
      {state.status === 'ready' && <VerdictDetail verdict={state.verdict} resting={state.resting} />}
    </div>
  );
}

function VerdictDetail({ verdict: v, resting }: { verdict: VerdictSummary; resting: HistoryEntry[] }) {
  const cls = VERDICT_CLASS[v.verdict];
  return (
    <>
      <div className={`verdict-banner verdict-banner-${cls}`} role="status" aria-label="Verdict">
        <span className="verdict-word">{v.verdict}</span>
        <div className="verdict-body">
          <p className="verdict-headline">{verdictHeadline(v)}</p>
          {v.verdict !== 'GO' && <p className="verdict-summary">{v.summary}</p>}
        </div>
      </div>
      <section className="card" aria-label="What was judged">
        <dl className="run-facts">
          <dt>Candidate</dt>
          <dd>
            <VersionLink reference={v.candidate} />
          </dd>
          <dt>Baseline</dt>
          <dd>{v.baseline === null ? <span className="muted">none</span> : <VersionLink reference={v.baseline} />}</dd>
          <dt>Transition</dt>
          <dd>{v.transition.replace('->', ' → ')}</dd>
          <dt>Suite</dt>
          <dd>
            {v.suite ?? <span className="muted">not recorded</span>}
            {v.suiteFingerprint !== null && (
              <code className="mono muted" title={v.suiteFingerprint}>
                {v.suiteFingerprint.slice(0, 12)}
              </code>
            )}
          </dd>
          <dt>Rules file</dt>
          <dd>
            {v.rulesFile === null ? <span className="muted">not recorded</span> : <code className="mono path">{v.rulesFile}</code>}
            <code className="mono muted" title={`rules hash ${v.rulesHash}`}>
              {v.rulesHash.slice(0, 12)}
            </code>
          </dd>
          <dt>Decided</dt>
          <dd>
            <time dateTime={v.createdAt}>{formatTimestamp(v.createdAt)}</time>
          </dd>
        </dl>
        <p className="detail-actions">
          <a className="button" href={compareHref({ candidate: v.candidate, baseline: v.baseline, suite: v.suiteFingerprint })}>
            Open in Compare
          </a>
        </p>
      </section>
      <RuleEvidenceTable rules={v.rules} candidate={v.candidate} baseline={v.baseline} />
      <section className="card" aria-labelledby="resting-heading">
        <header className="card-header">
          <h2 id="resting-heading">Stage changes that rest on it</h2>
        </header>
        {resting.length === 0 ? (
          <p className="muted">No stage change cites verdict #{v.id}.</p>
        ) : (
          <ul className="resting-list">
            {resting.map((e) => (
              <li key={e.id}>
                <time dateTime={e.at}>{formatTimestamp(e.at)}</time> <VersionLink reference={`${e.policy}@${e.label}`}>{e.label}</VersionLink>{' '}
                {e.from === null ? 'new' : <StageBadge stage={e.from} />} → <StageBadge stage={e.to} /> {actionText(e)} by {e.actor}
                {e.forced && <ForcedMark reason={e.reason} />}
              </li>
            ))}
          </ul>
        )}
      </section>
      {v.failingCases.length > 0 && (
        <section className="card" aria-labelledby="verdict-cases-heading">
          <header className="card-header">
            <h2 id="verdict-cases-heading">
              Failing cases <span className="count-pill">{v.failingCases.length}</span>
            </h2>
          </header>
          <p className="case-ids">
            {v.failingCases.map((id) => (
              <code key={id} className="case-id">
                {id}
              </code>
            ))}
          </p>
        </section>
      )}
    </>
  );
}
