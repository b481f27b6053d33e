import { useContext, useEffect } from 'react';
import type { Comparison } from '@contract';
import { CompareControls } from '../components/compare-controls';
import { DeterminismBadge } from '../components/determinism-badge';
import { EmptyState } from '../components/empty-state';
import { ErrorAlert } from '../components/error-alert';
import { EvalProgress } from '../components/eval-progress';
import { FailingCases } from '../components/failing-cases';
import { PageHeader } from '../components/page-header';
import { SlicesTable } from '../components/slices-table';
import { RulesTable, VerdictBanner } from '../components/verdict-panel';
import { formatTimestamp } from '../format';
import { useCompare, useStores } from '../stores/context';
import { selectBusy, selectResultIsStale, type CompareSelection } from '../stores/compare-store';
import { currentQuery, replaceQuery } from '../router';
import { RunDownloads } from '../components/run-downloads';
import { RunLink, VersionLink } from '../components/version-link';
import { errorHint } from '../error-hints';
import { NavigationContext } from './navigation';

export function ComparePage() {
  const { compare } = useStores();
  const { entered } = useContext(NavigationContext);
  const optionsStatus = useCompare((s) => s.optionsStatus);
  const optionsError = useCompare((s) => s.optionsError);
  const versionCount = useCompare((s) => s.policies.reduce((n, p) => n + p.versions.length, 0));
  const suiteCount = useCompare((s) => s.suites.length);
  const problem = useCompare((s) => s.problem);
  const notice = useCompare((s) => s.notice);
  const hasResult = useCompare((s) => s.result !== null);
  const busy = useCompare(selectBusy);
  const { load, dismissProblem } = compare.getState();

  // Versions, suites and rules may have changed since the page was last open (a promotion, a new suite).
  // Then the URL's selection (a shared link) applies, and from then on the URL follows the selection.
  useEffect(() => {
    let live = true;
    let stop = (): void => undefined;
    void compare
      .getState()
      .load()
      .then(() => {
        if (!live) return;
        const patch = selectionFromQuery(currentQuery());
        if (Object.keys(patch).length > 0) compare.getState().select(patch);
        const write = (sel: CompareSelection) => replaceQuery({ baseline: sel.baseline, candidate: sel.candidate, suite: sel.suite, rules: sel.rules });
        write(compare.getState().selection);
        stop = compare.subscribe((st, prev) => {
          if (st.selection !== prev.selection) write(st.selection);
        });
      });
    return () => {
      live = false;
      stop();
    };
  }, [compare]);

  const header = (
    <PageHeader title="Compare" focusOnMount={entered}>
      <button type="button" className="button" onClick={() => void load()} disabled={optionsStatus === 'loading'}>
        {optionsStatus === 'loading' ? 'Loading…' : 'Refresh'}
      </button>
    </PageHeader>
  );

  if (optionsStatus === 'ready' && (versionCount < 2 || suiteCount === 0)) {
    return (
      <div className="page">
        {header}
        <EmptyState title={versionCount < 2 ? 'Two versions are needed to compare' : 'No evaluation suite is recorded yet'}>
          <p>
            Compare evaluates two versions of a policy on a frozen suite and applies promotion rules. Build the demo workspace with{' '}
            <code>switchyard demo</code>, or register versions with <code>switchyard register PATH</code> and record a suite by
            evaluating one version on it:
          </p>
          <pre className="command">
            <code>switchyard eval POLICY@LABEL --suite SUITE.jsonl</code>
          </pre>
        </EmptyState>
      </div>
    );
  }

  return (
    <div className="page">
      {header}
      {optionsError && <ErrorAlert title="Could not load the versions, suites and rules" error={optionsError} hint={errorHint(optionsError)} onRetry={() => void load()} />}
      <CompareControls />
      {problem && <ErrorAlert title={problem.title} error={problem.error} hint={problem.hint} onDismiss={dismissProblem} />}
      {notice && <p className="note">{notice}</p>}
      <EvalProgress />
      {hasResult ? (
        <Results />
      ) : (
        optionsStatus === 'ready' &&
        !busy && (
          <p className="note">
            Choose two versions and press <strong>Run comparison</strong>. Versions without a completed run on the suite are evaluated
            first (a few seconds on the demo suite); the rules then decide GO, NO-GO or INCONCLUSIVE.
          </p>
        )
      )}
    </div>
  );
}

function RunFacts({ side }: { side: Comparison['candidate'] }) {
  return (
    <>
      <span className="run-version">
        <VersionLink reference={side.version} />
      </span>
      <span className={`badge stage-${side.stage}`}>{side.stage}</span>
      <code className="mono muted" title={side.modelVersion}>
        {side.modelVersion}
      </code>
      <span className="muted">
        <RunLink id={side.runId} />
        {side.runKind === 'imported' ? ' (imported)' : ''} · {formatTimestamp(side.evaluatedAt)}
      </span>
    </>
  );
}

/** The selection a shared URL names; `rules` only when present (its presence means "chosen"). */
function selectionFromQuery(q: URLSearchParams): Partial<CompareSelection> {
  const patch: Partial<CompareSelection> = {};
  for (const key of ['baseline', 'candidate', 'suite'] as const) {
    const v = q.get(key);
    if (v) patch[key] = v;
  }
  if (q.has('rules')) patch.rules = q.get('rules') || null;
  return patch;
}

function Results() {
  const restoredAt = useCompare((s) => s.restoredAt);
  const stale = useCompare(selectResultIsStale);
  const comparison = useCompare((s) => s.result?.comparison ?? null);
  const gateError = useCompare((s) => s.result?.gateError ?? null);
  const hadRules = useCompare((s) => s.result?.for.rules !== null);
  if (comparison === null) return null;
  return (
    <div className={stale ? 'results is-stale' : 'results'}>
      {restoredAt && (
        <p className="note" role="note" aria-label="Restored comparison">
          The comparison from your last visit ({formatTimestamp(restoredAt)}), kept across the reload. Run it again to recompute it from the store.
        </p>
      )}
      {stale && (
        <p className="stale-note">
          These results are for {comparison.candidate.version} against {comparison.baseline.version}
          {hadRules ? ' with the rules chosen then' : ''}: the selection has changed since. Run the comparison to update them.
        </p>
      )}
      <VerdictBanner />
      {gateError && <ErrorAlert title="The rules could not be applied" error={gateError} hint="The slices below are still valid; fix the rules file and run the comparison again." />}
      {!hadRules && <p className="note">No rules chosen: the slices are compared, but no verdict is given. Choose rules to get GO / NO-GO.</p>}
      <section className="card run-summary" aria-label="Runs compared">
        <dl className="run-facts">
          <dt>Suite</dt>
          <dd>
            <strong>{comparison.suite.name}</strong>
            <code className="mono muted" title={comparison.suite.fingerprint}>
              {comparison.suite.fingerprint.slice(0, 12)}
            </code>
            <span className="muted">{Math.round(comparison.confidence * 100)}% confidence</span>
          </dd>
          <dt>Baseline</dt>
          <dd>
            <RunFacts side={comparison.baseline} />
          </dd>
          <dt>Candidate</dt>
          <dd>
            <RunFacts side={comparison.candidate} />
          </dd>
          <dt>Determinism</dt>
          <dd>
            <DeterminismBadge badge={comparison.determinism} />
          </dd>
        </dl>
      </section>
      <SlicesTable />
      <RulesTable />
      <FailingCases />
      <RunDownloads candidate={comparison.candidate} baseline={comparison.baseline} />
    </div>
  );
}
